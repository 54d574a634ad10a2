#include "engine/backend_select.h"

#include "backend/cpu/cpu_backend.h"
#include "core/error.h"

#include <fmt/format.h>

#if defined(INGOT_HAVE_CUDA)
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/device_info.h"
#endif

namespace ingot::engine {
namespace {

SelectedBackend make_cpu(size_t n_threads, const std::string& why) {
  backend::cpu::CpuOptions options;
  options.n_threads = n_threads;
  auto cpu = std::make_unique<backend::cpu::CpuBackend>(options);
  SelectedBackend s;
  s.n_threads = cpu->n_threads();
  s.description = fmt::format("cpu ({}, {} threads)", why, s.n_threads);
  s.backend = std::move(cpu);
  return s;
}

}  // namespace

bool cuda_compiled() noexcept {
#if defined(INGOT_HAVE_CUDA)
  return true;
#else
  return false;
#endif
}

DeviceMemory cuda_device_memory(int device) {
#if defined(INGOT_HAVE_CUDA)
  const cuda::DeviceInfo info = cuda::describe_device(device);
  return DeviceMemory{info.free_memory, info.total_memory};
#else
  fail(ErrorCode::unsupported, "device {} memory: this ingot binary was built without CUDA", device);
#endif
}

SelectedBackend select_backend(const BackendRequest& request) {
  if (!request.name.empty() && request.name != "cpu" && request.name != "cuda") {
    fail(ErrorCode::invalid_argument, "--backend '{}': cpu or cuda", request.name);
  }
  if (request.device < 0) fail(ErrorCode::invalid_argument, "--device {}: must not be negative", request.device);
  if (request.name == "cpu") return make_cpu(request.n_threads, "asked for");
#if defined(INGOT_HAVE_CUDA)
  const int n_devices = cuda::device_count();
  if (n_devices == 0) {
    if (request.name == "cuda") fail(ErrorCode::unsupported, "--backend cuda: no CUDA device is visible (driver or GPU missing)");
    return make_cpu(request.n_threads, "no CUDA device");
  }
  if (request.device >= n_devices) {
    fail(ErrorCode::invalid_argument, "--device {}: only {} CUDA device(s) visible", request.device, n_devices);
  }
  const cuda::DeviceInfo info = cuda::describe_device(request.device);
  SelectedBackend s;
  s.backend = cuda::make_cuda_backend(request.device);
  s.description = fmt::format("cuda ({}, device {}, {:.0f} GiB)", info.name, request.device,
                              static_cast<double>(info.total_memory) / (1024.0 * 1024.0 * 1024.0));
  return s;
#else
  if (request.name == "cuda") {
    fail(ErrorCode::unsupported, "--backend cuda: this ingot binary was built without CUDA (configure with -DINGOT_CUDA=ON and nvcc)");
  }
  return make_cpu(request.n_threads, "no CUDA in this build");
#endif
}

}  // namespace ingot::engine
