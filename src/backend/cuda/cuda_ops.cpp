// CudaBackend ops other than matmul: each forwards to its launcher in kernels/ (which checks
// types and shapes) on the compute stream, with the device error word for device-side checks.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/matvec.cuh"
#include "core/checked_math.h"
#include "core/error.h"

namespace ingot::cuda {

void CudaBackend::embed(const Tensor& ids, const Tensor& weight, const Tensor& out) {
  activate();
  launch_embed(ids, weight, out, device_error(), stream_.get());
}

uint8_t* CudaBackend::norm_q8_scratch(const Tensor& out) {
  const bool fits = out.n_rows() == 1 && out.ne0() % 32 == 0 &&
                    matvec_xq8_bytes(out.ne0()) <= activations_16_.size() &&
                    reinterpret_cast<uintptr_t>(activations_16_.data()) % 16 == 0;
  return fits ? static_cast<uint8_t*>(activations_16_.data()) : nullptr;
}

void CudaBackend::remember_norm_q8(const Tensor& out, bool written) {
  norm_q8_ = written ? NormQ8{out.data, out.ne0(), ops_} : NormQ8{};
}

bool CudaBackend::x_in_scratch(const Tensor& x) const {
  return norm_q8_.data != nullptr && norm_q8_.op + 1 == ops_ && x.data == norm_q8_.data &&
         x.ne0() == norm_q8_.k && x.n_rows() == 1;
}

void CudaBackend::rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& out) {
  activate();
  remember_norm_q8(out, launch_rms_norm(x, weight, eps, out, stream_.get(), norm_q8_scratch(out)));
}

void CudaBackend::add_rms_norm(const Tensor& residual, const Tensor& x, const Tensor& weight,
                               float eps, const Tensor& out) {
  activate();
  remember_norm_q8(out, launch_add_rms_norm(residual, x, weight, eps, out, stream_.get(),
                                            norm_q8_scratch(out)));
}

void CudaBackend::rope(const Tensor& x, const Tensor& positions, const RopeTable& table) {
  activate();
  launch_rope(x, positions, table, stream_.get());
}

void CudaBackend::write_kv(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                           const Tensor& slot_mapping) {
  activate();
  launch_write_kv(pool, layer, k, v, slot_mapping, device_error(), stream_.get());
}

void CudaBackend::rope_write_kv(const Tensor& q, const Tensor& k, const Tensor& v,
                                const Tensor& positions, const RopeTable& table,
                                const KvPool& pool, int64_t layer, const Tensor& slot_mapping) {
  activate();
  launch_rope_write_kv(q, k, v, positions, table, pool, layer, slot_mapping, device_error(),
                       stream_.get());
}

void CudaBackend::attention(const Tensor& q, const KvPool& pool, int64_t layer,
                            const AttentionBatch& batch, float scale, const Tensor& out) {
  activate();
  // Split-K partials borrow the dequantization workspace: ops on the stream never overlap.
  launch_attention(q, pool, layer, batch, scale, out,
                   DeviceScratch{weights_16_.data(), weights_16_.size()}, device_error(),
                   stream_.get());
}

void CudaBackend::copy_blocks(const KvPool& pool, const Tensor& pairs) {
  activate();
  launch_copy_blocks(pool, pairs, device_error(), stream_.get());
}

void CudaBackend::swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) {
  activate();
  launch_swiglu(gate, up, out, stream_.get());
}

void CudaBackend::gelu(const Tensor& x, const Tensor& out) {
  activate();
  launch_gelu(x, out, stream_.get());
}

void CudaBackend::add(const Tensor& a, const Tensor& b, const Tensor& out) {
  activate();
  launch_add(a, b, out, stream_.get());
}

void CudaBackend::scale(const Tensor& x, float factor, const Tensor& out) {
  activate();
  launch_scale(x, factor, out, stream_.get());
}

void CudaBackend::logits(const Tensor& hidden, const Tensor& rows, const Tensor& norm_weight,
                         float eps, const Tensor& output_weight, const Tensor& out) {
  activate();
  backend::expect_type(rows, quant::Type::I32, "logits", "rows");
  const int64_t n = rows.ne0() * rows.n_rows();
  const int64_t d = hidden.ne0();
  const uint64_t need = checked_mul(checked_mul(static_cast<uint64_t>(n), static_cast<uint64_t>(d),
                                                "logits rows", ErrorCode::out_of_range),
                                    uint64_t{4}, "logits rows", ErrorCode::out_of_range);
  if (need > logit_rows_.size()) {
    fail(ErrorCode::out_of_range,
         "logits: {} rows of {} exceed the workspace planned by reserve() ({} rows of {})", n, d,
         plan_.max_logit_rows, plan_.max_row_elements);
  }
  const Tensor gathered =
      backend::make_tensor(logit_rows_.data(), quant::Type::F32, Shape::of(d, n));
  launch_gather_rms_norm(hidden, rows, norm_weight, eps, gathered, device_error(), stream_.get());
  matmul(gathered, output_weight, nullptr, out);
}

}  // namespace ingot::cuda
