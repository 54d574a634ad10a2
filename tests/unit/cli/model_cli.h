// Helpers for CLI tests of the model commands: run the built `ingot` binary and capture its
// output and exit status, and a small converted model (the smollm reference fixture, F32) made
// once per test binary in the build folder.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <sys/wait.h>

namespace ingot::test {

struct CliResult {
  int status = -1;
  std::string out;  // stdout + stderr
};

inline std::string ingot_bin() {
  const char* b = std::getenv("INGOT_BIN");
  return b != nullptr ? b : std::string(INGOT_BINARY_DIR) + "/bin/ingot";
}

inline CliResult run_ingot(const std::string& args) {
  CliResult r;
  const std::string command = ingot_bin() + " " + args + " 2>&1";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), &pclose);
  if (!pipe) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe.get())) > 0) r.out.append(buf, n);
  const int raw = pclose(pipe.release());
  r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + (WIFSIGNALED(raw) ? WTERMSIG(raw) : 0);
  return r;
}

inline std::filesystem::path cli_work_dir() {
  auto dir = std::filesystem::path(INGOT_BINARY_DIR) / "cli_model_tests";
  std::filesystem::create_directories(dir);
  return dir;
}

// tests/reference/models/smollm converted to F32 (once).
inline std::string small_model() {
  static const std::string path = [] {
    const auto out = cli_work_dir() / "smollm-f32.gguf";
    const auto src = std::filesystem::path(INGOT_SOURCE_DIR) / "tests/reference/models/smollm";
    run_ingot("convert " + src.string() + " " + out.string() + " --type F32");
    return out.string();
  }();
  return path;
}

}  // namespace ingot::test
