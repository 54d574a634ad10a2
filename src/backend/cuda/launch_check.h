// Errors from CUDA launchers without fmt: nvcc cannot compile fmt's compile-time format checks,
// so the .cu launchers build their messages with std::string and throw through these two
// functions (defined in a .cpp). Cost: one string per failure, nothing on success.
#pragma once

#include <string>
#include <string_view>

namespace ingot::cuda {

// Throws Error(invalid_argument) "<op>: <what>".
[[noreturn]] void fail_argument(std::string_view op, const std::string& what);
// Throws Error(unsupported) "<op>: <what>".
[[noreturn]] void fail_unsupported(std::string_view op, const std::string& what);

}  // namespace ingot::cuda
