#include "backend/cuda/device_info.h"

#include "backend/cuda/cuda_check.h"
#include "core/error.h"

namespace ingot::cuda {

int device_count() noexcept {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    (void)cudaGetLastError();  // clear the sticky "no device" status
    return 0;
  }
  return count;
}

DeviceInfo describe_device(int index) {
  const int count = device_count();
  if (index < 0 || index >= count) {
    fail(ErrorCode::invalid_argument, "device {} does not exist ({} CUDA device(s) visible)", index, count);
  }
  cudaDeviceProp props{};
  check_cuda(cudaGetDeviceProperties(&props, index), "cudaGetDeviceProperties");
  DeviceInfo info;
  info.index = index;
  info.name = props.name;
  info.compute_major = props.major;
  info.compute_minor = props.minor;
  info.n_multiprocessors = props.multiProcessorCount;
  info.total_memory = props.totalGlobalMem;
  check_cuda(cudaSetDevice(index), "cudaSetDevice");
  check_cuda(cudaMemGetInfo(&info.free_memory, &info.total_memory), "cudaMemGetInfo");
  return info;
}

}  // namespace ingot::cuda
