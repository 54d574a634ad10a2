// The public ingot::Engine and ingot::RequestHandle (include/ingot/engine.h): thin forwarding
// to the engine core and the request's stream.
#include "engine/engine.h"
#include "ingot/engine.h"

namespace ingot {

RequestHandle::RequestHandle(std::shared_ptr<engine::RequestStream> stream, std::shared_ptr<engine::Inbox> inbox)
    : stream_(std::move(stream)), inbox_(std::move(inbox)) {}

RequestHandle::~RequestHandle() {
  if (stream_ != nullptr && !stream_->closed()) cancel();
}

RequestHandle& RequestHandle::operator=(RequestHandle&& other) noexcept {
  if (this != &other) {
    if (stream_ != nullptr && !stream_->closed()) cancel();
    stream_ = std::move(other.stream_);
    inbox_ = std::move(other.inbox_);
  }
  return *this;
}

RequestId RequestHandle::id() const { return stream_ ? stream_->id() : 0; }
int32_t RequestHandle::n_choices() const { return stream_ ? stream_->n_choices() : 0; }

std::optional<Event> RequestHandle::next_event() {
  return stream_ ? stream_->pop() : std::nullopt;
}

std::optional<Event> RequestHandle::next_event_for(std::chrono::milliseconds timeout) {
  return stream_ ? stream_->pop_for(timeout) : std::nullopt;
}

std::optional<Event> RequestHandle::poll() { return stream_ ? stream_->try_pop() : std::nullopt; }

bool RequestHandle::done() const { return stream_ == nullptr || stream_->done(); }

void RequestHandle::cancel() {
  if (stream_ != nullptr && inbox_ != nullptr && !stream_->closed()) inbox_->cancel(stream_->id());
}

Engine::Engine(std::unique_ptr<engine::Engine> core) : core_(std::move(core)) {}

Engine::~Engine() = default;  // the core's destructor stops the loop

RequestHandle Engine::submit(Request request) {
  return RequestHandle(core_->submit(std::move(request)), core_->inbox());
}

void Engine::cancel(RequestId id) { core_->cancel(id); }
void Engine::shutdown(std::chrono::milliseconds drain_timeout) { core_->shutdown(drain_timeout); }
void Engine::stop() { core_->stop(); }
const EngineInfo& Engine::info() const noexcept { return core_->info(); }
const tokenizer::Tokenizer* Engine::tokenizer() const noexcept { return core_->tokenizer(); }
engine::MetricsRegistry& Engine::metrics() noexcept { return core_->metrics(); }

}  // namespace ingot
