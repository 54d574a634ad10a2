// The subcommands of the `ingot` binary. Each lives in its own cmd_<name>.cpp and adds itself
// to the CLI11 app through one register_* function listed here and called from main.cpp.
#pragma once

#include <CLI/CLI.hpp>

namespace ingot::cli {

void register_serve(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_template(CLI::App& app);
void register_inspect(CLI::App& app);
void register_quantize(CLI::App& app);
void register_convert(CLI::App& app);
void register_eval(CLI::App& app);
void register_run(CLI::App& app);
void register_perplexity(CLI::App& app);
void register_bench(CLI::App& app);
void register_synth(CLI::App& app);

}  // namespace ingot::cli
