#include "convert/synth.h"

#include "convert/converter.h"
#include "core/error.h"
#include "core/progress_bar.h"
#include "core/thread_pool.h"
#include "gguf/writer.h"
#include "model/arch.h"
#include "quant/quant.h"
#include "quant/recipe.h"
#include "tokenizer/utf8.h"
#include "tokenizer/vocab.h"
#include "tokenizer/vocab_gguf.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

namespace ingot::convert {
namespace {

using quant::Type;

HfConfig preset_config(const char* arch, int64_t vocab, int64_t ctx, int64_t d, int64_t layers, int64_t ff,
                       int64_t heads, int64_t kv_heads, int64_t head_dim, double theta, double eps, bool tied) {
  HfConfig c;
  c.arch = arch;
  c.n_vocab = vocab;
  c.n_ctx = ctx;
  c.n_embd = d;
  c.n_layers = layers;
  c.n_ff = ff;
  c.n_heads = heads;
  c.n_kv_heads = kv_heads;
  c.head_dim = head_dim;
  c.rope_theta = theta;
  c.rms_eps = eps;
  c.tie_word_embeddings = tied;
  return c;
}

HfConfig with_llama3_rope(HfConfig c, double factor) {
  c.rope_type = HfRopeType::llama3;
  c.rope_factor = factor;
  c.rope_original_ctx = 8192;
  c.rope_low_freq_factor = 1.0;
  c.rope_high_freq_factor = 4.0;
  return c;
}

// A byte-level BPE vocabulary of exactly n tokens: the 256 byte characters, then two-symbol
// tokens (byte + byte), then three-symbol ones (pair + byte), each with the merge that makes
// it, and the preset's special tokens last.
tokenizer::Vocab synthetic_vocab(int64_t n, const std::string& pre, const std::vector<std::string>& specials) {
  const auto& bytes = tokenizer::byte_to_unicode();
  tokenizer::Vocab v;
  v.model = tokenizer::VocabModel::bpe;
  v.pre = pre;
  const auto n_normal = static_cast<size_t>(n) - specials.size();
  for (size_t b = 0; b < 256 && v.tokens.size() < n_normal; ++b) v.tokens.push_back(bytes[b]);
  for (size_t a = 0; a < 256 && v.tokens.size() < n_normal; ++a) {
    for (size_t b = 0; b < 256 && v.tokens.size() < n_normal; ++b) {
      v.tokens.push_back(bytes[a] + bytes[b]);
      v.merges.push_back(bytes[a] + " " + bytes[b]);
    }
  }
  for (size_t pair = 256; v.tokens.size() < n_normal; ++pair) {
    const std::string left = v.tokens[pair];
    for (size_t b = 0; b < 256 && v.tokens.size() < n_normal; ++b) {
      v.tokens.push_back(left + bytes[b]);
      v.merges.push_back(left + " " + bytes[b]);
    }
  }
  v.types.assign(v.tokens.size(), tokenizer::TokenType::normal);
  for (const std::string& s : specials) {
    v.tokens.push_back(s);
    v.types.push_back(tokenizer::TokenType::control);
  }
  v.bos = static_cast<tokenizer::TokenId>(n_normal);
  v.eos = static_cast<tokenizer::TokenId>(n_normal + (specials.size() > 1 ? 1 : 0));
  return v;
}

// Rows quantized per tensor; the others repeat them (see synthesize()).
constexpr size_t kDistinctRows = 256;

// splitmix64's finalizer.
inline uint64_t mix64(uint64_t key) {
  key += 0x9e3779b97f4a7c15ull;
  key = (key ^ (key >> 30)) * 0xbf58476d1ce4e5b9ull;
  key = (key ^ (key >> 27)) * 0x94d049bb133111ebull;
  return key ^ (key >> 31);
}

// Counter-based uniform noise in [-1, 1): splitmix64 of (seed, tensor, element).
inline float noise(uint64_t key) {
  return static_cast<float>(static_cast<double>(mix64(key) >> 40) * 0x1p-23 - 1.0);
}

}  // namespace

const std::vector<SynthPreset>& synth_presets() {
  static const std::vector<SynthPreset> presets = {
      {"llama3.2-1b", with_llama3_rope(preset_config("llama", 128256, 131072, 2048, 16, 8192, 32, 8, 64,
                                                     500000.0, 1e-5, true), 32.0)},
      {"llama3.1-8b", with_llama3_rope(preset_config("llama", 128256, 131072, 4096, 32, 14336, 32, 8, 128,
                                                     500000.0, 1e-5, false), 8.0)},
      {"qwen2.5-7b", preset_config("qwen2", 152064, 32768, 3584, 28, 18944, 28, 4, 128, 1000000.0, 1e-6, false)},
      {"qwen3-8b", preset_config("qwen3", 151936, 40960, 4096, 36, 12288, 32, 8, 128, 1000000.0, 1e-6, false)},
      // Small files for tests (a few MB; rows of 256 so every K-quant recipe applies).
      {"tiny-llama", with_llama3_rope(preset_config("llama", 1024, 2048, 256, 2, 512, 4, 2, 64, 500000.0, 1e-5,
                                                    true), 8.0)},
      {"tiny-qwen2", preset_config("qwen2", 1024, 2048, 256, 2, 512, 4, 2, 64, 1000000.0, 1e-6, false)},
      {"tiny-qwen3", preset_config("qwen3", 1024, 2048, 256, 2, 512, 4, 2, 64, 1000000.0, 1e-6, true)},
  };
  return presets;
}

const SynthPreset& find_synth_preset(const std::string& name) {
  std::string names;
  for (const SynthPreset& p : synth_presets()) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  fail(ErrorCode::invalid_argument, "unknown preset '{}' (presets: {})", name, names);
}

SynthResult synthesize(const SynthOptions& options) {
  const SynthPreset& preset = find_synth_preset(options.preset);
  HfConfig cfg = preset.config;
  const bool tied = cfg.tie_word_embeddings && !options.untied;
  const quant::Recipe& recipe = quant::find_recipe(options.type);
  const model::HyperParams hp = hparams_of(cfg, tied);

  gguf::Writer writer;
  const std::string name = fmt::format("synthetic {}{}", preset.name, options.untied ? " (untied)" : "");
  write_model_metadata(cfg, name, recipe, writer);
  const bool is_llama = cfg.arch == "llama";
  const std::vector<std::string> specials =
      is_llama ? std::vector<std::string>{"<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"}
               : std::vector<std::string>{"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  tokenizer::Vocab vocab = synthetic_vocab(cfg.n_vocab, is_llama ? "llama-bpe" : "qwen2", specials);
  if (!is_llama) {
    vocab.bos = vocab.eos = static_cast<tokenizer::TokenId>(cfg.n_vocab - 3);
    vocab.eot = static_cast<tokenizer::TokenId>(cfg.n_vocab - 1);
  }
  vocab.add_bos = is_llama;
  tokenizer::write_vocab(vocab, writer);

  std::vector<model::TensorSpec> specs = model::expected_tensors(hp);
  std::vector<quant::TensorShape> shapes;
  for (const auto& spec : specs) shapes.push_back({spec.name, Type::F32, spec.dims});
  quant::ModelShape model_shape;
  model_shape.n_layer = static_cast<uint32_t>(cfg.n_layers);
  model_shape.n_head = static_cast<uint32_t>(cfg.n_heads);
  model_shape.n_head_kv = static_cast<uint32_t>(cfg.n_kv_heads);
  std::vector<Type> targets(specs.size(), Type::F32);
  for (const quant::TensorPlan& plan : quant::plan_quantization(recipe, shapes, model_shape)) {
    targets[plan.index] = plan.target;
  }
  const std::vector<float> rope_factors = hp.has_rope_freqs ? llama3_rope_factors(cfg) : std::vector<float>{};

  auto pool = std::make_shared<ThreadPool>(options.n_threads);
  uint64_t total = 0;
  for (const auto& spec : specs) {
    if (spec.name == "output.weight" && tied) continue;
    total += static_cast<uint64_t>(spec.dims.size() > 1 ? spec.dims[1] : 1);
  }
  std::unique_ptr<ProgressBar> bar;
  if (options.progress) bar = std::make_unique<ProgressBar>("synth", total);
  SynthResult result;
  for (size_t i = 0; i < specs.size(); ++i) {
    const model::TensorSpec& spec = specs[i];
    if (spec.name == "output.weight" && tied) continue;
    const int64_t row_len = spec.dims[0];
    const int64_t n_rows = spec.dims.size() > 1 ? spec.dims[1] : 1;
    result.n_params += static_cast<uint64_t>(row_len * n_rows);
    const Type target = targets[i];
    const size_t out_row_bytes = static_cast<size_t>(quant::row_bytes(target, static_cast<uint64_t>(row_len)));
    const bool is_norm = spec.is_vector && spec.name.find("norm") != std::string::npos;
    const bool is_rope = spec.name == "rope_freqs.weight";
    // Weights uniform in +-sqrt(3)/sqrt(row_len) (unit-variance outputs); biases small.
    const float scale = spec.is_vector ? 0.02f : static_cast<float>(std::sqrt(3.0 / static_cast<double>(row_len)));
    const uint64_t key = (options.seed * 0x100000001b3ull) ^ (static_cast<uint64_t>(i) << 40);
    ProgressBar* progress = bar.get();
    const std::string tensor_name = spec.name;
    writer.add_tensor(spec.name, target, spec.dims,
                      [=, &rope_factors](std::span<uint8_t> out) {
                        const quant::TypeOps& ops = quant::ops(target);
                        // Quantizing every row of an 8B model takes a minute on 16 cores; the
                        // first kDistinctRows rows are quantized, every later row copies one of
                        // them chosen by a hash of its index. Each row still has its own bytes
                        // in memory, so benchmarks read as many bytes as with all-distinct rows.
                        const size_t n_distinct = std::min<size_t>(static_cast<size_t>(n_rows), kDistinctRows);
                        pool->parallel_ranges(n_distinct, 1, [&](size_t begin, size_t end, size_t) {
                          std::vector<float> row(static_cast<size_t>(row_len));
                          for (size_t r = begin; r < end; ++r) {
                            for (int64_t c = 0; c < row_len; ++c) {
                              const uint64_t element = r * static_cast<uint64_t>(row_len) + static_cast<uint64_t>(c);
                              row[static_cast<size_t>(c)] =
                                  is_rope ? rope_factors[static_cast<size_t>(c)]
                                          : (is_norm ? 1.0f : 0.0f) + scale * noise(key + element);
                            }
                            ops.quantize_row(row.data(), out.data() + r * out_row_bytes, row_len);
                          }
                        });
                        pool->parallel_ranges(static_cast<size_t>(n_rows) - n_distinct, 256,
                                              [&](size_t begin, size_t end, size_t) {
                          for (size_t r = n_distinct + begin; r < n_distinct + end; ++r) {
                            const size_t from = static_cast<size_t>(mix64(key ^ r) % n_distinct);
                            std::memcpy(out.data() + r * out_row_bytes, out.data() + from * out_row_bytes, out_row_bytes);
                          }
                        });
                        if (progress != nullptr) progress->advance(static_cast<uint64_t>(n_rows), tensor_name);
                      });
  }
  result.n_tensors = writer.tensor_count();
  writer.write(options.out_path);
  if (bar) bar->finish();
  result.file_bytes = std::filesystem::file_size(options.out_path);
  return result;
}

}  // namespace ingot::convert
