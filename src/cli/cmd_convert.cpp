// `ingot convert HF_DIR OUT.gguf [--type F16]`: a Hugging Face checkpoint folder to GGUF (see
// src/convert/converter.h). Prints warnings (fallback types, tokenizer caveats) and a summary.
#include "cli/commands.h"
#include "convert/converter.h"
#include "quant/recipe.h"

#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>

namespace ingot::cli {

void register_convert(CLI::App& app) {
  auto options = std::make_shared<convert::ConvertOptions>();
  auto hf_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("convert", "convert a Hugging Face safetensors model to GGUF");
  cmd->add_option("hf_dir", *hf_dir, "folder with config.json, *.safetensors, tokenizer.json")->required();
  cmd->add_option("out", options->out_path, "output GGUF file")->required();
  cmd->add_option("-t,--type", options->type, "output type: " + quant::recipe_names())->capture_default_str();
  cmd->add_option("--name", options->name, "general.name (default: the folder name)");
  cmd->add_option("--threads", options->n_threads, "threads (0: all cores)");
  cmd->callback([options, hf_dir] {
    options->hf_dir = *hf_dir;
    const convert::ConvertResult r = convert::convert_hf(*options);
    for (const std::string& w : r.warnings) fmt::print(stderr, "warning: {}\n", w);
    fmt::print(stderr, "wrote {}: {} ({}), {} tensors, {:.2f} M params, {:.2f} MB\n", options->out_path,
               r.config.arch, options->type, r.n_tensors, static_cast<double>(r.n_params) / 1e6,
               static_cast<double>(r.file_bytes) / 1e6);
  });
}

}  // namespace ingot::cli
