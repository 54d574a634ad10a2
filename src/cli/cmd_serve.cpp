// `ingot serve`: the OpenAI-compatible HTTP server. Until the server lands (issue 7) this only
// says what it will serve.
#include "cli/commands.h"

#include <fmt/format.h>

#include <memory>
#include <string>

namespace ingot::cli {

void register_serve(CLI::App& app) {
  struct Options {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string model;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("serve", "serve a model over an OpenAI-compatible HTTP API");
  cmd->add_option("--host", options->host, "address to listen on")->capture_default_str();
  cmd->add_option("--port", options->port, "port to listen on")->capture_default_str();
  cmd->add_option("-m,--model", options->model, "GGUF model file (default: the shipped model)");
  cmd->callback([options] {
    fmt::print("ingot serve: the HTTP server is not built yet; it will serve {} on http://{}:{}\n",
         options->model.empty() ? std::string("the shipped model models/ingot-tiny") : options->model,
         options->host, options->port);
  });
}

}  // namespace ingot::cli
