// Entry point of the `ingot` binary: parses the subcommand and turns every error into a
// message on stderr and a non-zero exit status. Nothing below main() calls exit().
#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"

#include <fmt/format.h>

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"ingot: an LLM inference engine for GGUF models (CUDA and CPU)", "ingot"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ingot 0.1.0");
  try {
    ingot::configure_logging(ingot::LogFormat::text);
    ingot::cli::register_serve(app);
    ingot::cli::register_tokenize(app);
    ingot::cli::register_template(app);
    ingot::cli::register_inspect(app);
    ingot::cli::register_quantize(app);
    ingot::cli::register_convert(app);
    ingot::cli::register_eval(app);
    ingot::cli::register_run(app);
    ingot::cli::register_perplexity(app);
    ingot::cli::register_bench(app);
    ingot::cli::register_synth(app);
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ingot::Error& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "error: {}\n", e.what());
    return 1;
  }
  return 0;
}
