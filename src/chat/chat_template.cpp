#include "chat/chat_template.h"

#include "chat/lexer.h"
#include "chat/parser.h"
#include "core/error.h"

namespace ingot::chat {

using json = nlohmann::ordered_json;

namespace {

constexpr const char* probe_text = "ingot-probe-7f3a";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

bool is_text_part_list(const json& content) {
  if (!content.is_array()) return false;
  for (const auto& part : content) {
    if (!part.is_object() || !part.contains("type")) return false;
  }
  return true;
}

// Text parts joined with newlines; parts of other types (images, audio) are left out.
std::string join_text_parts(const json& content) {
  std::string text;
  bool first = true;
  for (const auto& part : content) {
    if (part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string()) continue;
    if (!first) text += '\n';
    text += part["text"].get<std::string>();
    first = false;
  }
  return text;
}

}  // namespace

ChatTemplate::ChatTemplate(std::string source, std::string bos_token, std::string eos_token)
    : source_(std::move(source)), bos_token_(std::move(bos_token)), eos_token_(std::move(eos_token)) {
  program_ = std::make_shared<const StmtList>(parse(tokenize(source_)));
  probe();
}

void ChatTemplate::probe() {
  ChatRenderOptions options;
  options.add_generation_prompt = true;
  options.adapt_messages = false;
  const auto try_render = [&](const json& messages) -> std::string {
    try {
      return render_exact(messages, nullptr, options);
    } catch (const Error&) {
      return "";
    }
  };
  const std::string probe = probe_text;
  caps_.reads_string_content = contains(try_render(json::array({{{"role", "user"}, {"content", probe}}})), probe);
  const std::string typed = try_render(
      json::array({{{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", probe}}})}}}));
  caps_.reads_typed_content = contains(typed, probe) && !contains(typed, "\"text\": \"" + probe);

  const std::string args_text = "{\"probe_arg\": 1}";
  for (const json& content : {json(nullptr), json("")}) {
    const auto conversation = [&](const json& arguments) {
      json call = {{"id", "call12345"},
                   {"type", "function"},
                   {"function", {{"name", "probe_fn"}, {"arguments", arguments}}}};
      return json::array({{{"role", "user"}, {"content", "probe question"}},
                          {{"role", "assistant"}, {"content", content}, {"tool_calls", json::array({call})}},
                          {{"role", "tool"}, {"tool_call_id", "call12345"}, {"name", "probe_fn"}, {"content", "probe result"}},
                          {{"role", "user"}, {"content", "probe follow-up"}}});
    };
    caps_.reads_string_arguments = caps_.reads_string_arguments || contains(try_render(conversation(args_text)), args_text);
    caps_.reads_object_arguments =
        caps_.reads_object_arguments || contains(try_render(conversation(json::parse(args_text))), args_text);
  }
}

json ChatTemplate::adapt_messages(const json& messages) const {
  if (!messages.is_array()) return messages;
  json out = messages;
  const bool join_parts = !caps_.reads_typed_content && caps_.reads_string_content;
  const bool parse_arguments = caps_.reads_object_arguments && !caps_.reads_string_arguments;
  const bool serialise_arguments = caps_.reads_string_arguments && !caps_.reads_object_arguments;
  for (auto& message : out) {
    if (!message.is_object()) continue;
    if (join_parts && message.contains("content") && is_text_part_list(message["content"])) {
      message["content"] = join_text_parts(message["content"]);
    }
    if (!message.contains("tool_calls") || !message["tool_calls"].is_array()) continue;
    for (auto& call : message["tool_calls"]) {
      if (!call.is_object() || !call.contains("function") || !call["function"].is_object()) continue;
      json& function = call["function"];
      if (!function.contains("arguments")) continue;
      json& arguments = function["arguments"];
      if (parse_arguments && arguments.is_string()) {
        json parsed = json::parse(arguments.get<std::string>(), nullptr, /*allow_exceptions=*/false);
        if (parsed.is_object()) arguments = std::move(parsed);
      } else if (serialise_arguments && arguments.is_object()) {
        arguments = to_json_text(Value::from_json(arguments), JsonFormat{});
      }
    }
  }
  return out;
}

std::string ChatTemplate::render(const json& messages, const json& tools, const ChatRenderOptions& options) const {
  if (!options.adapt_messages) return render_exact(messages, tools, options);
  return render_exact(adapt_messages(messages), tools, options);
}

std::string ChatTemplate::render(const json& messages, const json& tools, bool add_generation_prompt) const {
  ChatRenderOptions options;
  options.add_generation_prompt = add_generation_prompt;
  return render(messages, tools, options);
}

std::string ChatTemplate::render_exact(const json& messages, const json& tools, const ChatRenderOptions& options) const {
  if (!messages.is_array()) fail(ErrorCode::invalid_argument, "chat messages must be a JSON array");
  if (!tools.is_null() && !tools.is_array()) fail(ErrorCode::invalid_argument, "chat tools must be a JSON array or null");
  if (!options.extra_context.is_null() && !options.extra_context.is_object()) {
    fail(ErrorCode::invalid_argument, "extra chat template context must be a JSON object");
  }
  auto globals = std::make_shared<Scope>();
  globals->set("messages", Value::from_json(messages));
  if (!tools.is_null()) globals->set("tools", Value::from_json(tools));
  globals->set("add_generation_prompt", Value(options.add_generation_prompt));
  globals->set("bos_token", Value(bos_token_));
  globals->set("eos_token", Value(eos_token_));
  if (options.extra_context.is_object()) {
    for (auto it = options.extra_context.begin(); it != options.extra_context.end(); ++it) {
      globals->set(it.key(), Value::from_json(it.value()));
    }
  }
  return render_program(*program_, std::move(globals), limits_);
}

}  // namespace ingot::chat
