// ChatTemplate: a model's Jinja chat template, parsed once, rendered per request with the
// OpenAI-style `messages` (+ `tools`, `add_generation_prompt`, bos/eos and extra variables).
// At construction a few tiny probe renders learn what the template reads (string or typed
// content, tool-call arguments as objects or strings); `render` then adapts the messages the
// way llama.cpp does before rendering. Parsing is linear in the template; a render costs what
// the template computes, bounded by RenderLimits.
#pragma once

#include "chat/ast.h"
#include "chat/evaluator.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace ingot::chat {

// What the probe renders found the template to read.
struct ChatTemplateCaps {
  bool reads_string_content = false;    // prints a message whose content is a string
  bool reads_typed_content = false;     // prints the text of [{type: text, text}] content parts
  bool reads_string_arguments = false;  // prints tool-call arguments given as a JSON string
  bool reads_object_arguments = false;  // prints tool-call arguments given as an object
};

struct ChatRenderOptions {
  bool add_generation_prompt = false;
  // Adapt messages to the template (join text parts, parse/serialise tool-call arguments).
  // Off: the messages reach the template exactly as given.
  bool adapt_messages = true;
  nlohmann::ordered_json extra_context = nullptr;  // an object of extra variables, or null
};

class ChatTemplate {
 public:
  // Parses `source`; throws ingot::Error (invalid_file) with line:column on a syntax error.
  ChatTemplate(std::string source, std::string bos_token = "", std::string eos_token = "");

  // Renders `messages` (a JSON array) with `tools` (an array, or null for none: then the
  // template sees `tools` as undefined). Throws ingot::Error (invalid_argument) when the template
  // raises or fails, with the template line:column.
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                     const ChatRenderOptions& options) const;
  std::string render(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools = nullptr,
                     bool add_generation_prompt = false) const;

  // The messages as `render` passes them to the template when adapt_messages is on.
  nlohmann::ordered_json adapt_messages(const nlohmann::ordered_json& messages) const;

  const ChatTemplateCaps& caps() const { return caps_; }
  const std::string& source() const { return source_; }
  const std::string& bos_token() const { return bos_token_; }
  const std::string& eos_token() const { return eos_token_; }
  void set_limits(const RenderLimits& limits) { limits_ = limits; }

 private:
  std::string render_exact(const nlohmann::ordered_json& messages, const nlohmann::ordered_json& tools,
                           const ChatRenderOptions& options) const;
  void probe();

  std::string source_;
  std::string bos_token_;
  std::string eos_token_;
  std::shared_ptr<const StmtList> program_;
  ChatTemplateCaps caps_;
  RenderLimits limits_;
};

}  // namespace ingot::chat
