// What the HTTP routes need from the loaded model: the engine (submit/cancel, tokenizer,
// limits, metrics), the names a request's `model` may use, and the chat template. Built once
// the model has loaded and shared read-only by every handler thread.
#pragma once

#include "chat/chat_template.h"
#include "ingot/engine.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ingot::server {

struct ServedModel {
  Engine* engine = nullptr;  // not owned; outlives the server's handlers
  std::string id;            // listed by /v1/models and echoed in responses
  std::vector<std::string> aliases;  // also accepted as `model` (general.name, the file path)
  std::shared_ptr<const chat::ChatTemplate> chat_template;  // null: chat requests get 400
  int64_t created = 0;       // Unix seconds, for /v1/models

  bool accepts(const std::string& name) const {
    if (name.empty() || name == id) return true;
    for (const std::string& a : aliases) {
      if (name == a) return true;
    }
    return false;
  }
};

}  // namespace ingot::server
