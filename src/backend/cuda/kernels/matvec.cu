// matvec: the decode matmul (n_tokens <= kMatvecMaxTokens), out[n_out, n_tokens] = x * w^T
// (+ bias). Picks the staged kernel of the weight's family (matvec_staged.cuh: 16-byte
// coalesced weight loads, dequantization in registers; one token on Q4_K/Q5_K/Q6_K/Q8_0: 8-bit
// activations quantized once into `scratch` when it holds them, and __dp4a; else f32
// activations) when the shapes allow
// 16-byte loads, else the byte-granular fallback. The choice depends on shapes and pointers
// only, never on device values, so a decode step can be captured in a CUDA graph.
// INGOT_MATVEC_FALLBACK=1 forces the fallback everywhere (to compare the two in a profile);
// INGOT_MATVEC_ACT=f32 keeps f32 activations for one token (no 8-bit quantization);
// INGOT_MATVEC_ACT=regs quantizes them per block in registers instead of once per call into the
// caller's scratch (launch_quantize_x_q8), to compare the two.
#include <cstdlib>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/matvec.cuh"

namespace ingot::cuda {
namespace {

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

bool fallback_forced() {
  static const bool forced = [] {
    const char* v = std::getenv("INGOT_MATVEC_FALLBACK");
    return v != nullptr && v[0] == '1';
  }();
  return forced;
}

// INGOT_MATVEC_ACT=f32 keeps one-token activations in f32 (to compare with 8-bit ones).
bool f32_activations_forced() {
  static const bool forced = [] {
    const char* v = std::getenv("INGOT_MATVEC_ACT");
    return v != nullptr && std::string(v) == "f32";
  }();
  return forced;
}

// INGOT_MATVEC_ACT=regs: one-token 8-bit activations quantized per block, not once per call.
bool per_block_activations_forced() {
  static const bool forced = [] {
    const char* v = std::getenv("INGOT_MATVEC_ACT");
    return v != nullptr && std::string(v) == "regs";
  }();
  return forced;
}

// The types whose staged unit has dot_q8 (matvec_units.cuh).
bool has_dot_q8(Type type) {
  return type == Type::Q4_K || type == Type::Q5_K || type == Type::Q6_K || type == Type::Q8_0;
}

}  // namespace

int matvec_unit_elements(Type type) {
  return quant::traits(type).block_elements == 1 ? 8 : 32;
}

void launch_matvec(const Tensor& x, const Tensor& w, const float* bias, const Tensor& out,
                   cudaStream_t stream, uint8_t* scratch, size_t scratch_bytes) {
  const int64_t n_tokens = x.n_rows(), n_out = w.n_rows(), k = x.ne0();
  if (n_tokens > kMatvecMaxTokens) fail_argument("matmul", "matvec takes at most 8 tokens");
  if (n_tokens == 0 || n_out == 0) return;
  if (!is_weight_type_supported(w.type)) {
    fail_unsupported("matmul", "the CUDA backend cannot compute with " +
                                   std::string(quant::name(w.type)) + " weights");
  }
  MatvecArgs args{};
  args.w = static_cast<const uint8_t*>(w.data);
  args.w_stride = w.row_stride;
  args.row_bytes = static_cast<int64_t>(quant::row_bytes(w.type, static_cast<uint64_t>(k)));
  args.n_out = n_out;
  args.k = k;
  args.x = static_cast<const float*>(x.data);
  args.x_stride = x.row_stride / 4;
  args.n_tokens = static_cast<int>(n_tokens);
  args.bias = bias;
  args.out = static_cast<float*>(out.data);
  args.out_stride = out.row_stride / 4;
  args.q8_activations = !f32_activations_forced();

  const bool staged = !fallback_forced() && aligned16(w.data) && w.row_stride % 16 == 0 &&
                      args.row_bytes % 16 == 0 && aligned16(x.data) && x.row_stride % 16 == 0 &&
                      k % matvec_unit_elements(w.type) == 0;
  if (!staged) return launch_matvec_fallback(w.type, args, stream);
  if (n_tokens == 1 && args.q8_activations && has_dot_q8(w.type) &&
      !per_block_activations_forced() && aligned16(scratch) &&
      matvec_xq8_bytes(k) <= scratch_bytes) {
    launch_quantize_x_q8(args.x, k, scratch, stream);
    args.xq = scratch;
  }
  switch (w.type) {
    case Type::F32:
    case Type::F16:
    case Type::BF16: return launch_matvec_float(w.type, args, stream);
    case Type::Q4_K:
    case Type::Q5_K:
    case Type::Q6_K: return launch_matvec_kquant(w.type, args, stream);
    default: return launch_matvec_quant(w.type, args, stream);
  }
}

}  // namespace ingot::cuda
