// The one error type of ingot. Inner code throws `ingot::Error` (a code plus a message that
// says what and why); the CLI and HTTP boundaries catch it and turn it into an exit status or
// an HTTP status. User input never reaches an assert: bad input is an Error.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

namespace ingot {

enum class ErrorCode {
  invalid_argument,  // a bad parameter from a caller or user (CLI flag, request field)
  invalid_file,      // a malformed, truncated or inconsistent file
  unsupported,       // valid but not supported: an unknown architecture, type, version
  not_found,         // a missing file, key, tensor or token
  out_of_range,      // a size or count past a limit (context length, memory budget)
  io,                // the operating system refused a read, write or map
  device,            // a GPU runtime or library call failed
  cancelled,         // the work was cancelled
  internal,          // a broken invariant of our own code
};

std::string_view to_string(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

// Throws an Error whose message is formatted with fmt: fail(ErrorCode::invalid_file, "bad {}", x).
template <typename... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  throw Error(code, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace ingot
