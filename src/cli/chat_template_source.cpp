#include "cli/chat_template_source.h"

#include "core/error.h"

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

chat::ChatTemplate load_chat_template(const ChatTemplateSource& source) {
  if (!source.template_path.empty()) {
    return chat::ChatTemplate(read_text_file(source.template_path, "chat template"), source.bos_token.value_or(""),
                              source.eos_token.value_or(""));
  }
  if (source.model_path.empty()) {
    fail(ErrorCode::invalid_argument, "no chat template: give a model (-m FILE.gguf) or a template (--template FILE.jinja)");
  }
  fail(ErrorCode::unsupported, "reading the chat template from a GGUF ({}) is not available yet", source.model_path);
}

}  // namespace ingot::cli
