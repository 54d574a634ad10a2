// `ingot template`: renders a chat template on a conversation and prints the prompt exactly
// (no newline added). The template comes from a GGUF (-m, with its bos/eos strings) or a
// .jinja file (--template, bos/eos empty unless given). `--cases FILE.jsonl` renders many
// conversations in one process and prints one JSON result per line.
#include "cli/chat_template_source.h"
#include "cli/commands.h"
#include "chat/chat_template.h"
#include "core/error.h"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

namespace ingot::cli {
namespace {

using json = nlohmann::ordered_json;

json read_json_file(const std::string& path, std::string_view what) {
  const std::string text = read_text_file(path, what);
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) fail(ErrorCode::invalid_argument, "{} {} is not valid JSON", what, path);
  return parsed;
}

void write_exact(const std::string& text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) {
    fail(ErrorCode::io, "cannot write to standard output");
  }
  std::fflush(stdout);
}

// The messages of a conversation file: a JSON array, or an object with a "messages" array.
json messages_of(const json& conversation, const std::string& path) {
  if (conversation.is_array()) return conversation;
  if (conversation.is_object() && conversation.contains("messages")) return conversation["messages"];
  fail(ErrorCode::invalid_argument, "{}: expected a JSON array of messages or an object with \"messages\"", path);
}

void render_cases(const chat::ChatTemplate& tmpl, const std::string& path) {
  std::istringstream lines(read_text_file(path, "cases file"));
  std::string line;
  size_t line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json result;
    try {
      const json c = json::parse(line, nullptr, /*allow_exceptions=*/false);
      if (!c.is_object()) fail(ErrorCode::invalid_argument, "{}:{}: a case must be a JSON object", path, line_number);
      chat::ChatRenderOptions options;
      options.add_generation_prompt = c.value("add_generation_prompt", false);
      options.adapt_messages = !c.value("raw", false);
      if (c.contains("extra")) options.extra_context = c["extra"];
      const json tools = c.contains("tools") ? c["tools"] : json(nullptr);
      result = {{"ok", true},
                {"output", tmpl.render(c.contains("messages") ? c["messages"] : json(), tools, options)}};
    } catch (const Error& e) {
      result = {{"ok", false}, {"error", e.what()}};
    }
    write_exact(result.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
  }
}

}  // namespace

void register_template(CLI::App& app) {
  struct Options {
    ChatTemplateSource source;
    std::string messages;
    std::string tools;
    std::string context;
    std::string cases;
    bool add_generation_prompt = false;
    bool raw = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("template", "render a chat template on a conversation and print the prompt");
  cmd->add_option("-m,--model", options->source.model_path, "GGUF model whose tokenizer.chat_template to use");
  cmd->add_option("--template", options->source.template_path, "a Jinja chat template file (.jinja)");
  cmd->add_option("--messages", options->messages, "conversation: a JSON array of messages (or {\"messages\": [...]})");
  cmd->add_option("--tools", options->tools, "a JSON array of tool definitions");
  cmd->add_option("--context", options->context, "a JSON object of extra template variables (e.g. enable_thinking)");
  cmd->add_option("--cases", options->cases,
                  "JSON lines, one case each: {messages, tools, add_generation_prompt, extra, raw}; "
                  "prints one {ok, output | error} line per case");
  cmd->add_flag("--add-generation-prompt", options->add_generation_prompt, "end with the assistant turn's opening");
  cmd->add_option("--bos-token", options->source.bos_token, "the BOS token string (default: the model's, or empty)");
  cmd->add_option("--eos-token", options->source.eos_token, "the EOS token string (default: the model's, or empty)");
  cmd->add_flag("--raw", options->raw, "pass messages exactly as given (no joining of text parts or argument parsing)");
  cmd->callback([options] {
    const chat::ChatTemplate tmpl = load_chat_template(options->source);
    if (!options->cases.empty()) {
      render_cases(tmpl, options->cases);
      return;
    }
    if (options->messages.empty()) fail(ErrorCode::invalid_argument, "ingot template: --messages FILE is required");
    const json conversation = read_json_file(options->messages, "messages file");
    chat::ChatRenderOptions render_options;
    render_options.add_generation_prompt = options->add_generation_prompt;
    render_options.adapt_messages = !options->raw;
    if (!options->context.empty()) render_options.extra_context = read_json_file(options->context, "context file");
    json tools = nullptr;
    if (!options->tools.empty()) {
      tools = read_json_file(options->tools, "tools file");
    } else if (conversation.is_object() && conversation.contains("tools")) {
      tools = conversation["tools"];
    }
    write_exact(tmpl.render(messages_of(conversation, options->messages), tools, render_options));
  });
}

}  // namespace ingot::cli
