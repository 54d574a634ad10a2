// Logging through spdlog: one process-wide logger named "ingot" writing to stderr, in text or
// JSON lines (`--log-format json`). Set it up once at start (configure_logging); after that the
// spdlog calls are thread-safe. Library code logs; it never prints to stdout.
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace ingot {

enum class LogFormat { text, json };

// Parses "text" or "json"; throws Error(invalid_argument) for anything else.
LogFormat parse_log_format(std::string_view name);

// Installs the "ingot" logger as spdlog's default with the given format and level
// ("trace", "debug", "info", "warn", "error", "off"). Safe to call more than once.
void configure_logging(LogFormat format, std::string_view level = "info");

}  // namespace ingot
