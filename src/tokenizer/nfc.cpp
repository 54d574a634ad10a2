#include "tokenizer/nfc.h"

#include "tokenizer/nfc_tables.h"
#include "tokenizer/utf8.h"

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace ingot::tokenizer {

namespace {

using nfc_data::CombiningClass;
using nfc_data::Decomposition;

constexpr uint32_t hangul_s = 0xAC00, hangul_l = 0x1100, hangul_v = 0x1161, hangul_t = 0x11A7;
constexpr uint32_t hangul_l_count = 19, hangul_v_count = 21, hangul_t_count = 28;
constexpr uint32_t hangul_n = hangul_v_count * hangul_t_count;
constexpr uint32_t hangul_s_count = hangul_l_count * hangul_n;

const Decomposition* find_decomposition(uint32_t cp) {
  const Decomposition* begin = nfc_data::decompositions;
  const Decomposition* end = begin + nfc_data::n_decompositions;
  const auto* it = std::lower_bound(begin, end, cp, [](const Decomposition& d, uint32_t c) { return d.cp < c; });
  return it != end && it->cp == cp ? it : nullptr;
}

uint8_t combining_class(uint32_t cp) {
  if (cp < 0x300) return 0;
  const CombiningClass* begin = nfc_data::combining_classes;
  const CombiningClass* end = begin + nfc_data::n_combining_classes;
  const auto* it = std::lower_bound(begin, end, cp, [](const CombiningClass& d, uint32_t c) { return d.cp < c; });
  return it != end && it->cp == cp ? it->ccc : 0;
}

struct Compositions {
  std::unordered_map<uint64_t, uint32_t> pairs;
  Compositions() {
    for (size_t i = 0; i < nfc_data::n_decompositions; ++i) {
      const Decomposition& d = nfc_data::decompositions[i];
      if (d.composes) pairs.emplace((static_cast<uint64_t>(d.first) << 32) | d.second, d.cp);
    }
  }
};

const Compositions& compositions() {
  static const Compositions c;
  return c;
}

// Code points that may change under NFC or change what precedes them: non-zero combining
// class, a decomposition that does not recompose (singletons, exclusions), or the second half
// of a composition (NFC_Quick_Check "No" or "Maybe"). Text without any is already NFC.
struct QuickCheck {
  static constexpr uint32_t limit = 0x30000;
  std::vector<uint64_t> bits = std::vector<uint64_t>(limit / 64, 0);
  void set(uint32_t cp) {
    if (cp < limit) bits[cp / 64] |= uint64_t{1} << (cp % 64);
  }
  QuickCheck() {
    for (size_t i = 0; i < nfc_data::n_combining_classes; ++i) set(nfc_data::combining_classes[i].cp);
    for (size_t i = 0; i < nfc_data::n_decompositions; ++i) {
      const Decomposition& d = nfc_data::decompositions[i];
      if (!d.composes) set(d.cp);
      if (d.composes) set(d.second);
    }
    for (uint32_t cp = hangul_v; cp < hangul_v + hangul_v_count; ++cp) set(cp);
    for (uint32_t cp = hangul_t + 1; cp < hangul_t + hangul_t_count; ++cp) set(cp);
  }
  bool flagged(uint32_t cp) const {
    return cp >= limit || ((bits[cp / 64] >> (cp % 64)) & 1) != 0;
  }
};

const QuickCheck& quick_check() {
  static const QuickCheck q;
  return q;
}

bool is_nfc_quick(std::string_view text) {
  const QuickCheck& q = quick_check();
  size_t pos = 0;
  while (pos < text.size()) {
    const auto b = static_cast<uint8_t>(text[pos]);
    if (b < 0xCC) {  // below U+0300: never flagged
      pos += b < 0x80 ? 1 : 2;
      continue;
    }
    uint32_t cp;
    pos += utf8_decode(text, pos, cp);
    if (q.flagged(cp)) return false;
  }
  return true;
}

uint32_t compose(uint32_t first, uint32_t second) {
  if (first >= hangul_l && first < hangul_l + hangul_l_count && second >= hangul_v &&
      second < hangul_v + hangul_v_count) {
    return hangul_s + ((first - hangul_l) * hangul_v_count + (second - hangul_v)) * hangul_t_count;
  }
  if (first >= hangul_s && first < hangul_s + hangul_s_count && (first - hangul_s) % hangul_t_count == 0 &&
      second > hangul_t && second < hangul_t + hangul_t_count) {
    return first + (second - hangul_t);
  }
  const auto& pairs = compositions().pairs;
  const auto it = pairs.find((static_cast<uint64_t>(first) << 32) | second);
  return it == pairs.end() ? 0 : it->second;
}

void decompose(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= hangul_s && cp < hangul_s + hangul_s_count) {
    const uint32_t s = cp - hangul_s;
    out.push_back(hangul_l + s / hangul_n);
    out.push_back(hangul_v + (s % hangul_n) / hangul_t_count);
    if (s % hangul_t_count != 0) out.push_back(hangul_t + s % hangul_t_count);
    return;
  }
  const Decomposition* d = cp >= 0xC0 ? find_decomposition(cp) : nullptr;
  if (d == nullptr) {
    out.push_back(cp);
    return;
  }
  decompose(d->first, out);
  if (d->second != 0) decompose(d->second, out);
}

}  // namespace

bool may_need_nfc(std::string_view text) noexcept {
  // U+0300 is CC 80; every code point below it is a lead byte < 0xCC (or ASCII).
  for (char c : text) {
    if (static_cast<uint8_t>(c) >= 0xCC) return !is_nfc_quick(text);
  }
  return false;
}

const char* nfc_unicode_version() noexcept { return nfc_data::unicode_version; }

std::string to_nfc(std::string_view text) {
  if (!may_need_nfc(text)) return std::string(text);
  // 1. full canonical decomposition
  std::vector<uint32_t> cps;
  cps.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    uint32_t cp;
    pos += utf8_decode(text, pos, cp);
    decompose(cp, cps);
  }
  // 2. canonical ordering: stable sort of each run of non-starters by combining class
  std::vector<uint8_t> ccc(cps.size());
  for (size_t i = 0; i < cps.size(); ++i) ccc[i] = combining_class(cps[i]);
  for (size_t i = 0; i < cps.size();) {
    if (ccc[i] == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && ccc[j] != 0) ++j;
    if (j - i > 1) {
      std::vector<std::pair<uint8_t, uint32_t>> run;
      for (size_t k = i; k < j; ++k) run.emplace_back(ccc[k], cps[k]);
      std::stable_sort(run.begin(), run.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t k = i; k < j; ++k) {
        ccc[k] = run[k - i].first;
        cps[k] = run[k - i].second;
      }
    }
    i = j;
  }
  // 3. canonical composition
  std::vector<uint32_t> out;
  std::vector<uint8_t> out_ccc;
  out.reserve(cps.size());
  long starter = -1;  // index in `out` of the last starter
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t cp = cps[i];
    const uint8_t c = ccc[i];
    if (starter >= 0) {
      const bool adjacent = static_cast<size_t>(starter) + 1 == out.size();
      const uint8_t last = adjacent ? 0 : out_ccc.back();
      if (adjacent || (last != 0 && last < c)) {
        if (const uint32_t composite = compose(out[starter], cp)) {
          out[starter] = composite;
          continue;
        }
      }
    }
    if (c == 0) starter = static_cast<long>(out.size());
    out.push_back(cp);
    out_ccc.push_back(c);
  }
  std::string result;
  result.reserve(text.size());
  for (uint32_t cp : out) append_utf8(result, cp);
  return result;
}

}  // namespace ingot::tokenizer
