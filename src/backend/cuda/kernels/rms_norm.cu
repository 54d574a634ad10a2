// rms_norm, add_rms_norm and the gathered rms_norm of logits: one block per row; the sum of
// squares is reduced in f32 (warp shuffles, then across warps), then each thread writes its own
// elements (x * inv) * w, the CPU's rounding order. Rows of up to 8192 floats with 16-byte
// aligned pointers take the vector kernel: 1024 threads, float4 loads, the row held in
// registers between the passes (one read of x and residual; a decode row of 4096 is ~3 us instead
// of ~16 us for three dependent 256-thread passes). Each thread reads back only what it wrote
// itself, so out may alias x and residual.
#include <cmath>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/launchers.h"
#include "backend/cuda/kernels/xq8.cuh"

namespace ingot::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int kVecThreads = 1024;
constexpr int64_t kVecMaxRow = int64_t{kVecThreads} * 4 * 2;  // two float4 per thread

struct NormArgs {
  float* residual;
  size_t residual_stride;
  const float* x;
  size_t x_stride;
  const int32_t* rows;
  int64_t n_x_rows;
  const float* weight;
  int64_t d;
  float eps;
  float* out;
  size_t out_stride;
  DeviceErrorWord* error;
  uint8_t* xq;  // one row, modes 0 and 1: the output also in the 8-bit layout (xq8.cuh), or null
};

// mode 0: out = norm(x); 1: residual += x, out = norm(residual); 2: out[i] = norm(x[rows[i]]).
template <int kMode>
__global__ void rms_norm_kernel(float* residual, size_t residual_stride, const float* x,
                                size_t x_stride, const int32_t* rows, int64_t n_x_rows,
                                const float* weight, int64_t d, float eps, float* out,
                                size_t out_stride, DeviceErrorWord* error) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  float* o = out + row * out_stride;
  const float* src = x + row * x_stride;
  if constexpr (kMode == 2) {
    const int32_t r = rows[row];
    if (r < 0 || r >= n_x_rows) {
      if (threadIdx.x == 0) report_error(error, kDeviceErrorLogitRow, r, static_cast<int32_t>(n_x_rows));
      for (int64_t i = threadIdx.x; i < d; i += blockDim.x) o[i] = NAN;
      return;
    }
    src = x + r * x_stride;
  }
  if constexpr (kMode == 1) {
    float* res = residual + row * residual_stride;
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) res[i] = __fadd_rn(res[i], src[i]);
    src = res;
  }
  float sum = 0.0f;
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) sum = fmaf(src[i], src[i], sum);
  sum = block_sum(sum, scratch);
  const float inv = 1.0f / sqrtf(sum / static_cast<float>(d) + eps);
  for (int64_t i = threadIdx.x; i < d; i += blockDim.x) o[i] = __fmul_rn(__fmul_rn(src[i], inv), weight[i]);
}

// The vector form of rms_norm_kernel (same modes), d % 4 == 0, d <= kVecThreads * 4 * kPer.
template <int kMode, int kPer>
__global__ void __launch_bounds__(kVecThreads) rms_norm_vec_kernel(const NormArgs a) {
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const int n4 = static_cast<int>(a.d / 4);
  auto* o = reinterpret_cast<float4*>(a.out + row * a.out_stride);
  const float* src = a.x + row * a.x_stride;
  if constexpr (kMode == 2) {
    const int32_t r = a.rows[row];
    if (r < 0 || r >= a.n_x_rows) {
      if (threadIdx.x == 0) {
        report_error(a.error, kDeviceErrorLogitRow, r, static_cast<int32_t>(a.n_x_rows));
      }
      for (int i = threadIdx.x; i < n4; i += blockDim.x) o[i] = make_float4(NAN, NAN, NAN, NAN);
      return;
    }
    src = a.x + r * a.x_stride;
  }
  const auto* s4 = reinterpret_cast<const float4*>(src);
  float4 v[kPer];
  float sum = 0.0f;
#pragma unroll
  for (int p = 0; p < kPer; ++p) {
    const int i = threadIdx.x + p * kVecThreads;
    if (i < n4) {
      float4 e = s4[i];
      if constexpr (kMode == 1) {
        auto* res = reinterpret_cast<float4*>(a.residual + row * a.residual_stride);
        const float4 r = res[i];
        e = make_float4(__fadd_rn(r.x, e.x), __fadd_rn(r.y, e.y), __fadd_rn(r.z, e.z),
                        __fadd_rn(r.w, e.w));
        res[i] = e;
      }
      v[p] = e;
      sum = fmaf(e.x, e.x, sum);
      sum = fmaf(e.y, e.y, sum);
      sum = fmaf(e.z, e.z, sum);
      sum = fmaf(e.w, e.w, sum);
    }
  }
  sum = block_sum(sum, scratch);
  const float inv = 1.0f / sqrtf(sum / static_cast<float>(a.d) + a.eps);
  const auto* w4 = reinterpret_cast<const float4*>(a.weight);
#pragma unroll
  for (int p = 0; p < kPer; ++p) {
    const int i = threadIdx.x + p * kVecThreads;
    float4 r = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    if (i < n4) {
      const float4 e = v[p], w = w4[i];
      r = make_float4(__fmul_rn(__fmul_rn(e.x, inv), w.x), __fmul_rn(__fmul_rn(e.y, inv), w.y),
                      __fmul_rn(__fmul_rn(e.z, inv), w.z), __fmul_rn(__fmul_rn(e.w, inv), w.w));
      o[i] = r;
    }
    if (kMode != 2 && a.xq != nullptr) xq8::store_unit(r, i < n4, i, n4 / 8, a.xq);  // whole warps
  }
}

bool aligned16(const void* p, size_t stride_bytes) {
  return reinterpret_cast<uintptr_t>(p) % 16 == 0 && stride_bytes % 16 == 0;
}

// Launches the vector kernel when the row fits and every pointer allows float4; false otherwise.
template <int kMode>
bool launch_vec(const NormArgs& a, int64_t n_rows, cudaStream_t stream) {
  const bool fits = a.d % 4 == 0 && a.d <= kVecMaxRow &&
                    aligned16(a.x, a.x_stride * 4) && aligned16(a.out, a.out_stride * 4) &&
                    aligned16(a.weight, 0) &&
                    (kMode != 1 || aligned16(a.residual, a.residual_stride * 4));
  if (!fits) return false;
  const auto blocks = static_cast<unsigned>(n_rows);
  if (a.d <= int64_t{kVecThreads} * 4) {
    rms_norm_vec_kernel<kMode, 1><<<blocks, kVecThreads, 0, stream>>>(a);
  } else {
    rms_norm_vec_kernel<kMode, 2><<<blocks, kVecThreads, 0, stream>>>(a);
  }
  check_last_launch("rms_norm_vec_kernel");
  return true;
}

void check_weight(const Tensor& weight, int64_t d, const char* op) {
  backend::expect_type(weight, Type::F32, op, "weight");
  backend::expect_rows(weight, d, 1, op, "weight");
}

// The 8-bit copy of a one-row output goes to xq when the vector kernel runs and d is whole units.
uint8_t* xq_for(uint8_t* xq, int64_t n_rows, int64_t d) {
  return n_rows == 1 && d % 32 == 0 ? xq : nullptr;
}

}  // namespace

bool launch_rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& out,
                     cudaStream_t stream, uint8_t* xq) {
  backend::expect_type(x, Type::F32, "rms_norm", "x");
  backend::expect_type(out, Type::F32, "rms_norm", "out");
  backend::expect_rows(out, x.ne0(), x.n_rows(), "rms_norm", "out");
  check_weight(weight, x.ne0(), "rms_norm");
  if (x.n_rows() == 0 || x.ne0() == 0) return false;
  const NormArgs vec{nullptr, 0, static_cast<const float*>(x.data), x.row_stride / 4, nullptr, 0,
                     static_cast<const float*>(weight.data), x.ne0(), eps,
                     static_cast<float*>(out.data), out.row_stride / 4, nullptr,
                     xq_for(xq, x.n_rows(), x.ne0())};
  if (launch_vec<0>(vec, x.n_rows(), stream)) return vec.xq != nullptr;
  rms_norm_kernel<0><<<static_cast<unsigned>(x.n_rows()), kThreads, 0, stream>>>(
      nullptr, 0, static_cast<const float*>(x.data), x.row_stride / 4, nullptr, 0,
      static_cast<const float*>(weight.data), x.ne0(), eps, static_cast<float*>(out.data),
      out.row_stride / 4, nullptr);
  check_last_launch("rms_norm_kernel");
  return false;
}

bool launch_add_rms_norm(const Tensor& residual, const Tensor& x, const Tensor& weight, float eps,
                         const Tensor& out, cudaStream_t stream, uint8_t* xq) {
  backend::expect_type(residual, Type::F32, "add_rms_norm", "residual");
  backend::expect_type(x, Type::F32, "add_rms_norm", "x");
  backend::expect_rows(x, residual.ne0(), residual.n_rows(), "add_rms_norm", "x");
  backend::expect_type(out, Type::F32, "add_rms_norm", "out");
  backend::expect_rows(out, residual.ne0(), residual.n_rows(), "add_rms_norm", "out");
  check_weight(weight, x.ne0(), "add_rms_norm");
  if (x.n_rows() == 0 || x.ne0() == 0) return false;
  const NormArgs vec{static_cast<float*>(residual.data), residual.row_stride / 4,
                     static_cast<const float*>(x.data), x.row_stride / 4, nullptr, 0,
                     static_cast<const float*>(weight.data), x.ne0(), eps,
                     static_cast<float*>(out.data), out.row_stride / 4, nullptr,
                     xq_for(xq, x.n_rows(), x.ne0())};
  if (launch_vec<1>(vec, x.n_rows(), stream)) return vec.xq != nullptr;
  rms_norm_kernel<1><<<static_cast<unsigned>(x.n_rows()), kThreads, 0, stream>>>(
      static_cast<float*>(residual.data), residual.row_stride / 4,
      static_cast<const float*>(x.data), x.row_stride / 4, nullptr, 0,
      static_cast<const float*>(weight.data), x.ne0(), eps, static_cast<float*>(out.data),
      out.row_stride / 4, nullptr);
  check_last_launch("rms_norm_kernel<add>");
  return false;
}

void launch_gather_rms_norm(const Tensor& x, const Tensor& rows, const Tensor& weight, float eps,
                            const Tensor& out, DeviceErrorWord* error, cudaStream_t stream) {
  backend::expect_type(x, Type::F32, "logits", "hidden");
  backend::expect_type(rows, Type::I32, "logits", "rows");
  if (rows.n_rows() != 1 && rows.row_stride != static_cast<size_t>(rows.ne0()) * 4) {
    fail_argument("logits", "rows must be dense");
  }
  const int64_t n = rows.ne0() * rows.n_rows();
  backend::expect_type(out, Type::F32, "logits", "gathered rows");
  backend::expect_rows(out, x.ne0(), n, "logits", "gathered rows");
  check_weight(weight, x.ne0(), "logits");
  if (n == 0 || x.ne0() == 0) return;
  const NormArgs vec{nullptr, 0, static_cast<const float*>(x.data), x.row_stride / 4,
                     static_cast<const int32_t*>(rows.data), x.n_rows(),
                     static_cast<const float*>(weight.data), x.ne0(), eps,
                     static_cast<float*>(out.data), out.row_stride / 4, error, nullptr};
  if (launch_vec<2>(vec, n, stream)) return;
  rms_norm_kernel<2><<<static_cast<unsigned>(n), kThreads, 0, stream>>>(
      nullptr, 0, static_cast<const float*>(x.data), x.row_stride / 4,
      static_cast<const int32_t*>(rows.data), x.n_rows(), static_cast<const float*>(weight.data),
      x.ne0(), eps, static_cast<float*>(out.data), out.row_stride / 4, error);
  check_last_launch("rms_norm_kernel<gather>");
}

}  // namespace ingot::cuda
