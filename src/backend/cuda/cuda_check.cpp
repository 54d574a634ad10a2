#include "backend/cuda/cuda_check.h"

#include "core/error.h"

namespace ingot::cuda {
namespace {

int current_device() noexcept {
  int device = -1;
  if (cudaGetDevice(&device) != cudaSuccess) return -1;
  return device;
}

}  // namespace

void check_cuda(cudaError_t status, std::string_view call, std::source_location where) {
  if (status == cudaSuccess) return;
  fail(ErrorCode::device, "{} failed on device {}: {} ({}) at {}:{}", call, current_device(),
       cudaGetErrorString(status), static_cast<int>(status), where.file_name(), where.line());
}

void check_cublas(cublasStatus_t status, std::string_view call, std::source_location where) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  fail(ErrorCode::device, "{} failed on device {}: {} ({}) at {}:{}", call, current_device(),
       cublasGetStatusString(status), static_cast<int>(status), where.file_name(), where.line());
}

void check_last_launch(std::string_view kernel, std::source_location where) {
  check_cuda(cudaGetLastError(), kernel, where);
}

}  // namespace ingot::cuda
