#include "convert/converter.h"

#include "convert/safetensors.h"
#include "convert/tensor_map.h"
#include "core/error.h"
#include "core/progress_bar.h"
#include "core/thread_pool.h"
#include "gguf/writer.h"
#include "model/arch.h"
#include "model/hparams.h"
#include "quant/quant.h"
#include "quant/recipe.h"
#include "tokenizer/hf_import.h"

#include <fmt/format.h>

#include <cmath>
#include <fstream>
#include <map>
#include <memory>
#include <numbers>
#include <sstream>

namespace ingot::convert {
namespace {

namespace fs = std::filesystem;
using quant::Type;

}  // namespace

model::HyperParams hparams_of(const HfConfig& c, bool tied) {
  model::HyperParams hp;
  hp.arch = c.arch;
  hp.traits = &model::find_arch(c.arch);
  hp.n_vocab = c.n_vocab;
  hp.n_ctx_train = c.n_ctx;
  hp.n_embd = c.n_embd;
  hp.n_layers = c.n_layers;
  hp.n_ff = c.n_ff;
  hp.n_heads = c.n_heads;
  hp.n_kv_heads = c.n_kv_heads;
  hp.head_dim = c.head_dim;
  hp.rms_eps = static_cast<float>(c.rms_eps);
  hp.rope.head_dim = c.head_dim;
  hp.rope.n_rot = c.head_dim;
  hp.has_rope_freqs = c.rope_type == HfRopeType::llama3;
  hp.tied_output = tied;
  return hp;
}

void write_model_metadata(const HfConfig& c, const std::string& name, const quant::Recipe& recipe,
                          gguf::Writer& w) {
  const std::string p = c.arch + ".";
  w.set_string("general.architecture", c.arch);
  w.set_string("general.name", name);
  w.set_u32("general.file_type", recipe.file_type);
  if (recipe.default_type != Type::F32 && recipe.default_type != Type::F16 &&
      recipe.default_type != Type::BF16) {
    w.set_u32("general.quantization_version", 2);
  }
  w.set_u32(p + "vocab_size", static_cast<uint32_t>(c.n_vocab));
  w.set_u32(p + "context_length", static_cast<uint32_t>(c.n_ctx));
  w.set_u32(p + "embedding_length", static_cast<uint32_t>(c.n_embd));
  w.set_u32(p + "block_count", static_cast<uint32_t>(c.n_layers));
  w.set_u32(p + "feed_forward_length", static_cast<uint32_t>(c.n_ff));
  w.set_u32(p + "attention.head_count", static_cast<uint32_t>(c.n_heads));
  w.set_u32(p + "attention.head_count_kv", static_cast<uint32_t>(c.n_kv_heads));
  w.set_u32(p + "attention.key_length", static_cast<uint32_t>(c.head_dim));
  w.set_u32(p + "attention.value_length", static_cast<uint32_t>(c.head_dim));
  w.set_f32(p + "attention.layer_norm_rms_epsilon", static_cast<float>(c.rms_eps));
  w.set_f32(p + "rope.freq_base", static_cast<float>(c.rope_theta));
  w.set_u32(p + "rope.dimension_count", static_cast<uint32_t>(c.head_dim));
  switch (c.rope_type) {
    case HfRopeType::none:
    case HfRopeType::llama3:  // llama3 scaling travels as the rope_freqs.weight tensor
      break;
    case HfRopeType::linear:
      w.set_string(p + "rope.scaling.type", "linear");
      w.set_f32(p + "rope.scaling.factor", static_cast<float>(c.rope_factor));
      break;
    case HfRopeType::yarn:
      w.set_string(p + "rope.scaling.type", "yarn");
      w.set_f32(p + "rope.scaling.factor", static_cast<float>(c.rope_factor));
      w.set_u32(p + "rope.scaling.original_context_length", static_cast<uint32_t>(c.rope_original_ctx));
      w.set_f32(p + "rope.scaling.yarn_beta_fast", static_cast<float>(c.rope_beta_fast));
      w.set_f32(p + "rope.scaling.yarn_beta_slow", static_cast<float>(c.rope_beta_slow));
      break;
  }
}

namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_tokenizer(const fs::path& dir, const HfConfig& c, gguf::Writer& w, ConvertResult& result) {
  tokenizer::HfVocab hf = tokenizer::import_hf(dir);
  for (auto& warning : hf.warnings) result.warnings.push_back("tokenizer: " + warning);
  if (hf.chat_template.empty() && fs::exists(dir / "chat_template.jinja")) {
    hf.chat_template = read_text(dir / "chat_template.jinja");  // transformers 5 writes it apart
  }
  auto& tokens = hf.vocab.tokens;
  if (static_cast<int64_t>(tokens.size()) > c.n_vocab) {
    fail(ErrorCode::invalid_file, "{}: the tokenizer has {} tokens but the embedding only {} rows",
         dir.string(), tokens.size(), c.n_vocab);
  }
  // Embedding rows past the tokenizer (padding for alignment) get unused placeholder tokens,
  // as llama.cpp's converter writes them, so every id the model can produce decodes.
  if (static_cast<int64_t>(tokens.size()) < c.n_vocab) {
    if (hf.vocab.types.empty()) hf.vocab.types.assign(tokens.size(), tokenizer::TokenType::normal);
    if (!hf.vocab.scores.empty()) hf.vocab.scores.resize(static_cast<size_t>(c.n_vocab), -1000.0f);
    for (auto i = static_cast<int64_t>(tokens.size()); i < c.n_vocab; ++i) {
      tokens.push_back(fmt::format("[PAD{}]", i));
      hf.vocab.types.push_back(tokenizer::TokenType::unused);
    }
  }
  tokenizer::write_vocab(hf, w);
}

// One tensor to write: where its rows come from and what it becomes.
struct Job {
  std::string gguf_name;
  std::vector<int64_t> dims;  // ggml order
  const StTensor* source = nullptr;
  std::vector<float> generated;  // rope_freqs
  bool permute = false;
  int64_t head_dim = 0;
  Type target = Type::F32;
};

}  // namespace

std::vector<float> llama3_rope_factors(const HfConfig& c) {
  std::vector<float> factors;
  const double low_wavelen = static_cast<double>(c.rope_original_ctx) / c.rope_low_freq_factor;
  const double high_wavelen = static_cast<double>(c.rope_original_ctx) / c.rope_high_freq_factor;
  for (int64_t i = 0; i < c.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(c.rope_theta, static_cast<double>(i) / static_cast<double>(c.head_dim));
    const double wavelen = 2.0 * std::numbers::pi / freq;
    double factor = 1.0;
    if (wavelen < high_wavelen) {
      factor = 1.0;
    } else if (wavelen > low_wavelen) {
      factor = c.rope_factor;
    } else {
      const double smooth = (static_cast<double>(c.rope_original_ctx) / wavelen - c.rope_low_freq_factor) /
                            (c.rope_high_freq_factor - c.rope_low_freq_factor);
      factor = 1.0 / ((1.0 - smooth) / c.rope_factor + smooth);
    }
    factors.push_back(static_cast<float>(factor));
  }
  return factors;
}

ConvertResult convert_hf(const ConvertOptions& options) {
  ConvertResult result;
  const fs::path& dir = options.hf_dir;
  if (!fs::is_directory(dir)) fail(ErrorCode::not_found, "{}: not a directory", dir.string());
  const HfConfig cfg = read_hf_config(dir);
  result.config = cfg;
  const Checkpoint checkpoint = Checkpoint::open(dir);
  const quant::Recipe& recipe = quant::find_recipe(options.type);
  const bool tied = cfg.tie_word_embeddings || checkpoint.find("lm_head.weight") == nullptr;
  const model::HyperParams hp = hparams_of(cfg, tied);

  // Map every expected GGUF tensor to its source and check shapes (HF [out, in] = ggml [in, out]).
  std::vector<Job> jobs;
  std::map<std::string, bool> used;
  for (const model::TensorSpec& spec : model::expected_tensors(hp)) {
    Job job;
    job.gguf_name = spec.name;
    job.dims = spec.dims;
    if (spec.name == "rope_freqs.weight") {
      job.generated = llama3_rope_factors(cfg);
      jobs.push_back(std::move(job));
      continue;
    }
    if (spec.name == "output.weight" && tied) continue;
    const std::optional<std::string> hf_name = hf_name_of(spec.name);
    const StTensor* t = hf_name ? checkpoint.find(*hf_name) : nullptr;
    if (t == nullptr) {
      fail(ErrorCode::not_found, "{}: tensor '{}' (for {}) is missing from the checkpoint", dir.string(),
           hf_name.value_or(spec.name), spec.name);
    }
    used[*hf_name] = true;
    std::vector<int64_t> expected_hf(spec.dims.rbegin(), spec.dims.rend());
    if (t->shape != expected_hf) {
      fail(ErrorCode::invalid_file, "{}: tensor '{}' has shape [{}], expected [{}] from config.json",
           dir.string(), t->name, fmt::join(t->shape, ", "), fmt::join(expected_hf, ", "));
    }
    job.source = t;
    const bool is_q = spec.name.ends_with("attn_q.weight");
    const bool is_k = spec.name.ends_with("attn_k.weight");
    job.permute = hp.traits->permute_qk && (is_q || is_k);
    job.head_dim = cfg.head_dim;
    jobs.push_back(std::move(job));
  }
  for (const auto& [name, tensor] : checkpoint.tensors()) {
    if (used.count(name) != 0 || name.ends_with("rotary_emb.inv_freq") || name == "lm_head.weight") continue;
    fail(ErrorCode::unsupported, "{}: checkpoint tensor '{}' has no place in a {} GGUF", dir.string(), name,
         cfg.arch);
  }

  // Types per tensor from the recipe (1-D stays F32; fallbacks for row lengths that don't fit).
  std::vector<quant::TensorShape> shapes;
  for (const Job& job : jobs) shapes.push_back({job.gguf_name, Type::F32, job.dims});
  quant::ModelShape model_shape;
  model_shape.n_layer = static_cast<uint32_t>(cfg.n_layers);
  model_shape.n_head = static_cast<uint32_t>(cfg.n_heads);
  model_shape.n_head_kv = static_cast<uint32_t>(cfg.n_kv_heads);
  for (const quant::TensorPlan& plan : quant::plan_quantization(recipe, shapes, model_shape)) {
    jobs[plan.index].target = plan.target;
    if (plan.fell_back) {
      result.warnings.push_back(fmt::format("{}: row length {} does not fit {}, wrote {}", jobs[plan.index].gguf_name,
                                            jobs[plan.index].dims[0], quant::name(recipe.default_type),
                                            quant::name(plan.target)));
    }
  }

  gguf::Writer writer;
  const std::string name = options.name.empty() ? dir.filename().string() : options.name;
  write_model_metadata(cfg, name.empty() ? fs::absolute(dir).parent_path().filename().string() : name, recipe, writer);
  if (options.with_tokenizer) write_tokenizer(dir, cfg, writer, result);

  auto pool = std::make_shared<ThreadPool>(options.n_threads);
  uint64_t total_rows = 0;
  for (const Job& job : jobs) total_rows += static_cast<uint64_t>(job.dims.size() > 1 ? job.dims[1] : 1);
  std::unique_ptr<ProgressBar> bar;
  if (options.progress) bar = std::make_unique<ProgressBar>("convert", total_rows);

  for (const Job& job : jobs) {
    const int64_t row_len = job.dims[0];
    const int64_t n_rows = job.dims.size() > 1 ? job.dims[1] : 1;
    result.n_params += static_cast<uint64_t>(row_len * n_rows);
    const size_t out_row_bytes = static_cast<size_t>(quant::row_bytes(job.target, static_cast<uint64_t>(row_len)));
    const Job* j = &job;
    ProgressBar* progress = bar.get();
    writer.add_tensor(job.gguf_name, job.target, job.dims, [j, pool, row_len, n_rows, out_row_bytes, progress](std::span<uint8_t> out) {
      const quant::TypeOps& ops = quant::ops(j->target);
      if (ops.quantize_row == nullptr) {
        fail(ErrorCode::unsupported, "convert: cannot write {} tensors", quant::name(j->target));
      }
      pool->parallel_ranges(static_cast<size_t>(n_rows), 16, [&](size_t begin, size_t end, size_t) {
        std::vector<float> row(static_cast<size_t>(row_len));
        for (size_t r = begin; r < end; ++r) {
          if (j->source == nullptr) {
            std::copy(j->generated.begin(), j->generated.end(), row.begin());
          } else {
            const auto src_row = static_cast<uint64_t>(
                j->permute ? permuted_source_row(static_cast<int64_t>(r), j->head_dim) : static_cast<int64_t>(r));
            j->source->read_f32(src_row * static_cast<uint64_t>(row_len), static_cast<uint64_t>(row_len), row.data());
          }
          ops.quantize_row(row.data(), out.data() + r * out_row_bytes, row_len);
        }
      });
      if (progress != nullptr) progress->advance(static_cast<uint64_t>(n_rows), j->gguf_name);
    });
  }
  result.n_tensors = writer.tensor_count();
  writer.write(options.out_path);
  if (bar) bar->finish();
  result.file_bytes = fs::file_size(options.out_path);
  return result;
}

}  // namespace ingot::convert
