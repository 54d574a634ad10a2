// `ingot synth --preset NAME --type TYPE OUT.gguf [--untied]`: a random-weight GGUF with the
// real shapes and vocabulary size of a known model, for benchmarks (src/convert/synth.h).
#include "cli/commands.h"
#include "convert/synth.h"
#include "quant/recipe.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

namespace ingot::cli {

void register_synth(CLI::App& app) {
  auto o = std::make_shared<convert::SynthOptions>();
  std::string presets;
  for (const auto& p : convert::synth_presets()) presets += (presets.empty() ? "" : ", ") + p.name;
  CLI::App* cmd = app.add_subcommand("synth", "write a random-weight model with real shapes (benchmarks)");
  cmd->add_option("--preset", o->preset, presets)->required();
  cmd->add_option("-t,--type", o->type, "type: " + quant::recipe_names())->capture_default_str();
  cmd->add_option("out", o->out_path, "output GGUF file")->required();
  cmd->add_flag("--untied", o->untied, "write a separate output.weight even where the model ties it");
  cmd->add_option("--seed", o->seed, "random seed")->capture_default_str();
  cmd->add_option("--threads", o->n_threads, "threads (0: all cores)");
  cmd->callback([o] {
    const convert::SynthResult r = convert::synthesize(*o);
    fmt::print(stderr, "wrote {}: {} {}, {} tensors, {:.3f} B params, {:.2f} GB\n", o->out_path, o->preset, o->type,
               r.n_tensors, static_cast<double>(r.n_params) / 1e9, static_cast<double>(r.file_bytes) / 1e9);
  });
}

}  // namespace ingot::cli
