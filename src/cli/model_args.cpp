#include "cli/model_args.h"

#include "core/error.h"
#include "gguf/file.h"
#include "tokenizer/vocab_gguf.h"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace ingot::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kShipped = "models/ingot-tiny/ingot-tiny-q8_0.gguf";

}  // namespace

std::string resolve_model_path(const std::string& given) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("INGOT_MODEL"); env != nullptr && *env != '\0') {
    fmt::print(stderr, "ingot: no -m given; using $INGOT_MODEL = {}\n", env);
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  std::vector<fs::path> candidates;
  if (!ec) {
    const fs::path bin = exe.parent_path();
    candidates.push_back(bin / "../../.." / kShipped);       // build/<preset>/bin
    candidates.push_back(bin / "../share/ingot" / kShipped);  // an install tree
  }
  candidates.push_back(fs::path(kShipped));
  for (const fs::path& c : candidates) {
    if (fs::exists(c, ec)) {
      const std::string path = fs::weakly_canonical(c, ec).string();
      fmt::print(stderr, "ingot: no -m given; using the shipped model {}\n", path);
      return path;
    }
  }
  fail(ErrorCode::not_found, "no -m given and the shipped model {} was not found (set $INGOT_MODEL)", kShipped);
}

void add_backend_options(CLI::App* cmd, engine::BackendRequest& request) {
  const std::string help = engine::cuda_compiled()
                               ? "compute backend: cpu or cuda (default: cuda when a GPU is present, else cpu)"
                               : "compute backend: cpu (this build has no CUDA)";
  cmd->add_option("--backend", request.name, help)->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--device", request.device, "CUDA device index")->capture_default_str();
}

LoadedModel load_model(const std::string& path, const engine::BackendRequest& request, bool need_tokenizer) {
  LoadedModel m;
  engine::SelectedBackend selected = engine::select_backend(request);
  fmt::print(stderr, "backend: {}\n", selected.description);
  m.backend = std::move(selected.backend);
  m.backend_description = std::move(selected.description);
  m.n_threads = selected.n_threads;
  auto file = std::make_shared<const gguf::File>(gguf::File::open(path));
  if (file->find("tokenizer.ggml.tokens") != nullptr) {
    m.tokenizer = std::make_unique<tokenizer::Tokenizer>(tokenizer::load_vocab(*file));
  } else if (need_tokenizer) {
    fail(ErrorCode::not_found, "{}: the file has no tokenizer (use --prompt-ids)", path);
  }
  m.model = model::Model::load(std::move(file), *m.backend);
  return m;
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '[' || c == ']') {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    if (end == i || end - i > 9) {
      fail(ErrorCode::invalid_argument, "--prompt-ids: '{}' is not a list of token ids", text);
    }
    ids.push_back(std::stoi(text.substr(i, end - i)));
    i = end;
  }
  if (ids.empty()) fail(ErrorCode::invalid_argument, "--prompt-ids: the list is empty");
  return ids;
}

quant::Type parse_kv_type(const std::string& name) {
  if (name == "f16" || name == "F16") return quant::Type::F16;
  if (name == "f32" || name == "F32") return quant::Type::F32;
  fail(ErrorCode::invalid_argument, "--kv-type '{}': f16 or f32", name);
}

}  // namespace ingot::cli
