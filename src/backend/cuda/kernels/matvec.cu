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
// launch_matvec_many quantizes one input once for several weights and reads up to three weights
// of one type in one launch; launch_matvec_gated fuses the SwiGLU's gate, up and silu(g)*u.
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

// One-token launches of at least this many output rows use 4 rows per block, else 2. Measured
// on an H100 (docs/PERFORMANCE.md): quantized weights gain from 2 rows up to 4096 outputs
// (8B Q4_K_M tg128 319 -> 328), F16 loses (174 -> 172). INGOT_MATVEC_FOUR_ROWS_FROM=N overrides.
int64_t four_rows_min_out(Type type) {
  static const int64_t forced = [] {
    const char* v = std::getenv("INGOT_MATVEC_FOUR_ROWS_FROM");
    return v != nullptr ? std::atoll(v) : int64_t{0};
  }();
  if (forced > 0) return forced;
  return quant::traits(type).block_elements == 1 ? 4096 : 8192;
}

// The types whose staged unit has dot_q8 (matvec_units.cuh).
bool has_dot_q8(Type type) {
  return type == Type::Q4_K || type == Type::Q5_K || type == Type::Q6_K || type == Type::Q8_0;
}

}  // namespace

int matvec_unit_elements(Type type) {
  return quant::traits(type).block_elements == 1 ? 8 : 32;
}

namespace {

void check_matvec_weight(int64_t n_tokens, const Tensor& w) {
  if (n_tokens > kMatvecMaxTokens) fail_argument("matmul", "matvec takes at most 8 tokens");
  if (!is_weight_type_supported(w.type)) {
    fail_unsupported("matmul", "the CUDA backend cannot compute with " +
                                   std::string(quant::name(w.type)) + " weights");
  }
}

MatvecArgs make_args(const Tensor& x, const Tensor& w, const float* bias, const Tensor& out) {
  const int64_t k = x.ne0();
  MatvecArgs args{};
  args.w = static_cast<const uint8_t*>(w.data);
  args.w_stride = w.row_stride;
  args.row_bytes = static_cast<int64_t>(quant::row_bytes(w.type, static_cast<uint64_t>(k)));
  args.n_out = w.n_rows();
  args.k = k;
  args.x = static_cast<const float*>(x.data);
  args.x_stride = x.row_stride / 4;
  args.n_tokens = static_cast<int>(x.n_rows());
  args.bias = bias;
  args.out = static_cast<float*>(out.data);
  args.out_stride = out.row_stride / 4;
  args.q8_activations = !f32_activations_forced();
  args.four_rows_min_out = four_rows_min_out(w.type);
  return args;
}

// The staged kernels take 16-byte aligned rows of whole units.
bool staged_fits(const Tensor& x, const Tensor& w, const MatvecArgs& args) {
  return !fallback_forced() && aligned16(w.data) && w.row_stride % 16 == 0 &&
         args.row_bytes % 16 == 0 && aligned16(x.data) && x.row_stride % 16 == 0 &&
         x.ne0() % matvec_unit_elements(w.type) == 0;
}

// Whether one token's activation is quantized once into `scratch` for a weight of `type`.
bool quantizes_once(const MatvecArgs& args, Type type, const uint8_t* scratch, size_t scratch_bytes) {
  return args.n_tokens == 1 && args.q8_activations && has_dot_q8(type) &&
         !per_block_activations_forced() && aligned16(scratch) &&
         matvec_xq8_bytes(args.k) <= scratch_bytes;
}

void launch_staged_family(Type type, const MatvecArgs& args, cudaStream_t stream) {
  switch (type) {
    case Type::F32:
    case Type::F16:
    case Type::BF16: return launch_matvec_float(type, args, stream);
    case Type::Q4_K:
    case Type::Q5_K:
    case Type::Q6_K: return launch_matvec_kquant(type, args, stream);
    default: return launch_matvec_quant(type, args, stream);
  }
}

}  // namespace

void launch_matvec(const Tensor& x, const Tensor& w, const float* bias, const Tensor& out,
                   cudaStream_t stream, uint8_t* scratch, size_t scratch_bytes, bool x_in_scratch) {
  const MatvecTarget target{&w, bias, &out};
  launch_matvec_many(x, std::span(&target, 1), stream, scratch, scratch_bytes, x_in_scratch);
}

void launch_matvec_many(const Tensor& x, std::span<const MatvecTarget> targets, cudaStream_t stream,
                        uint8_t* scratch, size_t scratch_bytes, bool x_in_scratch) {
  const int64_t n_tokens = x.n_rows();
  for (const MatvecTarget& t : targets) check_matvec_weight(n_tokens, *t.w);
  if (n_tokens == 0) return;
  bool quantized = x_in_scratch;  // x is in `scratch` as 8-bit units
  MatvecArgs pending{};    // a staged launch that more segments of its type may join
  Type pending_type = Type::F32;
  bool has_pending = false;
  auto flush = [&] {
    if (has_pending) launch_staged_family(pending_type, pending, stream);
    has_pending = false;
  };
  for (const MatvecTarget& t : targets) {
    if (t.w->n_rows() == 0) continue;
    MatvecArgs args = make_args(x, *t.w, t.bias, *t.out);
    if (!staged_fits(x, *t.w, args)) {
      launch_matvec_fallback(t.w->type, args, stream);
      continue;
    }
    if (quantizes_once(args, t.w->type, scratch, scratch_bytes)) {
      if (!quantized) launch_quantize_x_q8(args.x, args.k, scratch, stream);
      quantized = true;
      args.xq = scratch;
    }
    if (has_pending && pending_type == t.w->type && pending.n_more < kMatvecMaxSegments - 1) {
      pending.more[pending.n_more++] = {args.w, args.w_stride, args.n_out, args.bias, args.out,
                                        args.out_stride};
      continue;
    }
    flush();
    pending = args;
    pending_type = t.w->type;
    has_pending = true;
  }
  flush();
}

bool launch_matvec_gated(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                         const Tensor& out, cudaStream_t stream, uint8_t* scratch,
                         size_t scratch_bytes, bool x_in_scratch) {
  const int64_t n_tokens = x.n_rows();
  check_matvec_weight(n_tokens, w_gate);
  check_matvec_weight(n_tokens, w_up);
  if (w_gate.type != w_up.type || w_gate.row_stride != w_up.row_stride ||
      w_gate.ne0() != w_up.ne0() || w_gate.n_rows() != w_up.n_rows() || !aligned16(w_up.data)) {
    return false;
  }
  MatvecArgs args = make_args(x, w_gate, nullptr, out);
  if (!staged_fits(x, w_gate, args)) return false;
  if (n_tokens == 0 || args.n_out == 0) return true;
  args.w_up = static_cast<const uint8_t*>(w_up.data);
  if (quantizes_once(args, w_gate.type, scratch, scratch_bytes)) {
    if (!x_in_scratch) launch_quantize_x_q8(args.x, args.k, scratch, stream);
    args.xq = scratch;
  }
  launch_staged_family(w_gate.type, args, stream);
  return true;
}

}  // namespace ingot::cuda
