// Helpers of the engine tests: a fake model runner whose next token is a hash of the whole
// sequence read back through the KV slots and block tables the scheduler planned (so a wrong
// slot, block table, prefix-cache hit or recompute changes the output), a tiny hand-made
// SentencePiece vocabulary (letters, space, bytes) and event-stream collectors.
#pragma once

#include "core/error.h"
#include "engine/engine.h"
#include "engine/model_runner.h"
#include "ingot/engine.h"
#include "tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace ingot::engine::test {

// Vocabulary: 0 <unk>, 1 <s>, 2 </s>, 3..28 'a'..'z', 29 '▁' (space), 30..285 <0x00>..<0xFF>.
inline constexpr int32_t kEos = 2;
inline constexpr int32_t kFirstLetter = 3;
inline constexpr int32_t kSpace = 29;
inline constexpr int32_t kFirstByte = 30;
inline constexpr int32_t kVocab = 286;

inline tokenizer::Vocab make_vocab() {
  tokenizer::Vocab v;
  v.model = tokenizer::VocabModel::spm;
  auto add = [&](std::string text, tokenizer::TokenType type) {
    v.tokens.push_back(std::move(text));
    v.types.push_back(type);
    v.scores.push_back(0.0f);
  };
  add("<unk>", tokenizer::TokenType::unknown);
  add("<s>", tokenizer::TokenType::control);
  add("</s>", tokenizer::TokenType::control);
  for (char c = 'a'; c <= 'z'; ++c) add(std::string(1, c), tokenizer::TokenType::normal);
  add("\xE2\x96\x81", tokenizer::TokenType::normal);  // ▁
  for (int b = 0; b < 256; ++b) add(fmt::format("<0x{:02X}>", b), tokenizer::TokenType::byte);
  v.unk = 0;
  v.bos = 1;
  v.eos = kEos;
  v.add_bos = false;
  return v;
}

inline std::shared_ptr<const tokenizer::Tokenizer> make_tokenizer() {
  return std::make_shared<const tokenizer::Tokenizer>(make_vocab());
}

// The fake model's choice for the token after `tokens`: a letter or a space, from a hash of
// the whole sequence.
inline uint64_t sequence_hash(std::span<const int32_t> tokens) {
  uint64_t h = 1469598103934665603ull;
  for (const int32_t t : tokens) {
    h ^= static_cast<uint64_t>(t) + 0x9E37u;
    h *= 1099511628211ull;
  }
  return h ^ (h >> 29);
}

inline int32_t fake_next_token(std::span<const int32_t> tokens) {
  const uint64_t h = sequence_hash(tokens);
  const int32_t k = static_cast<int32_t>(h % 27);
  return k == 26 ? kSpace : kFirstLetter + k;
}

// Greedy continuation of `prompt` by the fake model, computed directly (the reference).
inline std::vector<int32_t> fake_greedy(std::vector<int32_t> prompt, int32_t n) {
  std::vector<int32_t> out;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t t = fake_next_token(prompt);
    out.push_back(t);
    prompt.push_back(t);
  }
  return out;
}

struct FakeOptions {
  std::chrono::microseconds step_delay{0};
  // When set, the token after position p is script[(p + 1) % size] instead of the hash.
  std::vector<int32_t> script;
  int64_t fail_at_step = -1;  // run() throws on this step (0-based)
};

class FakeRunner final : public ModelRunner {
 public:
  explicit FakeRunner(FakeOptions options = {}) : options_(std::move(options)) {}

  std::string_view backend_name() const noexcept override { return "fake"; }
  int32_t n_vocab() const noexcept override { return kVocab; }
  void prepare(const RunnerLimits& limits) override {
    limits_ = limits;
    kv_.assign(static_cast<size_t>(limits.n_blocks) * static_cast<size_t>(limits.block_size), -1);
  }

  void run(const StepBatch& batch, std::span<float> logits) override {
    const int64_t step = n_steps_.fetch_add(1);
    if (options_.step_delay.count() > 0) std::this_thread::sleep_for(options_.step_delay);
    if (step == options_.fail_at_step) fail(ErrorCode::device, "fake device failure at step {}", step);
    const int32_t bs = limits_.block_size;
    if (batch.n_rows() > limits_.max_batch_tokens || static_cast<int32_t>(batch.seqs.size()) > limits_.max_seqs) {
      fail(ErrorCode::internal, "fake: step of {} rows / {} seqs exceeds the limits", batch.n_rows(),
           batch.seqs.size());
    }
    max_rows_seen_ = std::max(max_rows_seen_.load(), static_cast<int64_t>(batch.n_rows()));
    for (const kv::BlockCopy& c : batch.copies) {
      std::copy_n(kv_.begin() + static_cast<ptrdiff_t>(c.src) * bs, bs, kv_.begin() + static_cast<ptrdiff_t>(c.dst) * bs);
    }
    for (int32_t r = 0; r < batch.n_rows(); ++r) kv_.at(static_cast<size_t>(batch.slots[static_cast<size_t>(r)])) = batch.tokens[static_cast<size_t>(r)];
    for (const StepSeq& ss : batch.seqs) {
      if (!ss.needs_logits) continue;
      const auto table = batch.block_table(ss);
      std::vector<int32_t> seq;
      for (int32_t p = 0; p < ss.n_context; ++p) {
        const int32_t t = kv_.at(static_cast<size_t>(table[static_cast<size_t>(p / bs)] * bs + p % bs));
        if (t < 0) fail(ErrorCode::internal, "fake: position {} of sequence {} was never written", p, ss.seq);
        seq.push_back(t);
      }
      int32_t next = fake_next_token(seq);
      if (!options_.script.empty()) next = options_.script[static_cast<size_t>(ss.n_context) % options_.script.size()];
      std::span<float> row = logits.subspan(static_cast<size_t>(ss.logits_index) * kVocab, kVocab);
      const uint64_t h = sequence_hash(seq);
      for (int32_t v = 0; v < kVocab; ++v) {
        const bool text = v >= kFirstLetter && v <= kSpace;
        row[static_cast<size_t>(v)] = text ? static_cast<float>((h >> (v % 40)) % 100) / 50.0f : -20.0f;
      }
      row[static_cast<size_t>(next)] = 4.0f;
    }
  }

  int64_t n_steps() const { return n_steps_.load(); }
  int64_t max_rows_seen() const { return max_rows_seen_.load(); }

 private:
  FakeOptions options_;
  RunnerLimits limits_;
  std::vector<int32_t> kv_;  // one token id per KV slot: what the "model" remembers
  std::atomic<int64_t> n_steps_{0};
  std::atomic<int64_t> max_rows_seen_{0};
};

struct FakeEngine {
  FakeRunner* runner = nullptr;  // owned by the engine
  std::unique_ptr<ingot::Engine> engine;
  engine::Engine& core() { return engine->core(); }
};

inline EngineConfig small_config() {
  EngineConfig c;
  c.n_ctx = 512;
  c.max_seqs = 8;
  c.max_batch_tokens = 64;
  c.kv_blocks = 128;
  c.kv_block_size = 16;
  c.seed = 1234;
  return c;
}

inline FakeEngine make_fake_engine(const EngineConfig& config = small_config(), FakeOptions options = {},
                                   bool with_tokenizer = true) {
  auto runner = std::make_unique<FakeRunner>(std::move(options));
  FakeEngine f;
  f.runner = runner.get();
  f.engine = std::make_unique<ingot::Engine>(std::make_unique<engine::Engine>(
      std::move(runner), with_tokenizer ? make_tokenizer() : nullptr, config));
  return f;
}

// Everything one choice produced.
struct ChoiceResult {
  std::vector<int32_t> tokens;
  std::string text;
  std::vector<Event> events;
  Event final_event;
  bool finished = false;
};

// Reads a handle to the end (with a generous timeout per event so a hang fails the test).
inline std::vector<ChoiceResult> collect(RequestHandle& handle, std::chrono::milliseconds per_event = std::chrono::seconds(60)) {
  std::vector<ChoiceResult> out(static_cast<size_t>(handle.n_choices()));
  while (!handle.done()) {
    std::optional<Event> e = handle.next_event_for(per_event);
    if (!e) {
      if (handle.done()) break;
      throw Error(ErrorCode::internal, "no event within the timeout");
    }
    ChoiceResult& c = out.at(static_cast<size_t>(e->choice));
    c.tokens.insert(c.tokens.end(), e->tokens.begin(), e->tokens.end());
    c.text += e->text;
    if (e->finished) {
      c.finished = true;
      c.final_event = *e;
    }
    c.events.push_back(std::move(*e));
  }
  return out;
}

inline std::string letters(std::span<const int32_t> tokens) {
  std::string s;
  for (const int32_t t : tokens) s += t == kSpace ? ' ' : static_cast<char>('a' + (t - kFirstLetter));
  return s;
}

// Polls the engine until `done(snapshot)` holds or `timeout` passes; returns the last snapshot.
template <typename Pred>
EngineSnapshot wait_for(engine::Engine& core, Pred done, std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  EngineSnapshot s = core.snapshot();
  while (!done(s) && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    s = core.snapshot();
  }
  return s;
}

inline bool idle(const EngineSnapshot& s) { return s.n_requests == 0 && s.kv.n_used == 0 && s.n_running == 0; }

}  // namespace ingot::engine::test
