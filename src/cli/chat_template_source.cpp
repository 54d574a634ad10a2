#include "cli/chat_template_source.h"

#include "core/error.h"
#include "gguf/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace ingot::cli {

std::string read_text_file(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::not_found, "cannot open {} {}: {}", what, path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(ErrorCode::io, "cannot read {} {}", what, path);
  return text.str();
}

void add_chat_template_option(CLI::App* cmd, ChatTemplateSource& source) {
  cmd->add_option("--chat-template", source.template_path,
                  "a Jinja chat template file that replaces the model's tokenizer.chat_template");
}

namespace {

// The text of the special token whose id is stored under `id_key`, or "" when there is none.
std::string token_text(const gguf::File& model, std::string_view id_key) {
  const auto id = model.find_u32(id_key);
  if (!id || !model.find("tokenizer.ggml.tokens")) return "";
  const auto tokens = model.get_string_array("tokenizer.ggml.tokens");
  if (*id >= tokens.size()) {
    fail(ErrorCode::invalid_file, "{}: {} = {} is past the {} tokens", model.path(), id_key, *id, tokens.size());
  }
  return std::string(tokens[*id]);
}

}  // namespace

chat::ChatTemplate load_chat_template(const ChatTemplateSource& source) {
  if (!source.template_path.empty() && source.model_path.empty()) {
    return chat::ChatTemplate(read_text_file(source.template_path, "chat template"), source.bos_token.value_or(""),
                              source.eos_token.value_or(""));
  }
  if (source.model_path.empty()) {
    fail(ErrorCode::invalid_argument, "no chat template: give a model (-m FILE.gguf) or a template (--template FILE.jinja)");
  }
  const gguf::File model = gguf::File::open(source.model_path);
  std::string text;
  if (!source.template_path.empty()) {
    text = read_text_file(source.template_path, "chat template");
  } else {
    const auto stored = model.find_string("tokenizer.chat_template");
    if (!stored) {
      fail(ErrorCode::not_found, "{} has no tokenizer.chat_template; give one with --chat-template FILE.jinja",
           source.model_path);
    }
    text = std::string(*stored);
  }
  return chat::ChatTemplate(std::move(text), source.bos_token.value_or(token_text(model, "tokenizer.ggml.bos_token_id")),
                            source.eos_token.value_or(token_text(model, "tokenizer.ggml.eos_token_id")));
}

}  // namespace ingot::cli
