// `ingot eval -m FILE (-p TEXT | --prompt-ids "1 2 3") --logits OUT.npy`: the next-token
// logits at every prompt position as a float32 .npy [n_tokens, n_vocab]. The KV cache is F32 by
// default here so results are exact enough for reference parity (--kv-type f16 to compare).
#include "cli/commands.h"
#include "cli/model_args.h"
#include "cli/npy.h"
#include "core/error.h"
#include "model/sequence_runner.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

namespace ingot::cli {

void register_eval(CLI::App& app) {
  struct Options {
    std::string model, prompt, prompt_ids, logits, kv_type = "f32";
    engine::BackendRequest backend;
    bool no_special = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("eval", "write the logits of every prompt position as .npy");
  cmd->add_option("-m,--model", o->model, "GGUF model file (default: the shipped model)");
  cmd->add_option("-p,--prompt", o->prompt, "prompt text");
  cmd->add_option("--prompt-ids", o->prompt_ids, "prompt as token ids, e.g. \"1 2 3\"");
  cmd->add_option("--logits", o->logits, "output .npy file")->required();
  cmd->add_option("--kv-type", o->kv_type, "KV cache type: f32 or f16")->capture_default_str();
  cmd->add_option("-t,--threads", o->backend.n_threads, "threads (0: all cores)");
  add_backend_options(cmd, o->backend);
  cmd->add_flag("--no-special", o->no_special, "do not add BOS/EOS when tokenizing -p");
  cmd->callback([o] {
    if (o->prompt.empty() == o->prompt_ids.empty()) {
      fail(ErrorCode::invalid_argument, "give exactly one of -p (non-empty) and --prompt-ids");
    }
    LoadedModel m = load_model(resolve_model_path(o->model), o->backend, o->prompt_ids.empty());
    const std::vector<int32_t> ids =
        o->prompt_ids.empty() ? m.tokenizer->encode(o->prompt, !o->no_special) : parse_ids(o->prompt_ids);
    if (ids.empty()) fail(ErrorCode::invalid_argument, "the prompt has no tokens");
    const int64_t n_ctx = m.model->hparams().n_ctx_train;
    if (static_cast<int64_t>(ids.size()) > n_ctx) {
      fail(ErrorCode::out_of_range, "the prompt has {} tokens, more than the context length {}", ids.size(), n_ctx);
    }
    model::SequenceOptions so;
    so.n_ctx = static_cast<int64_t>(ids.size());
    so.kv_type = parse_kv_type(o->kv_type);
    model::SequenceRunner runner(*m.model, so);
    const std::vector<float> logits = runner.feed(ids, true);
    write_npy_f32(o->logits, logits, static_cast<int64_t>(ids.size()), m.model->hparams().n_vocab);
    fmt::print(stderr, "wrote {}: [{}, {}]\n", o->logits, ids.size(), m.model->hparams().n_vocab);
  });
}

}  // namespace ingot::cli
