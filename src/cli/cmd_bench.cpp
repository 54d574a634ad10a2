// `ingot bench -m FILE [-p 512] [-n 128] [-r 5]`: prompt processing (pp: p tokens in one batch
// from an empty cache) and text generation (tg: n single-token steps from an empty cache)
// throughput, llama-bench style: a markdown table of model, size, params, backend, threads,
// test and tokens/s ± standard deviation over r repetitions (after one warm-up run of each).
// tg steps leave their logits on the device (no per-token download); on CUDA they replay
// decode graphs unless INGOT_CUDA_GRAPHS=0.
#include "cli/commands.h"
#include "cli/model_args.h"
#include "core/error.h"
#include "gguf/file.h"
#include "model/sequence_runner.h"
#include "quant/recipe.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>

namespace ingot::cli {
namespace {

std::string file_type_name(const gguf::File& file) {
  const auto ft = file.find_u32("general.file_type");
  if (!ft) return "?";
  for (const quant::Recipe& r : quant::all_recipes()) {
    if (r.file_type == *ft) return std::string(r.name);
  }
  return fmt::format("ftype {}", *ft);
}

struct Stats {
  double mean = 0.0, sd = 0.0;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  double var = 0.0;
  for (double x : v) var += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0;
  return s;
}

}  // namespace

void register_bench(CLI::App& app) {
  struct Options {
    std::string model, kv_type = "f16";
    int32_t n_prompt = 512, n_gen = 128, reps = 5;
    engine::BackendRequest backend;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("bench", "prompt and generation throughput (pp/tg, like llama-bench)");
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the shipped model)");
  cmd->add_option("-p,--n-prompt", o->n_prompt, "prompt tokens (0: skip pp)")->capture_default_str();
  cmd->add_option("-n,--n-gen", o->n_gen, "generated tokens (0: skip tg)")->capture_default_str();
  cmd->add_option("-r,--repetitions", o->reps, "repetitions")->capture_default_str();
  cmd->add_option("-t,--threads", o->backend.n_threads, "threads (0: all cores)");
  add_backend_options(cmd, o->backend);
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f16 or f32")->capture_default_str();
  cmd->callback([o] {
    if (o->n_prompt < 0 || o->n_gen < 0 || (o->n_prompt == 0 && o->n_gen == 0) || o->reps < 1) {
      fail(ErrorCode::invalid_argument, "bench: -p, -n >= 0 (not both 0), -r >= 1");
    }
    const std::string path = resolve_model_path(o->model);
    LoadedModel m = load_model(path, o->backend, false);
    const model::HyperParams& hp = m.model->hparams();
    const int64_t n_ctx = std::max<int64_t>(o->n_prompt, o->n_gen);
    if (n_ctx > hp.n_ctx_train) fail(ErrorCode::out_of_range, "bench: {} tokens exceed the context {}", n_ctx, hp.n_ctx_train);
    model::SequenceOptions so;
    so.n_ctx = n_ctx;
    so.max_chunk = std::max<int64_t>(1, o->n_prompt);
    so.kv_type = parse_kv_type(o->kv_type);
    model::SequenceRunner runner(*m.model, so);
    std::mt19937 rng(42);
    std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(hp.n_vocab - 1));
    using clock = std::chrono::steady_clock;

    auto pp = [&] {
      std::vector<int32_t> ids(static_cast<size_t>(o->n_prompt));
      for (auto& id : ids) id = token(rng);
      runner.reset();
      const auto t0 = clock::now();
      (void)runner.feed(ids);
      return static_cast<double>(o->n_prompt) / std::chrono::duration<double>(clock::now() - t0).count();
    };
    auto tg = [&] {
      runner.reset();
      const auto t0 = clock::now();
      for (int32_t i = 0; i < o->n_gen; ++i) {
        const int32_t id[1] = {token(rng)};
        runner.advance(id);  // logits stay on the device, as llama-bench's
      }
      return static_cast<double>(o->n_gen) / std::chrono::duration<double>(clock::now() - t0).count();
    };
    const std::string model_name = fmt::format("{} {:.2f}B {}", hp.arch, static_cast<double>(m.model->n_params()) / 1e9,
                                               file_type_name(m.model->file()));
    const std::string size = fmt::format("{:.2f} GiB", static_cast<double>(m.model->weight_bytes()) / (1024.0 * 1024 * 1024));
    const std::string params = fmt::format("{:.2f} B", static_cast<double>(m.model->n_params()) / 1e9);
    fmt::print("| model | size | params | backend | threads | test | t/s |\n");
    fmt::print("| --- | ---: | ---: | --- | ---: | ---: | ---: |\n");
    auto report = [&](const std::string& test, const std::function<double()>& fn) {
      (void)fn();  // warm-up
      std::vector<double> rates;
      for (int32_t r = 0; r < o->reps; ++r) rates.push_back(fn());
      const Stats s = stats(rates);
      fmt::print("| {} | {} | {} | {} | {} | {} | {:.2f} ± {:.2f} |\n", model_name, size, params,
                 m.backend->name() == "cuda" ? "CUDA" : "CPU", m.n_threads, test, s.mean, s.sd);
      std::fflush(stdout);
    };
    if (o->n_prompt > 0) report(fmt::format("pp{}", o->n_prompt), pp);
    if (o->n_gen > 0) report(fmt::format("tg{}", o->n_gen), tg);
  });
}

}  // namespace ingot::cli
