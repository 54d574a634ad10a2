// Turns a parsed request into prompt token ids: completions text is tokenized as is (BOS as the
// vocabulary asks, special-token texts parsed); chat messages are rendered with the model's
// chat template (add_generation_prompt) and then tokenized, keeping one BOS when the template
// wrote its own. Costs one template render and one tokenizer pass over the prompt.
#pragma once

#include "server/request_parser.h"

#include <cstdint>
#include <vector>

namespace ingot::chat {
class ChatTemplate;
}
namespace ingot::tokenizer {
class Tokenizer;
}

namespace ingot::server {

// Throws ApiError(400) for an empty prompt, a chat request on a model with no template, or a
// template that fails on these messages.
std::vector<int32_t> build_prompt(const GenerateRequest& request, const tokenizer::Tokenizer& tokenizer,
                                  const chat::ChatTemplate* chat_template);

}  // namespace ingot::server
