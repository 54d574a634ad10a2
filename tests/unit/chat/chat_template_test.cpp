// ChatTemplate: rendering messages, bos/eos, tools, extra context, and the probe-driven
// adaptation of messages (text parts joined, tool-call arguments parsed or serialised).
#include "chat/chat_template.h"
#include "core/error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ingot::chat {
namespace {

using json = nlohmann::ordered_json;

std::string fixture(const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(INGOT_SHARED_DIR) / "fixtures" / "chat-templates" / name;
  std::ifstream in(path);
  if (!in) return "";
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const char* chatml =
    "{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}"
    "{% if tools %}TOOLS:{{ tools | map(attribute='name') | join(',') }}\n{% endif %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}{% if flag is defined %}flag={{ flag }}{% endif %}";

TEST(ChatTemplate, RendersMessagesToolsAndTokens) {
  const ChatTemplate tmpl(chatml, "<s>", "</s>");
  const json messages = json::parse(R"([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}])");
  EXPECT_EQ(tmpl.render(messages), "<s><|user|>hi\n<|assistant|>yo\n");
  EXPECT_EQ(tmpl.render(messages, json::parse(R"([{"name": "f"}, {"name": "g"}])"), true),
            "<s><|user|>hi\n<|assistant|>yo\nTOOLS:f,g\n<|assistant|>");
  ChatRenderOptions options;
  options.extra_context = json::parse(R"({"flag": false})");
  EXPECT_EQ(tmpl.render(json::array(), nullptr, options), "<s>flag=false");
  EXPECT_EQ(tmpl.bos_token(), "<s>");
  EXPECT_EQ(tmpl.eos_token(), "</s>");
}

TEST(ChatTemplate, RejectsBadInputsWithErrors) {
  const ChatTemplate tmpl(chatml);
  EXPECT_THROW(tmpl.render(json::object()), Error);
  EXPECT_THROW(tmpl.render(json::array(), json::object()), Error);
  EXPECT_THROW(ChatTemplate("{% if %}"), Error);
}

TEST(ChatTemplate, ProbesWhatASimpleTemplateReads) {
  const ChatTemplate tmpl(chatml);
  EXPECT_TRUE(tmpl.caps().reads_string_content);
  EXPECT_FALSE(tmpl.caps().reads_typed_content);
  const json parts = json::parse(
      R"([{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}]}])");
  EXPECT_EQ(tmpl.render(parts), "<|user|>a\nb\n");  // text parts joined with newlines
  ChatRenderOptions raw;
  raw.adapt_messages = false;
  EXPECT_EQ(tmpl.render(parts, nullptr, raw),
            R"(<|user|>[{"type": "text", "text": "a"}, {"type": "image"}, {"type": "text", "text": "b"}])"
            "\n");
}

TEST(ChatTemplate, TypedContentTemplatesKeepParts) {
  const ChatTemplate tmpl(
      "{% for m in messages %}{% if m.content is string %}{{ m.content }}{% else %}"
      "{% for p in m.content %}[{{ p.text }}]{% endfor %}{% endif %}{% endfor %}");
  EXPECT_TRUE(tmpl.caps().reads_typed_content);
  EXPECT_EQ(tmpl.render(json::parse(R"([{"role": "user", "content": [{"type": "text", "text": "a"}]}])")), "[a]");
}

TEST(ChatTemplate, QwenGetsObjectArgumentsAndJoinedParts) {
  const std::string source = fixture("Qwen-Qwen2.5-7B-Instruct.jinja");
  if (source.empty()) GTEST_SKIP() << "shared chat-template fixtures are absent";
  const ChatTemplate tmpl(source);
  EXPECT_TRUE(tmpl.caps().reads_object_arguments);
  EXPECT_FALSE(tmpl.caps().reads_string_arguments);
  const auto conversation = [](const json& arguments) {
    return json::array({{{"role", "user"}, {"content", "weather?"}},
                        {{"role", "assistant"},
                         {"content", ""},
                         {"tool_calls", json::array({{{"type", "function"},
                                                      {"function", {{"name", "get_weather"}, {"arguments", arguments}}}}})}}});
  };
  const std::string with_object = tmpl.render(conversation(json::parse(R"({"city": "Paris"})")));
  EXPECT_EQ(tmpl.render(conversation(R"({"city": "Paris"})")), with_object);
  EXPECT_NE(with_object.find(R"({"name": "get_weather", "arguments": {"city": "Paris"}})"), std::string::npos);
  const json parts = json::parse(R"([{"role": "user", "content": [{"type": "text", "text": "hello"}]}])");
  const json plain = json::parse(R"([{"role": "user", "content": "hello"}])");
  EXPECT_EQ(tmpl.render(parts, nullptr, true), tmpl.render(plain, nullptr, true));
}

TEST(ChatTemplate, DeepSeekGetsStringArguments) {
  const std::string source = fixture("deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja");
  if (source.empty()) GTEST_SKIP() << "shared chat-template fixtures are absent";
  const ChatTemplate tmpl(source);
  EXPECT_TRUE(tmpl.caps().reads_string_arguments);
  EXPECT_FALSE(tmpl.caps().reads_object_arguments);
  const json messages = json::parse(R"([{"role": "user", "content": "q"},
      {"role": "assistant", "content": null, "tool_calls": [{"type": "function",
        "function": {"name": "f", "arguments": {"x": 1}}}]}])");
  EXPECT_NE(tmpl.render(messages).find("```json\n{\"x\": 1}\n```"), std::string::npos);
}

TEST(ChatTemplate, TemplateExceptionsBecomeErrors) {
  const std::string source = fixture("google-gemma-2-2b-it.jinja");
  if (source.empty()) GTEST_SKIP() << "shared chat-template fixtures are absent";
  const ChatTemplate tmpl(source, "<bos>");
  const json messages = json::parse(R"([{"role": "system", "content": "s"}, {"role": "user", "content": "u"}])");
  try {
    tmpl.render(messages);
    FAIL() << "Gemma 2 must reject a system message";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("System role not supported"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("line 1:"), std::string::npos);
  }
  EXPECT_EQ(tmpl.render(json::parse(R"([{"role": "user", "content": " hi "}])"), nullptr, true),
            "<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplate, EveryFixtureParses) {
  const std::filesystem::path dir = std::filesystem::path(INGOT_SHARED_DIR) / "fixtures" / "chat-templates";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << "shared chat-template fixtures are absent";
  int n = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".jinja") continue;
    EXPECT_NO_THROW(ChatTemplate(fixture(entry.path().filename().string()))) << entry.path();
    ++n;
  }
  EXPECT_GE(n, 10);
}

}  // namespace
}  // namespace ingot::chat
