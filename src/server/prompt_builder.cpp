#include "server/prompt_builder.h"

#include "chat/chat_template.h"
#include "core/error.h"
#include "server/api_error.h"
#include "tokenizer/tokenizer.h"

#include <fmt/format.h>

namespace ingot::server {

std::vector<int32_t> build_prompt(const GenerateRequest& request, const tokenizer::Tokenizer& tokenizer,
                                  const chat::ChatTemplate* chat_template) {
  if (request.endpoint == Endpoint::completions) {
    if (request.prompt_is_tokens) return request.prompt_tokens;
    std::vector<int32_t> ids = tokenizer.encode(request.prompt_text, /*add_special=*/true, /*parse_special=*/true);
    if (ids.empty()) bad_request("prompt", "the prompt is empty");
    return ids;
  }
  if (chat_template == nullptr) {
    throw ApiError(400, "this model has no chat template; start the server with --chat-template FILE, or use /v1/completions");
  }
  std::string text;
  try {
    text = chat_template->render(request.messages, nullptr, /*add_generation_prompt=*/true);
  } catch (const Error& e) {
    bad_request("messages", fmt::format("the chat template failed on these messages: {}", e.what()));
  }
  std::vector<int32_t> ids = tokenizer.encode(text, /*add_special=*/true, /*parse_special=*/true);
  const tokenizer::Vocab& vocab = tokenizer.vocab();
  if (ids.size() >= 2 && vocab.add_bos && ids[0] == vocab.bos && ids[1] == vocab.bos) ids.erase(ids.begin());
  if (ids.empty()) bad_request("messages", "the rendered chat prompt is empty");
  return ids;
}

}  // namespace ingot::server
