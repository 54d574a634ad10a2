// Picks and builds the compute backend for a model: "cpu", "cuda" or "" (auto: cuda when this
// build has CUDA and a device is present, else cpu). The one place that knows whether CUDA was
// compiled in (INGOT_HAVE_CUDA); CPU-only builds compile none of it. Costs one device query.
#pragma once

#include "backend/backend.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace ingot::engine {

struct BackendRequest {
  std::string name;      // "cpu", "cuda", or "" for auto
  int device = 0;        // CUDA device index
  size_t n_threads = 0;  // CPU worker threads (0: one per hardware thread)
};

struct SelectedBackend {
  std::unique_ptr<backend::Backend> backend;
  std::string description;  // "cuda (NVIDIA H100 80GB HBM3, device 0)", "cpu (no CUDA device)"
  size_t n_threads = 0;     // CPU threads used (0 for cuda)
};

// Error(invalid_argument) for an unknown name or a negative device; Error(unsupported) for
// "cuda" in a build without CUDA or on a machine without a device; the CUDA backend's own
// errors for a device index that does not exist or that the runtime refuses.
SelectedBackend select_backend(const BackendRequest& request);

// True when this binary was built with the CUDA backend.
bool cuda_compiled() noexcept;

// Free and total memory of a CUDA device now (cudaMemGetInfo). Error(unsupported) in a build
// without CUDA.
struct DeviceMemory {
  uint64_t free = 0;
  uint64_t total = 0;
};
DeviceMemory cuda_device_memory(int device);

}  // namespace ingot::engine
