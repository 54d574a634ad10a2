// Host entry points of the CUDA kernels, one group per kernels/<op>.cu. Each launcher checks the
// types and shapes of its views (throwing Error through launch_check.h), enqueues its kernel on
// `stream` and checks the launch; none waits. Values that live on the device (ids, slots, block
// tables, rows) are checked by the kernels, which report into `error` (device_error.h).
// Tensors here are device views; layouts are those of backend.h / kv_pool.h.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <span>

#include "backend/cuda/device_error.h"
#include "backend/cuda/launch_check.h"
#include "backend/kv_pool.h"
#include "backend/rope.h"
#include "backend/tensor.h"

namespace ingot::cuda {

using backend::AttentionBatch;
using backend::KvPool;
using backend::RopeTable;
using backend::Tensor;
using quant::Type;

// True for the weight types kernels/dequant.cuh handles.
bool is_weight_type_supported(quant::Type type) noexcept;
// "F32, F16, ..." for messages.
const char* supported_weight_types();

// embed.cu: out[d, n] = rows ids[n] of weight[d, vocab], dequantized.
void launch_embed(const Tensor& ids, const Tensor& weight, const Tensor& out,
                  DeviceErrorWord* error, cudaStream_t stream);

// rms_norm.cu: out = x / rms(x) * weight (out may alias x); residual += x then the same;
// and the gathered form used by logits: out[i] = rms_norm(x[rows[i]]) * weight.
// With `xq` (16-aligned, matvec_xq8_bytes(d)), a one-row output whose d is a multiple of 32 is
// also written there in the 8-bit layout launch_quantize_x_q8 makes (the same values); the
// return value says whether it was.
bool launch_rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& out,
                     cudaStream_t stream, uint8_t* xq = nullptr);
bool launch_add_rms_norm(const Tensor& residual, const Tensor& x, const Tensor& weight, float eps,
                         const Tensor& out, cudaStream_t stream, uint8_t* xq = nullptr);
void launch_gather_rms_norm(const Tensor& x, const Tensor& rows, const Tensor& weight, float eps,
                            const Tensor& out, DeviceErrorWord* error, cudaStream_t stream);

// rope.cu: in place on x[n_heads * head_dim, n_tokens] (any row stride).
void launch_rope(const Tensor& x, const Tensor& positions, const RopeTable& table,
                 cudaStream_t stream);

// write_kv.cu, copy_blocks.cu: the paged KV cache.
void launch_write_kv(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                     const Tensor& slot_mapping, DeviceErrorWord* error, cudaStream_t stream);
// rope_write_kv.cu: rope on q and k, then k and v stored, in one launch (same results).
void launch_rope_write_kv(const Tensor& q, const Tensor& k, const Tensor& v,
                          const Tensor& positions, const RopeTable& table, const KvPool& pool,
                          int64_t layer, const Tensor& slot_mapping, DeviceErrorWord* error,
                          cudaStream_t stream);
void launch_copy_blocks(const KvPool& pool, const Tensor& pairs, DeviceErrorWord* error,
                        cudaStream_t stream);

// attention.cu (kernels attention_decode.cu, attention_flash.cu, attention_reference.cu): out =
// softmax(q K^T * scale) V over the paged cache, causal within each sequence's chunk, GQA.
// `scratch` holds the split-K partials (device memory the stream owns for the call; unused by
// the reference path). Options are for tests and benchmarks: force the reference kernel, the
// flash kernel for one-row-per-sequence batches (as INGOT_ATTENTION=flash does; =reference
// forces the reference kernel), or a number of splits (at most kAttentionMaxSplits).
struct DeviceScratch {
  void* data = nullptr;
  size_t bytes = 0;
};
struct AttentionOptions {
  bool reference = false;
  int n_splits = 0;    // 0: chosen from the batch
  bool flash = false;  // never the decode kernel
};
inline constexpr int kAttentionMaxSplits = 32;
// The kernel launch_attention takes for these shapes: "decode", "flash" or "reference".
const char* attention_kernel_name(Type pool_type, int64_t head_dim, int64_t group, int64_t n_tokens,
                                  int64_t n_seqs, const AttentionOptions& options = {});
void launch_attention(const Tensor& q, const KvPool& pool, int64_t layer,
                      const AttentionBatch& batch, float scale, const Tensor& out,
                      const DeviceScratch& scratch, DeviceErrorWord* error, cudaStream_t stream,
                      const AttentionOptions& options = {});

// Element-wise ops (swiglu.cu, gelu.cu, add.cu, scale.cu): F32 [d, n], out may alias inputs.
void launch_swiglu(const Tensor& gate, const Tensor& up, const Tensor& out, cudaStream_t stream);
void launch_gelu(const Tensor& x, const Tensor& out, cudaStream_t stream);
void launch_add(const Tensor& a, const Tensor& b, const Tensor& out, cudaStream_t stream);
void launch_scale(const Tensor& x, float factor, const Tensor& out, cudaStream_t stream);

// matvec.cu: the decode matmul, out[n_out, n_tokens] = x * w^T (+ bias) for n_tokens <=
// kMatvecMaxTokens; weights dequantized in registers. `scratch` (16-aligned, may be null): one
// token's 8-bit activations go there when it holds matvec_xq8_bytes(k) (matvec.cuh);
// x_in_scratch: they are there already (written by the norm that produced x).
inline constexpr int64_t kMatvecMaxTokens = 8;
void launch_matvec(const Tensor& x, const Tensor& w, const float* bias, const Tensor& out,
                   cudaStream_t stream, uint8_t* scratch = nullptr, size_t scratch_bytes = 0,
                   bool x_in_scratch = false);
// Several weights of one input x (Q/K/V): one token's activation quantized once, and weights of
// one type read by one launch (up to three per launch). Shapes checked by the caller.
struct MatvecTarget {
  const Tensor* w;
  const float* bias;  // or null
  const Tensor* out;
};
void launch_matvec_many(const Tensor& x, std::span<const MatvecTarget> targets, cudaStream_t stream,
                        uint8_t* scratch = nullptr, size_t scratch_bytes = 0,
                        bool x_in_scratch = false);
// out = silu(x w_gate^T) * (x w_up^T) in one launch (each block reads the same rows of both).
// Returns false, launching nothing, when the weights' types, strides or alignment do not allow
// it; the caller then runs two matvecs and the swiglu.
bool launch_matvec_gated(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                         const Tensor& out, cudaStream_t stream, uint8_t* scratch = nullptr,
                         size_t scratch_bytes = 0, bool x_in_scratch = false);

// convert.cu: the prefill matmul's operands in 16 bits. Rows [row0, row0 + n_rows) of w
// dequantized to dense f16 [w.ne0, n_rows] at `dst`; x rows to dense f16 or bf16 at `dst`.
void launch_dequantize_rows_f16(const Tensor& w, int64_t row0, int64_t n_rows, void* dst,
                                cudaStream_t stream);
void launch_convert_rows(const Tensor& x, quant::Type to, void* dst, cudaStream_t stream);

// bias.cu: out[r, t] += bias[r].
void launch_add_bias(const float* bias, const Tensor& out, cudaStream_t stream);

}  // namespace ingot::cuda
