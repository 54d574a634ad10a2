#include "core/error.h"

namespace ingot {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_argument: return "invalid argument";
    case ErrorCode::invalid_file: return "invalid file";
    case ErrorCode::unsupported: return "unsupported";
    case ErrorCode::not_found: return "not found";
    case ErrorCode::out_of_range: return "out of range";
    case ErrorCode::io: return "i/o error";
    case ErrorCode::device: return "device error";
    case ErrorCode::cancelled: return "cancelled";
    case ErrorCode::internal: return "internal error";
  }
  return "unknown error";
}

}  // namespace ingot
