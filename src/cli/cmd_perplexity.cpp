// `ingot perplexity -m FILE -f text.txt [--ctx 512]`: held-out perplexity with the protocol of
// tools/tiny_model/train.py (held_out_perplexity): the whole text is tokenized once without
// special tokens, cut into non-overlapping chunks of ctx tokens (a partial last chunk is
// dropped), each chunk is evaluated from an empty cache, and only the second half of each chunk
// is scored (token i predicted from the logits at i-1, for i in [ctx/2, ctx)). Prints PPL and a
// ± estimate from the spread of per-token negative log-likelihoods (delta method, as llama.cpp).
#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/error.h"
#include "model/sequence_runner.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace ingot::cli {

void register_perplexity(CLI::App& app) {
  struct Options {
    std::string model, file, kv_type = "f32";
    int64_t n_ctx = 512;
    engine::BackendRequest backend;
    int64_t max_chunks = 0;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("perplexity", "held-out perplexity of a text file");
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the shipped model)");
  cmd->add_option("-f,--file", o->file, "text file")->required();
  cmd->add_option("-c,--ctx", o->n_ctx, "chunk length in tokens")->capture_default_str();
  cmd->add_option("--chunks", o->max_chunks, "score at most this many chunks (0: all)");
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f32 or f16")->capture_default_str();
  cmd->add_option("-t,--threads", o->backend.n_threads, "threads (0: all cores)");
  add_backend_options(cmd, o->backend);
  cmd->callback([o] {
    std::ifstream in(o->file, std::ios::binary);
    if (!in) fail(ErrorCode::not_found, "{}: cannot open", o->file);
    std::ostringstream text;
    text << in.rdbuf();
    LoadedModel m = load_model(resolve_model_path(o->model), o->backend, true);
    const int64_t n_vocab = m.model->hparams().n_vocab;
    if (o->n_ctx < 2) fail(ErrorCode::invalid_argument, "--ctx must be at least 2");
    if (o->n_ctx > m.model->hparams().n_ctx_train) {
      fail(ErrorCode::out_of_range, "--ctx {} exceeds the model's context length {}", o->n_ctx,
           m.model->hparams().n_ctx_train);
    }
    const std::vector<int32_t> ids = m.tokenizer->encode(text.str(), false, false);
    int64_t n_chunks = static_cast<int64_t>(ids.size()) / o->n_ctx;
    if (o->max_chunks > 0) n_chunks = std::min(n_chunks, o->max_chunks);
    if (n_chunks == 0) {
      fail(ErrorCode::invalid_argument, "{}: {} tokens is less than one chunk of {}", o->file, ids.size(), o->n_ctx);
    }
    fmt::print(stderr, "perplexity: {} tokens, {} chunks of {}, scoring the second half of each\n", ids.size(),
               n_chunks, o->n_ctx);
    model::SequenceOptions so;
    so.n_ctx = o->n_ctx;
    so.kv_type = parse_kv_type(o->kv_type);
    model::SequenceRunner runner(*m.model, so);
    const int64_t first = o->n_ctx / 2;
    double sum_nll = 0.0, sum_nll2 = 0.0;
    int64_t count = 0;
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t c = 0; c < n_chunks; ++c) {
      runner.reset();
      const std::span<const int32_t> chunk(ids.data() + c * o->n_ctx, static_cast<size_t>(o->n_ctx));
      const std::vector<float> logits = runner.feed(chunk, true);
      for (int64_t i = first; i < o->n_ctx; ++i) {
        const float* row = logits.data() + (i - 1) * n_vocab;
        double max = row[0];
        for (int64_t v = 1; v < n_vocab; ++v) max = std::max(max, static_cast<double>(row[v]));
        double sum = 0.0;
        for (int64_t v = 0; v < n_vocab; ++v) sum += std::exp(static_cast<double>(row[v]) - max);
        const double nll = std::log(sum) + max - row[chunk[static_cast<size_t>(i)]];
        sum_nll += nll;
        sum_nll2 += nll * nll;
        ++count;
      }
      const double ppl = std::exp(sum_nll / static_cast<double>(count));
      fmt::print(stderr, "[{}/{}] {:.4f}\n", c + 1, n_chunks, ppl);
    }
    const double mean = sum_nll / static_cast<double>(count);
    const double var = std::max(0.0, sum_nll2 / static_cast<double>(count) - mean * mean);
    const double ppl = std::exp(mean);
    const double ppl_err = ppl * std::sqrt(var / static_cast<double>(std::max<int64_t>(1, count - 1)));
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    fmt::print("PPL = {:.4f} +/- {:.4f} ({} chunks of {}, {} scored tokens, {:.1f} s)\n", ppl, ppl_err, n_chunks,
               o->n_ctx, count, secs);
  });
}

}  // namespace ingot::cli
