// Where a command's chat template comes from: `--chat-template FILE.jinja` overrides the one
// stored in the model's GGUF (`tokenizer.chat_template`); bos/eos strings come from the GGUF's
// token list unless given. Every command that renders chat messages (serve, chat, template)
// uses add_chat_template_options + load_chat_template so the flags behave the same everywhere.
#pragma once

#include "chat/chat_template.h"

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace ingot::cli {

struct ChatTemplateSource {
  std::string model_path;     // a GGUF file, or empty
  std::string template_path;  // a .jinja file that overrides the model's template, or empty
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
};

// Adds `--chat-template FILE` (the override) to `cmd`, writing into source.template_path.
void add_chat_template_option(CLI::App* cmd, ChatTemplateSource& source);

// The template named by `source`. Throws ingot::Error when neither path is set, a file cannot
// be read, the GGUF has no chat template, or the template does not parse.
chat::ChatTemplate load_chat_template(const ChatTemplateSource& source);

// Reads a whole file; `what` names it in the error message.
std::string read_text_file(const std::string& path, std::string_view what);

}  // namespace ingot::cli
