#include "tokenizer/pretokenizer.h"

#include "core/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

#include <array>

namespace ingot::tokenizer {

namespace {

// The patterns are public facts: the `pre_tokenizer` regexes of the models' tokenizer.json
// files, as llama.cpp groups them under `tokenizer.ggml.pre` names.
constexpr std::string_view gpt2_pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
constexpr std::string_view llama3_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view qwen2_pattern =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view gpt4o_pattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view tekken_pattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view deepseek_v3_words =
    R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr std::string_view deepseek_llm_latin =
    R"(\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943}]+)";
constexpr std::string_view cjk_hangul = R"([一-龥ࠀ-一가-퟿]+)";
constexpr std::string_view poro_pattern = R"( ?[^(\s|.,!?…。，、।۔،)]+)";

struct Entry {
  std::string_view names;  // comma-separated tokenizer.ggml.pre values
  std::vector<std::string_view> patterns;
};

const std::vector<Entry>& table() {
  static const std::vector<Entry> entries = {
      {"default", {R"([\p{P}\$\+<=>\^~\|]+)", gpt2_pattern, R"(\p{N}+)", "[0-9][0-9][0-9]"}},
      {"gpt-2,gpt2,phi-2,mpt,olmo,jais,exaone4,jina-es,jina-de,jina-v2-es,jina-v2-de,roberta-bpe,"
       "jina-v1-en,jina-v2-code,mellum,a.x-4.0,gigachat,trillion,granite-docling",
       {gpt2_pattern}},
      {"llama3,llama-v3,llama-bpe,falcon3,falcon-h1,pixtral,midm-2.0,lfm2,dbrx,smaug-bpe,glm4,"
       "chatglm-bpe",
       {llama3_pattern}},
      {"qwen2,deepseek-r1-qwen,stablelm2,megrez,kormo", {qwen2_pattern}},
      {"gpt-4o,llama4,minimax-m2", {gpt4o_pattern}},
      {"tekken", {tekken_pattern}},
      {"deepseek-llm",
       {"[\r\n]", deepseek_llm_latin, R"(\s?[!-/:-~！-／：-～‘-‟　-。]+)", R"(\s+$)", cjk_hangul,
        R"(\p{N}+)"}},
      {"deepseek-coder", {"[\r\n]", R"(\s?\p{L}+)", R"(\s?\p{P}+)", cjk_hangul, R"(\p{N})"}},
      {"deepseek-v3", {R"(\p{N}{1,3})", R"([一-龥぀-ゟ゠-ヿ]+)", deepseek_v3_words}},
      {"falcon",
       {R"([\p{P}\$\+<=>\^~\|`]+)",
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))",
        "[0-9][0-9][0-9]"}},
      {"starcoder,refact,command-r,smollm,codeshell,exaone,minerva-7b", {R"(\p{N})", gpt2_pattern}},
      {"poro-chat,bloom,gpt3-finnish", {poro_pattern}},
      {"viking", {poro_pattern, R"(\p{N})"}},
  };
  return entries;
}

bool name_in(std::string_view list, std::string_view name) {
  size_t pos = 0;
  while (pos <= list.size()) {
    const size_t comma = list.find(',', pos);
    const size_t end = comma == std::string_view::npos ? list.size() : comma;
    if (list.substr(pos, end - pos) == name) return true;
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return false;
}

struct Regex {
  pcre2_code* code = nullptr;
  bool jit = false;
};

}  // namespace

struct PreTokenizer::Impl {
  std::vector<Regex> regexes;
  ~Impl() {
    for (auto& r : regexes) pcre2_code_free(r.code);
  }
};

std::vector<std::string> PreTokenizer::patterns_for(std::string_view pre) {
  for (const auto& e : table()) {
    if (name_in(e.names, pre)) return {e.patterns.begin(), e.patterns.end()};
  }
  return {};
}

std::vector<std::string_view> PreTokenizer::known_names() {
  std::vector<std::string_view> names;
  for (const auto& e : table()) {
    std::string_view list = e.names;
    size_t pos = 0;
    while (true) {
      const size_t comma = list.find(',', pos);
      names.push_back(list.substr(pos, comma == std::string_view::npos ? list.npos : comma - pos));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
  }
  return names;
}

PreTokenizer::PreTokenizer(std::string_view pre) : PreTokenizer([&] {
    auto p = patterns_for(pre);
    if (p.empty()) {
      fail(ErrorCode::unsupported,
           "tokenizer: unknown pre-tokenizer '{}' (tokenizer.ggml.pre); known: {}", pre,
           fmt::join(known_names(), ", "));
    }
    return p;
  }()) {}

PreTokenizer::PreTokenizer(const std::vector<std::string>& patterns) : impl_(std::make_unique<Impl>()) {
  for (const auto& pattern : patterns) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &err, &err_offset, nullptr);
    if (code == nullptr) {
      std::array<PCRE2_UCHAR, 256> message{};
      pcre2_get_error_message(err, message.data(), message.size());
      fail(ErrorCode::invalid_argument, "tokenizer: bad pre-tokenizer regex at offset {}: {} ({})",
           err_offset, reinterpret_cast<const char*>(message.data()), pattern);
    }
    // JIT is a pure speed-up: where the platform lacks it, the interpreter gives the same matches.
    const bool jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
    impl_->regexes.push_back({code, jit});
  }
}

PreTokenizer::~PreTokenizer() = default;
PreTokenizer::PreTokenizer(PreTokenizer&&) noexcept = default;
PreTokenizer& PreTokenizer::operator=(PreTokenizer&&) noexcept = default;

namespace {

struct MatchResources {
  pcre2_match_data* data = nullptr;
  pcre2_match_context* context = nullptr;
  pcre2_jit_stack* stack = nullptr;
  MatchResources() {
    data = pcre2_match_data_create(4, nullptr);
    context = pcre2_match_context_create(nullptr);
    stack = pcre2_jit_stack_create(32 * 1024, 8 * 1024 * 1024, nullptr);
    if (!data || !context || !stack) fail(ErrorCode::internal, "tokenizer: out of memory for PCRE2");
    pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~MatchResources() {
    pcre2_jit_stack_free(stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
};

MatchResources& match_resources() {
  thread_local MatchResources resources;
  return resources;
}

// Splits text[begin, end) by one regex into matches and gaps.
void split_one(const Regex& regex, std::string_view text, size_t begin, size_t end,
               std::vector<Span>& out) {
  MatchResources& res = match_resources();
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data() + begin);
  const size_t length = end - begin;
  size_t pos = 0;
  size_t gap_start = 0;
  while (pos < length) {
    const int rc = regex.jit
                       ? pcre2_jit_match(regex.code, subject, length, pos, PCRE2_NO_UTF_CHECK,
                                         res.data, res.context)
                       : pcre2_match(regex.code, subject, length, pos, PCRE2_NO_UTF_CHECK, res.data,
                                     res.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      std::array<PCRE2_UCHAR, 256> message{};
      pcre2_get_error_message(rc, message.data(), message.size());
      fail(ErrorCode::internal, "tokenizer: regex match failed: {}",
           reinterpret_cast<const char*>(message.data()));
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(res.data);
    const size_t m_begin = ovector[0];
    size_t m_end = ovector[1];
    if (m_end == m_begin) {  // an empty match splits nothing; step over one character
      size_t step = 1;
      while (m_end + step < length && (static_cast<uint8_t>(text[begin + m_end + step]) & 0xC0) == 0x80) ++step;
      pos = m_end + step;
      continue;
    }
    if (m_begin > gap_start) out.emplace_back(begin + gap_start, begin + m_begin);
    out.emplace_back(begin + m_begin, begin + m_end);
    gap_start = m_end;
    pos = m_end;
  }
  if (gap_start < length) out.emplace_back(begin + gap_start, end);
}

}  // namespace

void PreTokenizer::split(std::string_view text, std::vector<Span>& out) const {
  if (text.empty()) return;
  const size_t first = out.size();
  out.emplace_back(0, text.size());
  std::vector<Span> next;
  for (const Regex& regex : impl_->regexes) {
    next.clear();
    for (size_t i = first; i < out.size(); ++i) split_one(regex, text, out[i].first, out[i].second, next);
    out.resize(first);
    out.insert(out.end(), next.begin(), next.end());
  }
}

}  // namespace ingot::tokenizer
