// The small routes: GET /v1/models, POST /tokenize ({"content", "add_special", "with_pieces"}
// -> {"tokens"}) and POST /detokenize ({"tokens"} -> {"content"}), as llama.cpp's server
// answers them. Pure functions of the served model and the body; throw ApiError(400).
#pragma once

#include "server/served_model.h"

#include <nlohmann/json.hpp>

#include <string_view>

namespace ingot::server {

nlohmann::ordered_json models_json(const ServedModel& model);
nlohmann::ordered_json tokenize_json(const ServedModel& model, std::string_view body);
nlohmann::ordered_json detokenize_json(const ServedModel& model, std::string_view body);

}  // namespace ingot::server
