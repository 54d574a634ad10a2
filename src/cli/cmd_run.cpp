// `ingot run -m FILE -p "prompt" [-n 128]`: one-shot generation on the CPU, streamed through the
// tokenizer's Detokenizer as tokens are produced (or ids with --print-ids), then prompt and
// generation speed on stderr. Sampling is the engine's Sampler (greedy with --temp 0). One sequence, its own KV cache of --ctx tokens (default: prompt + n, within the
// model's context length).
#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/error.h"
#include "engine/sampler.h"
#include "model/sequence_runner.h"
#include "tokenizer/detokenizer.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

namespace ingot::cli {

void register_run(CLI::App& app) {
  struct Options {
    std::string model, prompt, prompt_ids, kv_type = "f16";
    int32_t n_predict = 128;
    int64_t n_ctx = 0;
    SamplingParams sampling;
    std::optional<uint64_t> seed;
    engine::BackendRequest backend;
    bool print_ids = false, ignore_eos = false, no_special = false;
  };
  auto o = std::make_shared<Options>();
  o->sampling.temperature = 0.8f;
  o->sampling.top_k = 40;
  o->sampling.top_p = 0.95f;
  CLI::App* cmd = app.add_subcommand("run", "generate text from a prompt, streamed");
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the shipped model)");
  cmd->add_option("-p,--prompt", o->prompt, "prompt text");
  cmd->add_option("--prompt-ids", o->prompt_ids, "prompt as token ids, e.g. \"1 2 3\"");
  cmd->add_option("-n,--n-predict", o->n_predict, "tokens to generate")->capture_default_str();
  cmd->add_option("--temp", o->sampling.temperature, "temperature (0: greedy)")->capture_default_str();
  cmd->add_option("--top-k", o->sampling.top_k, "top-k (0: all)")->capture_default_str();
  cmd->add_option("--top-p", o->sampling.top_p, "top-p")->capture_default_str();
  cmd->add_option("--seed", o->seed, "random seed (default: from the clock)");
  cmd->add_option("-c,--ctx", o->n_ctx, "context size (default: prompt + n, at most the model's)");
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16 or f32")->capture_default_str();
  cmd->add_option("-t,--threads", o->backend.n_threads, "threads (0: all cores)");
  add_backend_options(cmd, o->backend);
  cmd->add_flag("--print-ids", o->print_ids, "print generated token ids instead of text");
  cmd->add_flag("--ignore-eos", o->ignore_eos, "keep generating past end-of-generation tokens");
  cmd->add_flag("--no-special", o->no_special, "do not add BOS/EOS when tokenizing -p");
  cmd->callback([o] {
    if (o->prompt.empty() == o->prompt_ids.empty()) {
      fail(ErrorCode::invalid_argument, "give exactly one of -p (non-empty) and --prompt-ids");
    }
    if (o->n_predict <= 0) fail(ErrorCode::invalid_argument, "-n must be at least 1, got {}", o->n_predict);
    o->sampling.ignore_eos = o->ignore_eos;
    validate(o->sampling);
    LoadedModel m = load_model(resolve_model_path(o->model), o->backend, !o->print_ids || o->prompt_ids.empty());
    const model::HyperParams& hp = m.model->hparams();
    const std::vector<int32_t> prompt =
        o->prompt_ids.empty() ? m.tokenizer->encode(o->prompt, !o->no_special) : parse_ids(o->prompt_ids);
    if (prompt.empty()) fail(ErrorCode::invalid_argument, "the prompt has no tokens");
    const int64_t n_ctx = o->n_ctx > 0 ? o->n_ctx
                                       : std::min<int64_t>(hp.n_ctx_train, static_cast<int64_t>(prompt.size()) + o->n_predict);
    if (n_ctx > hp.n_ctx_train) fail(ErrorCode::out_of_range, "--ctx {} exceeds the model's context length {}", n_ctx, hp.n_ctx_train);
    if (static_cast<int64_t>(prompt.size()) >= n_ctx) {
      fail(ErrorCode::out_of_range, "the prompt has {} tokens; the context of {} leaves no room to generate",
           prompt.size(), n_ctx);
    }
    model::SequenceOptions so;
    so.n_ctx = n_ctx;
    so.kv_type = parse_kv_type(o->kv_type);
    model::SequenceRunner runner(*m.model, so);
    const uint64_t seed = o->seed.value_or(
        static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::vector<int32_t> eog;
    if (m.tokenizer) eog = m.tokenizer->end_of_generation();
    engine::Sampler sampler(o->sampling, static_cast<int32_t>(hp.n_vocab), prompt, eog, seed);
    std::unique_ptr<tokenizer::Detokenizer> detok;
    if (!o->print_ids) detok = std::make_unique<tokenizer::Detokenizer>(*m.tokenizer);

    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    std::vector<float> logits = runner.feed(prompt);
    const auto t1 = clock::now();
    int32_t n_generated = 0;
    bool first = true;
    while (n_generated < o->n_predict) {
      const int32_t id = sampler.sample(logits).token;
      ++n_generated;
      const bool is_eog = m.tokenizer && m.tokenizer->is_end_of_generation(id);
      if (o->print_ids) {
        fmt::print("{}{}", first ? "" : " ", id);
      } else if (!is_eog || o->ignore_eos) {
        fmt::print("{}", detok->push(id));
      }
      first = false;
      std::fflush(stdout);
      if (is_eog && !o->ignore_eos) break;
      if (n_generated == o->n_predict || runner.position() >= n_ctx) break;
      const int32_t next[1] = {id};
      logits = runner.feed(next);
    }
    if (detok) fmt::print("{}", detok->flush());
    fmt::print("\n");
    const auto t2 = clock::now();
    const double prompt_s = std::chrono::duration<double>(t1 - t0).count();
    const double gen_s = std::chrono::duration<double>(t2 - t1).count();
    fmt::print(stderr, "prompt: {} tokens in {:.3f} s ({:.2f} tokens/s); generation: {} tokens in {:.3f} s ({:.2f} tokens/s)\n",
               prompt.size(), prompt_s, static_cast<double>(prompt.size()) / prompt_s, n_generated, gen_s,
               gen_s > 0 ? static_cast<double>(n_generated) / gen_s : 0.0);
  });
}

}  // namespace ingot::cli
