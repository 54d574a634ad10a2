// HTTP-boundary errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with
// the status that goes with them (400 bad request, 401 key, 404 model/route, 413 body, 503
// loading/draining, 500 internal). Request parsing throws ApiError; route handlers catch it and
// everything else at one place and render it. Plain data, no allocation beyond the strings.
#pragma once

#include <nlohmann/json.hpp>

#include <stdexcept>
#include <string>

namespace ingot::server {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string message, std::string type = "invalid_request_error", std::string param = {},
           std::string code = {})
      : std::runtime_error(message), status_(status), type_(std::move(type)), param_(std::move(param)),
        code_(std::move(code)) {}

  int status() const noexcept { return status_; }
  const std::string& type() const noexcept { return type_; }
  const std::string& param() const noexcept { return param_; }  // empty: null in the JSON
  const std::string& code() const noexcept { return code_; }    // empty: null in the JSON

  nlohmann::ordered_json to_json() const;

 private:
  int status_;
  std::string type_;
  std::string param_;
  std::string code_;
};

// 400 invalid_request_error naming the field.
[[noreturn]] void bad_request(const std::string& param, const std::string& message);

// The error type OpenAI uses for a status: 400 invalid_request_error, 401 authentication_error,
// 404 not_found_error, 413 invalid_request_error, 429 rate_limit_error, 503 unavailable_error,
// others server_error.
std::string error_type_for_status(int status);

// Serialises JSON for the wire: compact, invalid UTF-8 replaced by U+FFFD (never throws).
std::string dump_json(const nlohmann::ordered_json& value);

}  // namespace ingot::server
