// embed: one block per token, threads over groups of 8 elements of the row, dequantized with
// the per-type functions of dequant.cuh (bit-exact with the CPU). A token id outside the
// vocabulary writes NaN into its row and is reported through the device error word.
#include <cmath>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/dequant.cuh"
#include "backend/cuda/kernels/launchers.h"

namespace ingot::cuda {
namespace {

template <Type T>
__global__ void embed_kernel(const int32_t* ids, const uint8_t* weight, size_t weight_stride,
                             int64_t vocab, int64_t d, float* out, size_t out_stride,
                             DeviceErrorWord* error) {
  const int64_t token = blockIdx.x;
  const int32_t id = ids[token];
  float* o = out + token * out_stride;
  if (id < 0 || id >= vocab) {
    if (threadIdx.x == 0) report_error(error, kDeviceErrorTokenId, id, static_cast<int32_t>(vocab));
    for (int64_t i = threadIdx.x; i < d; i += blockDim.x) o[i] = NAN;
    return;
  }
  const uint8_t* row = weight + static_cast<size_t>(id) * weight_stride;
  const int64_t n_groups = d / 8;
  for (int64_t g = threadIdx.x; g < n_groups; g += blockDim.x) {
    float v[8];
    Dequant<T>::load8(row, g * 8, v);
#pragma unroll
    for (int e = 0; e < 8; ++e) o[g * 8 + e] = v[e];
  }
  if constexpr (Dequant<T>::kBlockElements == 1) {
    for (int64_t i = n_groups * 8 + threadIdx.x; i < d; i += blockDim.x) o[i] = Dequant<T>::load1(row, i);
  }
}

}  // namespace

bool is_weight_type_supported(quant::Type type) noexcept {
  for (Type t : kCudaWeightTypes) {
    if (t == type) return true;
  }
  return false;
}

const char* supported_weight_types() {
  return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K";
}

void launch_embed(const Tensor& ids, const Tensor& weight, const Tensor& out,
                  DeviceErrorWord* error, cudaStream_t stream) {
  backend::expect_type(ids, Type::I32, "embed", "ids");
  if (ids.n_rows() != 1 && ids.row_stride != static_cast<size_t>(ids.ne0()) * 4) {
    fail_argument("embed", "ids must be dense");
  }
  const int64_t n = ids.ne0() * ids.n_rows();
  const int64_t d = weight.ne0();
  backend::expect_type(out, Type::F32, "embed", "out");
  backend::expect_rows(out, d, n, "embed", "out");
  if (n == 0 || d == 0) return;
  dispatch_weight_type(weight.type, "embed", [&](auto type) {
    constexpr Type T = decltype(type)::value;
    embed_kernel<T><<<static_cast<unsigned>(n), 128, 0, stream>>>(
        static_cast<const int32_t*>(ids.data), static_cast<const uint8_t*>(weight.data),
        weight.row_stride, weight.n_rows(), d, static_cast<float*>(out.data), out.row_stride / 4,
        error);
  });
  check_last_launch("embed_kernel");
}

}  // namespace ingot::cuda
