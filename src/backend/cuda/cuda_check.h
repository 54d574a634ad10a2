// The one place CUDA runtime and cuBLAS status codes become errors. Every call goes through
// check_cuda / check_cublas, which throw Error(device) naming the call, the device, and the file
// and line it came from (std::source_location, no macros needed).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <source_location>
#include <string_view>

namespace ingot::cuda {

void check_cuda(cudaError_t status, std::string_view call,
                std::source_location where = std::source_location::current());
void check_cublas(cublasStatus_t status, std::string_view call,
                  std::source_location where = std::source_location::current());
// Checks the last launch error (after <<<...>>>): kernel launches return no status.
void check_last_launch(std::string_view kernel,
                       std::source_location where = std::source_location::current());

}  // namespace ingot::cuda
