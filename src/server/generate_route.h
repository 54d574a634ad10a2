// POST /v1/completions and /v1/chat/completions: parse and check the request, build the prompt,
// check it fits the context, submit it to the engine, then answer with one JSON body or an SSE
// stream. A stream is written from one call of httplib's chunked provider, so a client that
// goes away makes a write fail and the request is cancelled (its KV blocks freed) at the next
// engine step. Costs one handler thread per request for its whole duration.
#pragma once

#include "server/request_parser.h"
#include "server/served_model.h"

namespace httplib {
struct Request;
struct Response;
}

namespace ingot::server {

struct ServerOptions;

// Fills `res` (status, body or stream provider). Throws ApiError for request errors.
void handle_generate(const std::shared_ptr<const ServedModel>& model, const ServerOptions& options, Endpoint endpoint,
                     const httplib::Request& req, httplib::Response& res);

// The context check, exposed for tests: 400 with the prompt and max_tokens numbers when the
// request can never fit `n_ctx`.
void check_context(int64_t n_prompt, const SamplingParams& sampling, int32_t n_ctx, Endpoint endpoint);

}  // namespace ingot::server
