#include "tokenizer/unigram.h"

#include "tokenizer/byte_piece.h"

#include "tokenizer/utf8.h"

#include <algorithm>

namespace ingot::tokenizer {

namespace {

constexpr double unknown_penalty = 10.0;  // SentencePiece's kUnkPenalty

}  // namespace

void Unigram::build(const Vocab& vocab) {
  const size_t n = vocab.n_tokens();
  scores_.assign(n, 0.0);
  for (size_t i = 0; i < vocab.scores.size(); ++i) scores_[i] = vocab.scores[i];
  const double min_score = scores_.empty() ? 0.0 : *std::min_element(scores_.begin(), scores_.end());
  unk_score_ = min_score - unknown_penalty;
  unk_ = vocab.unk;
  byte_tokens_.fill(no_token);
  prefixes_.clear();
  prefixes_.reserve(n * 4);
  for (size_t i = 0; i < n; ++i) {
    const auto id = static_cast<TokenId>(i);
    const TokenType type = vocab.type_of(id);
    if (type == TokenType::control || type == TokenType::unknown) continue;
    const std::string_view text = vocab.tokens[i];
    if (type == TokenType::byte) {
      const int b = parse_byte_piece(text);
      if (b >= 0 && byte_tokens_[b] == no_token) byte_tokens_[b] = id;
    }
    size_t pos = 0;
    while (pos < text.size()) {
      uint32_t cp;
      pos += utf8_decode(text, pos, cp);
      prefixes_.try_emplace(text.substr(0, pos), no_token);
    }
    // A text listed twice maps to its last id, as the reference's text -> id map does.
    prefixes_[text] = id;
  }
}

void Unigram::append_unknown(std::string_view text, std::vector<TokenId>& out) const {
  bool all_bytes = !text.empty();
  for (char c : text) all_bytes &= byte_tokens_[static_cast<uint8_t>(c)] != no_token;
  if (all_bytes) {
    for (char c : text) out.push_back(byte_tokens_[static_cast<uint8_t>(c)]);
  } else if (unk_ != no_token) {
    out.push_back(unk_);
  }
}

void Unigram::encode(std::string_view text, std::vector<TokenId>& out) const {
  if (text.empty()) return;
  std::vector<size_t> offsets;  // byte offset of each character, then text.size()
  offsets.reserve(text.size() + 1);
  for (size_t pos = 0; pos < text.size();) {
    offsets.push_back(pos);
    uint32_t cp;
    pos += utf8_decode(text, pos, cp);
  }
  offsets.push_back(text.size());
  const auto n_chars = static_cast<int32_t>(offsets.size() - 1);

  // Lattice nodes in the reference's insertion order: by start, shorter pieces first, then the
  // unknown node when no one-character piece starts there. Node 0 is the start of the text.
  std::vector<Node> nodes;
  nodes.reserve(static_cast<size_t>(n_chars) * 4 + 1);
  nodes.push_back({no_token, 0, 0, 0.0, 0.0, -1});
  std::vector<int32_t> first_at(static_cast<size_t>(n_chars) + 1);
  for (int32_t begin = 0; begin < n_chars; ++begin) {
    first_at[begin] = static_cast<int32_t>(nodes.size());
    bool single = false;
    for (int32_t end = begin + 1; end <= n_chars; ++end) {
      const auto it = prefixes_.find(text.substr(offsets[begin], offsets[end] - offsets[begin]));
      if (it == prefixes_.end()) break;
      if (it->second == no_token) continue;
      nodes.push_back({it->second, begin, end, scores_[it->second], 0.0, -1});
      single |= end == begin + 1;
    }
    if (!single) nodes.push_back({no_token, begin, begin + 1, unk_score_, 0.0, -1});
  }
  first_at[n_chars] = static_cast<int32_t>(nodes.size());

  // Nodes ending at each character index, in insertion order (counting sort by end).
  std::vector<int32_t> end_start(static_cast<size_t>(n_chars) + 2, 0);
  for (const Node& node : nodes) ++end_start[node.end + 1];
  for (size_t i = 1; i < end_start.size(); ++i) end_start[i] += end_start[i - 1];
  std::vector<int32_t> by_end(nodes.size());
  {
    std::vector<int32_t> fill(end_start.begin(), end_start.end() - 1);
    for (size_t i = 0; i < nodes.size(); ++i) by_end[fill[nodes[i].end]++] = static_cast<int32_t>(i);
  }

  // Viterbi: each node takes the first predecessor with the highest (its score + this score),
  // compared in double exactly as the reference compares them.
  auto best_predecessor = [&](int32_t pos, double score, double& best) {
    int32_t best_node = -1;
    for (int32_t k = end_start[pos]; k < end_start[pos + 1]; ++k) {
      const double candidate = nodes[by_end[k]].backtrace + score;
      if (best_node < 0 || candidate > best) {
        best_node = by_end[k];
        best = candidate;
      }
    }
    return best_node;
  };
  for (int32_t pos = 0; pos < n_chars; ++pos) {
    for (int32_t r = first_at[pos]; r < first_at[pos + 1]; ++r) {
      double best = 0.0;
      nodes[r].prev = best_predecessor(pos, nodes[r].score, best);
      nodes[r].backtrace = best;
    }
  }
  double best = 0.0;
  int32_t node = best_predecessor(n_chars, 0.0, best);

  std::vector<int32_t> path;
  for (; node > 0; node = nodes[node].prev) path.push_back(node);
  std::reverse(path.begin(), path.end());
  for (size_t i = 0; i < path.size();) {
    const Node& current = nodes[path[i]];
    if (current.id != no_token) {
      out.push_back(current.id);
      ++i;
      continue;
    }
    size_t j = i;
    while (j < path.size() && nodes[path[j]].id == no_token) ++j;  // unknowns fuse
    const size_t begin = offsets[nodes[path[i]].begin];
    const size_t end = offsets[nodes[path[j - 1]].end];
    append_unknown(text.substr(begin, end - begin), out);
    i = j;
  }
}

}  // namespace ingot::tokenizer
