#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "tokenizer/byte_piece.h"
#include "tokenizer/merges.h"
#include "tokenizer/nfc.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/special_trie.h"
#include "tokenizer/unigram.h"
#include "tokenizer/spm.h"
#include "tokenizer/spm_segments.h"
#include "tokenizer/utf8.h"

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <unordered_map>

namespace ingot::tokenizer {

namespace {

constexpr std::string_view spm_space = "\xE2\x96\x81";  // ▁
constexpr size_t max_cached_word_bytes = 256;
constexpr size_t max_cache_entries = 1 << 18;

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Pre-tokenizers whose models look a whole word up before merging (Hugging Face
// `ignore_merges`; llama.cpp keys it on the same names).
bool uses_ignore_merges(std::string_view pre) {
  for (std::string_view name : {"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral",
                                "midm-2.0", "lfm2", "tekken"}) {
    if (pre == name) return true;
  }
  return false;
}

void replace_spm_spaces(std::string_view text, std::string& out) {
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t found = text.find(spm_space, pos);
    if (found == std::string_view::npos) {
      out.append(text.substr(pos));
      break;
    }
    out.append(text.substr(pos, found - pos));
    out.push_back(' ');
    pos = found + spm_space.size();
  }
}

}  // namespace

struct Tokenizer::Impl {
  Vocab vocab;
  std::unordered_map<std::string_view, TokenId> index;
  SpecialTrie specials;
  MergeTable merges;
  std::optional<PreTokenizer> pre;
  bool ignore_merges = false;
  std::array<TokenId, 256> byte_level_ids{};  // BPE: id of each byte's GPT-2 character
  SpmContext spm;
  SpmSegmenter segmenter;  // SPM with merges: cut points no merge crosses
  Unigram unigram;         // "t5"
  std::vector<TokenId> eog;
  std::vector<uint8_t> eog_flags;

  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<TokenId>, StringHash, std::equal_to<>> cache;

  TokenId find(std::string_view text) const noexcept {
    const auto it = index.find(text);
    return it == index.end() ? no_token : it->second;
  }

  // Appends the cached ids of `word` and returns true, or returns false.
  bool from_cache(std::string_view word, std::vector<TokenId>& out) const;
  void to_cache(std::string_view word, std::vector<TokenId> ids) const;

  // `text` lies between special tokens (or the input's ends); at_start: it begins the input.
  void encode_fragment(std::string_view text, bool at_start, std::vector<TokenId>& out) const;
  void encode_unigram(std::string_view text, bool at_start, std::vector<TokenId>& out) const;
  void encode_bpe_word(std::string_view word, std::vector<TokenId>& out) const;
  void encode_spm_merges(std::string_view text, std::vector<TokenId>& out) const;
};

Tokenizer::Tokenizer(Vocab vocab) : impl_(std::make_unique<Impl>()) {
  validate(vocab);
  Impl& m = *impl_;
  m.vocab = std::move(vocab);
  const Vocab& v = m.vocab;
  m.index.reserve(v.n_tokens());
  for (size_t i = 0; i < v.n_tokens(); ++i) m.index.emplace(v.tokens[i], static_cast<TokenId>(i));
  for (size_t i = 0; i < v.n_tokens(); ++i) {
    const TokenType t = v.type_of(static_cast<TokenId>(i));
    if (t == TokenType::control || t == TokenType::user_defined || t == TokenType::unknown) {
      m.specials.insert(v.tokens[i], static_cast<TokenId>(i));
    }
  }
  auto find_id = [&m](std::string_view text) { return m.find(text); };
  if (!v.merges.empty()) m.merges.build(v.merges, find_id);
  if (v.model == VocabModel::bpe) {
    m.pre.emplace(v.pre);
    m.ignore_merges = uses_ignore_merges(v.pre);
    const auto& table = byte_to_unicode();
    for (int b = 0; b < 256; ++b) {
      m.byte_level_ids[b] = m.find(table[b]);
      if (m.byte_level_ids[b] == no_token) m.byte_level_ids[b] = v.unk;
    }
  }
  m.spm.find_id = find_id;
  m.spm.scores = &v.scores;
  m.spm.unk = v.unk;
  m.spm.byte_tokens.fill(no_token);
  for (size_t i = 0; i < v.n_tokens(); ++i) {
    const int b = parse_byte_piece(v.tokens[i]);
    if (b >= 0 && m.spm.byte_tokens[b] == no_token) m.spm.byte_tokens[b] = static_cast<TokenId>(i);
  }
  if (v.model == VocabModel::spm && !m.merges.empty()) {
    std::vector<TokenId> fallback_ids;
    for (TokenId id : m.spm.byte_tokens) {
      if (id != no_token) fallback_ids.push_back(id);
    }
    if (v.unk != no_token) fallback_ids.push_back(v.unk);
    m.segmenter.build(v, m.merges, fallback_ids);
  }
  if (v.model == VocabModel::ugm) m.unigram.build(v);
  m.eog = end_of_generation_ids(v);
  m.eog_flags.assign(v.n_tokens(), 0);
  for (TokenId id : m.eog) m.eog_flags[id] = 1;
}

Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

const Vocab& Tokenizer::vocab() const noexcept { return impl_->vocab; }
TokenId Tokenizer::find(std::string_view text) const noexcept { return impl_->find(text); }
const std::vector<TokenId>& Tokenizer::end_of_generation() const noexcept { return impl_->eog; }

bool Tokenizer::is_end_of_generation(TokenId id) const noexcept {
  return id >= 0 && static_cast<size_t>(id) < impl_->eog_flags.size() && impl_->eog_flags[id];
}

bool Tokenizer::is_control(TokenId id) const noexcept {
  return id >= 0 && static_cast<size_t>(id) < n_tokens() && vocab().type_of(id) == TokenType::control;
}

bool Tokenizer::Impl::from_cache(std::string_view word, std::vector<TokenId>& out) const {
  if (word.size() > max_cached_word_bytes) return false;
  std::lock_guard lock(cache_mutex);
  const auto it = cache.find(word);
  if (it == cache.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void Tokenizer::Impl::to_cache(std::string_view word, std::vector<TokenId> ids) const {
  if (word.size() > max_cached_word_bytes) return;
  std::lock_guard lock(cache_mutex);
  if (cache.size() >= max_cache_entries) cache.clear();
  cache.emplace(std::string(word), std::move(ids));
}

void Tokenizer::Impl::encode_bpe_word(std::string_view word, std::vector<TokenId>& out) const {
  if (from_cache(word, out)) return;
  std::vector<TokenId> symbols;
  symbols.reserve(word.size());
  bool whole = false;
  if (ignore_merges) {
    std::string encoded;
    const auto& table = byte_to_unicode();
    for (char c : word) encoded += table[static_cast<uint8_t>(c)];
    const TokenId id = find(encoded);
    if (id != no_token) {
      symbols.push_back(id);
      whole = true;
    }
  }
  if (!whole) {
    for (char c : word) {
      const TokenId id = byte_level_ids[static_cast<uint8_t>(c)];
      if (id != no_token) symbols.push_back(id);
    }
    apply_merges(merges, symbols);
  }
  out.insert(out.end(), symbols.begin(), symbols.end());
  to_cache(word, std::move(symbols));
}

// Hugging Face BPE with byte fallback over ▁-escaped text (Gemma, Llama 2 from tokenizer.json):
// characters are the first symbols, those missing from the vocabulary become <0xNN> tokens.
// `text` is one segment of SpmSegmenter (or the whole fragment when it is disabled).
void Tokenizer::Impl::encode_spm_merges(std::string_view text, std::vector<TokenId>& out) const {
  if (from_cache(text, out)) return;
  std::vector<TokenId> symbols;
  symbols.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp;
    const size_t len = utf8_decode(text, pos, cp);
    const TokenId id = find(text.substr(pos, len));
    if (id != no_token) {
      symbols.push_back(id);
    } else {
      bool all_bytes = true;
      for (size_t i = 0; i < len; ++i) all_bytes &= spm.byte_tokens[static_cast<uint8_t>(text[pos + i])] != no_token;
      if (all_bytes) {
        for (size_t i = 0; i < len; ++i) symbols.push_back(spm.byte_tokens[static_cast<uint8_t>(text[pos + i])]);
      } else if (vocab.unk != no_token) {
        symbols.push_back(vocab.unk);
      }
    }
    pos += len;
  }
  apply_merges(merges, symbols);
  out.insert(out.end(), symbols.begin(), symbols.end());
  to_cache(text, std::move(symbols));
}

// Hugging Face Metaspace: spaces become ▁, and ▁ is prepended unless the text already starts
// with one (only at the start of the input with prepend_scheme "first").
void Tokenizer::Impl::encode_unigram(std::string_view text, bool at_start, std::vector<TokenId>& out) const {
  std::string escaped;
  escaped.reserve(text.size() + 8);
  const bool starts_with_space = text.starts_with(' ') || text.starts_with(spm_space);
  if (vocab.add_space_prefix && (at_start || !vocab.space_prefix_first_only) && !starts_with_space) {
    escaped.append(spm_space);
  }
  for (char c : text) {
    if (c == ' ') escaped.append(spm_space);
    else escaped.push_back(c);
  }
  unigram.encode(escaped, out);
}

void Tokenizer::Impl::encode_fragment(std::string_view text, bool at_start, std::vector<TokenId>& out) const {
  std::string normalized;
  if (vocab.normalizer == Normalizer::nfc && may_need_nfc(text)) {
    normalized = to_nfc(text);
    text = normalized;
  }
  if (vocab.model == VocabModel::bpe) {
    std::vector<Span> pieces;
    pre->split(text, pieces);
    for (const auto& [begin, end] : pieces) encode_bpe_word(text.substr(begin, end - begin), out);
    return;
  }
  if (vocab.model == VocabModel::ugm) {
    encode_unigram(text, at_start, out);
    return;
  }
  std::string escaped;
  escaped.reserve(text.size() + 8);
  // llama.cpp's rule: every fragment follows the input's start or a special token.
  if (vocab.add_space_prefix) escaped.append(spm_space);
  for (char c : text) {
    if (c == ' ') escaped.append(spm_space);
    else escaped.push_back(c);
  }
  if (!merges.empty()) {
    std::vector<size_t> ends;
    segmenter.split(escaped, ends);
    size_t begin = 0;
    for (size_t end : ends) {
      encode_spm_merges(std::string_view(escaped).substr(begin, end - begin), out);
      begin = end;
    }
  } else {
    spm_encode(spm, escaped, out);
  }
}

std::vector<TokenId> Tokenizer::encode(std::string_view text, bool add_special, bool parse_special) const {
  const Impl& m = *impl_;
  std::string repaired;
  if (!is_valid_utf8(text)) {
    repaired = make_valid_utf8(text);
    text = repaired;
  }
  std::vector<TokenId> out;
  out.reserve(text.size() / 3 + 4);
  if (add_special && m.vocab.add_bos) out.push_back(m.vocab.bos);
  auto accept = [&](TokenId id) {
    return parse_special || m.vocab.type_of(id) == TokenType::user_defined;
  };
  size_t start = 0;  // start of the pending raw text
  size_t pos = 0;
  if (!m.specials.empty()) {
    while (pos < text.size()) {
      if (!m.specials.may_start(static_cast<uint8_t>(text[pos]))) {
        ++pos;
        continue;
      }
      const auto [id, length] = m.specials.longest_at(text, pos, accept);
      if (id == no_token) {
        ++pos;
        continue;
      }
      if (pos > start) {
        m.encode_fragment(text.substr(start, pos - start), start == 0, out);
      }
      out.push_back(id);
      pos += length;
      start = pos;
    }
  }
  if (start < text.size()) m.encode_fragment(text.substr(start), start == 0, out);
  if (add_special && m.vocab.add_eos) out.push_back(m.vocab.eos);
  return out;
}

std::string Tokenizer::token_to_piece(TokenId id, bool render_special) const {
  const Impl& m = *impl_;
  if (id < 0 || static_cast<size_t>(id) >= m.vocab.n_tokens()) {
    fail(ErrorCode::invalid_argument, "tokenizer: token id {} is out of range (vocabulary has {} tokens)",
         id, m.vocab.n_tokens());
  }
  const std::string& text = m.vocab.tokens[id];
  std::string piece;
  switch (m.vocab.type_of(id)) {
    case TokenType::control:
    case TokenType::unknown:
      if (render_special) piece = text;
      return piece;
    case TokenType::byte: {
      const int b = parse_byte_piece(text);
      if (b >= 0) piece.push_back(static_cast<char>(b));
      else piece = text;
      return piece;
    }
    case TokenType::user_defined:
      if (m.vocab.model != VocabModel::bpe) replace_spm_spaces(text, piece);
      else piece = text;
      return piece;
    default:
      break;
  }
  if (m.vocab.model == VocabModel::ugm) {
    replace_spm_spaces(text, piece);
    return piece;
  }
  if (m.vocab.model == VocabModel::spm) {
    const int b = parse_byte_piece(text);
    if (b >= 0 && m.spm.byte_tokens[b] == id) {
      piece.push_back(static_cast<char>(b));
    } else {
      replace_spm_spaces(text, piece);
    }
    return piece;
  }
  size_t pos = 0;
  piece.reserve(text.size());
  while (pos < text.size()) {
    uint32_t cp;
    const size_t len = utf8_decode(text, pos, cp);
    const int b = unicode_to_byte(cp);
    if (b >= 0) piece.push_back(static_cast<char>(b));
    else piece.append(text, pos, len);
    pos += len;
  }
  return piece;
}

std::string Tokenizer::decode(std::span<const TokenId> ids, bool render_special) const {
  std::string out;
  bool strip_pending = vocab().model != VocabModel::bpe && vocab().add_space_prefix;
  for (TokenId id : ids) {
    std::string piece = token_to_piece(id, render_special);
    if (piece.empty()) continue;
    if (strip_pending && out.empty() && piece[0] == ' ') piece.erase(0, 1);
    strip_pending = false;
    out += piece;
  }
  return out;
}

}  // namespace ingot::tokenizer
