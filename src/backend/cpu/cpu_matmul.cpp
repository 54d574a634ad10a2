// CPU matmul: out[n_out, n_tokens] = x[k, n_tokens] * w[k, n_out]^T (+ bias).
// Work is split into tasks of (kRowsPerTask output rows) x (kTokensPerTask tokens), so a task's
// weight rows stay in cache while its tokens stream past; tasks are claimed dynamically.
//  - F32/F16/BF16 weights: weights are widened exactly to f32 in registers and multiplied with
//    the f32 activations (no activation rounding); f32 FMA accumulation, 8 or 16 lanes then a
//    horizontal sum. Error: |err| <= ~(k/lanes + log2(lanes)) * 2^-24 * sum|w_i x_i|.
//  - quantized weights: each activation row is quantized once per call to 8 bits: for Q8_0
//    weights to act_q8_16.h's format (one f32 scale per 16 values), for the others to the
//    weight's vec_dot_type (Q8_0/Q8_K); then a task runs the tiled integer kernel of
//    quant_tiles.h (Q8_0, Q4_K, Q6_K on AVX2; Q4_K/Q6_K bit-identical to vec_dot) or the
//    portable dot per (row, token). Error is that of activation quantization: <= sum over
//    activation blocks of (amax_block / 254) * sum|w_i|.
//  - types without a vec_dot: weight rows are dequantized per task into f32 and tiled.
#include <algorithm>

#include "backend/cpu/act_q8_16.h"
#include "backend/cpu/cpu_backend.h"
#include "core/checked_math.h"
#include "core/error.h"
#include "quant/quant.h"

namespace ingot::backend::cpu {
namespace {

using quant::Type;

constexpr int64_t kRowsPerTask = 16;
constexpr int64_t kTokensPerTask = 48;

struct TaskGrid {
  int64_t n_row_tasks;
  int64_t n_token_tasks;
  int64_t rows_per_task;

  size_t n_tasks() const { return static_cast<size_t>(n_row_tasks * n_token_tasks); }
};

// With few tokens (decode) the work is all weight rows: split rows finer so every thread gets
// several tasks; with many tokens use the cache-friendly tile size.
TaskGrid make_grid(int64_t n_out, int64_t n_tokens, size_t n_threads) {
  int64_t rows = kRowsPerTask;
  const int64_t n_token_tasks = (n_tokens + kTokensPerTask - 1) / kTokensPerTask;
  while (rows > kTileRows &&
         ((n_out + rows - 1) / rows) * n_token_tasks < static_cast<int64_t>(4 * n_threads)) {
    rows /= 2;
  }
  return TaskGrid{(n_out + rows - 1) / rows, n_token_tasks, rows};
}

void add_bias(const Tensor* bias, const Tensor& out, int64_t row0, int64_t row1, int64_t t0,
              int64_t t1) {
  if (bias == nullptr) return;
  const auto* b = static_cast<const float*>(bias->data);
  for (int64_t t = t0; t < t1; ++t) {
    float* o = out.row<float>(t);
    for (int64_t r = row0; r < row1; ++r) o[r] += b[r];
  }
}

}  // namespace

void CpuBackend::matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) {
  expect_type(x, Type::F32, "matmul", "x");
  const int64_t k = x.ne0();
  const int64_t n_tokens = x.n_rows();
  if (w.ne0() != k) {
    fail(ErrorCode::invalid_argument, "matmul: x rows have {} elements, weight rows {}", k,
         w.ne0());
  }
  const int64_t n_out = w.n_rows();
  expect_type(out, Type::F32, "matmul", "out");
  expect_rows(out, n_out, n_tokens, "matmul", "out");
  if (bias != nullptr) {
    expect_type(*bias, Type::F32, "matmul", "bias");
    expect_rows(*bias, n_out, 1, "matmul", "bias");
  }
  if (n_tokens == 0 || n_out == 0) return;
  if (w.type == Type::F32 || w.type == Type::F16 || w.type == Type::BF16) {
    matmul_float(x, w, out);
  } else if (quant::ops(w.type).vec_dot != nullptr) {
    matmul_quantized(x, w, out);
  } else {
    matmul_dequantized(x, w, out);
  }
  if (bias != nullptr) add_bias(bias, out, 0, n_out, 0, n_tokens);
}

void CpuBackend::matmul_float(const Tensor& x, const Tensor& w, const Tensor& out) {
  const int64_t k = x.ne0();
  const int64_t n_out = w.n_rows();
  const int64_t n_tokens = x.n_rows();
  const TaskGrid grid = make_grid(n_out, n_tokens, pool_.n_threads());
  const size_t x_stride = x.row_stride / sizeof(float);
  const size_t o_stride = out.row_stride / sizeof(float);
  const size_t w_stride = w.row_stride / (w.type == Type::F32 ? 4 : 2);
  const Kernels& kern = kernels_;
  for_tasks(grid.n_tasks(), [&](size_t task, size_t) {
    const int64_t row0 = static_cast<int64_t>(task) / grid.n_token_tasks * grid.rows_per_task;
    const int64_t row1 = std::min(n_out, row0 + grid.rows_per_task);
    const int64_t t0 = static_cast<int64_t>(task) % grid.n_token_tasks * kTokensPerTask;
    const int64_t t1 = std::min(n_tokens, t0 + kTokensPerTask);
    for (int64_t r = row0; r < row1; r += kTileRows) {
      const int n_w = static_cast<int>(std::min<int64_t>(kTileRows, row1 - r));
      for (int64_t t = t0; t < t1; t += kTileTokens) {
        const int n_x = static_cast<int>(std::min<int64_t>(kTileTokens, t1 - t));
        float* o = out.row<float>(t) + r;
        const float* xt = x.row<float>(t);
        switch (w.type) {
          case Type::F32:
            kern.tile_f32(k, w.row<float>(r), w_stride, n_w, xt, x_stride, n_x, o, o_stride);
            break;
          case Type::F16:
            kern.tile_f16(k, w.row<uint16_t>(r), w_stride, n_w, xt, x_stride, n_x, o, o_stride);
            break;
          default:
            kern.tile_bf16(k, w.row<uint16_t>(r), w_stride, n_w, xt, x_stride, n_x, o, o_stride);
            break;
        }
      }
    }
  });
}

void CpuBackend::matmul_quantized(const Tensor& x, const Tensor& w, const Tensor& out) {
  const int64_t k = x.ne0();
  const int64_t n_out = w.n_rows();
  const int64_t n_tokens = x.n_rows();
  const quant::TypeOps& wops = ops(w.type);
  // The SIMD kernels (tiles, the AVX2 activation quantizer) run where quant's AVX2 path does.
  const bool avx2 = kernels_.quant_tile != nullptr && quant::simd_path() == "avx2";
  // The activation row format, its quantizer and the portable dot product.
  const Type act_type = wops.vec_dot_type;
  size_t act_row = 0;
  quant::QuantizeRowFn quantize = nullptr;
  quant::VecDotFn vec_dot = wops.vec_dot;
  if (w.type == Type::Q8_0) {
    act_row = act_q8_16_row_bytes(k);
    const ActQuantizeFn fast = avx2 ? avx2_quantize_act_q8_16() : nullptr;
    quantize = fast != nullptr ? fast : quantize_act_q8_16;
    vec_dot = dot_q8_0_act_q8_16;
  } else if (act_type != Type::F32) {
    act_row = dense_row_bytes(act_type, k);
    quantize = quant::ops(act_type).quantize_row;
    if (quantize == nullptr) {
      fail(ErrorCode::unsupported, "matmul: cannot quantize activations to {}",
           quant::name(act_type));
    }
  }
  const uint8_t* act = nullptr;
  size_t act_stride = 0;
  if (quantize == nullptr) {
    act = static_cast<const uint8_t*>(x.data);
    act_stride = x.row_stride;
  } else {
    const size_t need = static_cast<size_t>(checked_mul(
        act_row, static_cast<uint64_t>(n_tokens), "matmul activations", ErrorCode::out_of_range));
    if (activation_scratch_.size() < need) activation_scratch_.resize(need);
    uint8_t* dst = activation_scratch_.data();
    for_ranges(static_cast<size_t>(n_tokens), 1, [&](size_t b, size_t e, size_t) {
      for (size_t t = b; t < e; ++t)
        quantize(x.row<float>(static_cast<int64_t>(t)), dst + t * act_row, k);
    });
    act = dst;
    act_stride = act_row;
  }
  const QuantTileFn tile = avx2 ? kernels_.quant_tile(w.type) : nullptr;
  const size_t o_stride = out.row_stride / sizeof(float);
  const TaskGrid grid = make_grid(n_out, n_tokens, pool_.n_threads());
  for_tasks(grid.n_tasks(), [&](size_t task, size_t) {
    const int64_t row0 = static_cast<int64_t>(task) / grid.n_token_tasks * grid.rows_per_task;
    const int64_t row1 = std::min(n_out, row0 + grid.rows_per_task);
    const int64_t t0 = static_cast<int64_t>(task) % grid.n_token_tasks * kTokensPerTask;
    const int64_t t1 = std::min(n_tokens, t0 + kTokensPerTask);
    if (tile != nullptr) {
      tile(k, w.row<uint8_t>(row0), w.row_stride, row1 - row0, act + static_cast<size_t>(t0) * act_stride,
           act_stride, t1 - t0, out.row<float>(t0) + row0, o_stride);
      return;
    }
    for (int64_t t = t0; t < t1; ++t) {
      const void* a = act + static_cast<size_t>(t) * act_stride;
      float* o = out.row<float>(t);
      for (int64_t r = row0; r < row1; ++r) o[r] = vec_dot(k, w.row<uint8_t>(r), a);
    }
  });
}

void CpuBackend::matmul_dequantized(const Tensor& x, const Tensor& w, const Tensor& out) {
  const int64_t k = x.ne0();
  const int64_t n_out = w.n_rows();
  const int64_t n_tokens = x.n_rows();
  const quant::DequantizeRowFn dequantize = ops(w.type).dequantize_row;
  if (dequantize == nullptr) {
    fail(ErrorCode::unsupported, "matmul: cannot compute with {} weights", quant::name(w.type));
  }
  const TaskGrid grid = make_grid(n_out, n_tokens, pool_.n_threads());
  grow_thread_scratch(static_cast<size_t>(kRowsPerTask * k));
  const size_t x_stride = x.row_stride / sizeof(float);
  const size_t o_stride = out.row_stride / sizeof(float);
  for_tasks(grid.n_tasks(), [&](size_t task, size_t thread) {
    const int64_t row0 = static_cast<int64_t>(task) / grid.n_token_tasks * grid.rows_per_task;
    const int64_t row1 = std::min(n_out, row0 + grid.rows_per_task);
    const int64_t t0 = static_cast<int64_t>(task) % grid.n_token_tasks * kTokensPerTask;
    const int64_t t1 = std::min(n_tokens, t0 + kTokensPerTask);
    float* rows = thread_scratch(thread);
    for (int64_t r = row0; r < row1; ++r) dequantize(w.row<uint8_t>(r), rows + (r - row0) * k, k);
    for (int64_t r = row0; r < row1; r += kTileRows) {
      const int n_w = static_cast<int>(std::min<int64_t>(kTileRows, row1 - r));
      for (int64_t t = t0; t < t1; t += kTileTokens) {
        const int n_x = static_cast<int>(std::min<int64_t>(kTileTokens, t1 - t));
        kernels_.tile_f32(k, rows + (r - row0) * k, static_cast<size_t>(k), n_w, x.row<float>(t),
                          x_stride, n_x, out.row<float>(t) + r, o_stride);
      }
    }
  });
}

}  // namespace ingot::backend::cpu
