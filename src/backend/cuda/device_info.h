// What CUDA devices this process sees: count, names, memory and multiprocessors. Used at start
// to choose the backend (cuda when a GPU is present, else cpu, said once) and for --device N.
#pragma once

#include <cstddef>
#include <string>

namespace ingot::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  int n_multiprocessors = 0;
  size_t total_memory = 0;
  size_t free_memory = 0;
};

// Number of usable devices; 0 when there is no driver or no GPU (never throws for that).
int device_count() noexcept;
// Throws Error(device) or Error(invalid_argument) for an index past device_count().
DeviceInfo describe_device(int index);

}  // namespace ingot::cuda
