#include "core/log.h"

#include "core/error.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace ingot {

LogFormat parse_log_format(std::string_view name) {
  if (name == "text") return LogFormat::text;
  if (name == "json") return LogFormat::json;
  fail(ErrorCode::invalid_argument, "unknown log format '{}' (expected text or json)", name);
}

void configure_logging(LogFormat format, std::string_view level) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  auto logger = spdlog::get("ingot");
  if (!logger) {
    logger = spdlog::stderr_color_mt("ingot");
    spdlog::set_default_logger(logger);
  }
  if (format == LogFormat::json) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e%z","level":"%l","msg":"%v"})");
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  }
  const auto parsed = spdlog::level::from_str(std::string(level));
  if (parsed == spdlog::level::off && level != "off") {
    fail(ErrorCode::invalid_argument, "unknown log level '{}'", level);
  }
  logger->set_level(parsed);
}

}  // namespace ingot
