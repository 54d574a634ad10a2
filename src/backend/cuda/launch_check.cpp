#include "backend/cuda/launch_check.h"

#include "core/error.h"

namespace ingot::cuda {

void fail_argument(std::string_view op, const std::string& what) {
  fail(ErrorCode::invalid_argument, "{}: {}", op, what);
}

void fail_unsupported(std::string_view op, const std::string& what) {
  fail(ErrorCode::unsupported, "{}: {}", op, what);
}

}  // namespace ingot::cuda
