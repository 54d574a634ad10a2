#include "tokenizer/hf_import.h"

#include "core/error.h"
#include "gguf/writer.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/vocab_gguf.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <unordered_map>

namespace ingot::tokenizer {

using nlohmann::json;

namespace {

json read_json(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::not_found, "cannot open {}", path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    fail(ErrorCode::invalid_file, "{}: not valid JSON: {}", path.string(), e.what());
  }
}

std::string type_of(const json& node) {
  if (!node.is_object() || !node.contains("type") || !node["type"].is_string()) return "";
  return node["type"].get<std::string>();
}

// A regex with literal CR, LF and tab characters written as the escapes \r, \n, \t (the same
// pattern; DeepSeek V3's tokenizer.json has them literal, the known patterns escaped).
std::string escape_controls(const std::string& regex) {
  std::string out;
  out.reserve(regex.size());
  for (char c : regex) {
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else out.push_back(c);
  }
  return out;
}

// Regex patterns of Split pre-tokenizers, in order; sets byte_level when a ByteLevel step
// (with its own GPT-2 regex when use_regex) is present.
void collect_splits(const json& node, std::vector<std::string>& patterns, bool& byte_level) {
  const std::string type = type_of(node);
  if (type == "Sequence") {
    for (const auto& child : node.at("pretokenizers")) collect_splits(child, patterns, byte_level);
  } else if (type == "Split") {
    const json& pattern = node.at("pattern");
    if (pattern.contains("Regex")) {
      patterns.push_back(escape_controls(pattern["Regex"].get<std::string>()));
    } else {
      fail(ErrorCode::unsupported, "tokenizer.json: Split on a plain string '{}' is not supported for "
           "byte-level BPE", pattern.value("String", ""));
    }
    const std::string behavior = node.value("behavior", "Isolated");
    if (behavior != "Isolated" || node.value("invert", false)) {
      fail(ErrorCode::unsupported, "tokenizer.json: Split behavior '{}' (invert={}) is not supported",
           behavior, node.value("invert", false));
    }
  } else if (type == "ByteLevel") {
    byte_level = true;
    if (node.value("use_regex", true)) {
      patterns.push_back(PreTokenizer::patterns_for("gpt-2").front());
    }
    if (node.value("add_prefix_space", false)) {
      fail(ErrorCode::unsupported, "tokenizer.json: ByteLevel add_prefix_space is not supported");
    }
  } else if (!type.empty()) {
    fail(ErrorCode::unsupported, "tokenizer.json: pre-tokenizer '{}' is not supported for byte-level BPE",
         type);
  }
}

std::string token_content(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.contains("content")) return value["content"].get<std::string>();
  return "";
}

std::string merge_text(const json& merge) {
  if (merge.is_string()) return merge.get<std::string>();
  if (merge.is_array() && merge.size() == 2) {
    const auto left = merge[0].get<std::string>();
    const auto right = merge[1].get<std::string>();
    if (left.find(' ') != std::string::npos || right.find(' ') != std::string::npos) {
      fail(ErrorCode::unsupported, "tokenizer.json: merge ['{}', '{}'] has a space inside a token; "
           "GGUF merges cannot express it", left, right);
    }
    return left + " " + right;
  }
  fail(ErrorCode::invalid_file, "tokenizer.json: a merge is neither 'a b' nor ['a', 'b']");
}

// SentencePiece-style normalizer: Replace(' ' -> '▁'), optionally after Prepend('▁').
bool spm_normalizer(const json& node, bool& prepend) {
  const std::string type = type_of(node);
  if (node.is_null()) return true;
  if (type == "Sequence") {
    for (const auto& child : node.at("normalizers")) {
      if (!spm_normalizer(child, prepend)) return false;
    }
    return true;
  }
  if (type == "Prepend") {
    prepend = node.value("prepend", "") == "\xE2\x96\x81";
    return prepend;
  }
  if (type == "Replace") {
    return node.at("pattern").value("String", "") == " " && node.value("content", "") == "\xE2\x96\x81";
  }
  return false;
}

constexpr std::string_view spm_space = "\xE2\x96\x81";  // ▁

// Added tokens (special -> control, else user-defined), then placeholders for ids no one names.
void mark_added_tokens(const json& added, Vocab& v, std::vector<std::string>& warnings) {
  for (const auto& a : added) {
    const size_t id = a.at("id").get<size_t>();
    v.tokens[id] = a.at("content").get<std::string>();
    v.types[id] = a.value("special", false) ? TokenType::control : TokenType::user_defined;
    if (a.value("lstrip", false) || a.value("rstrip", false) || a.value("single_word", false) ||
        (a.value("normalized", false) && !a.value("special", false))) {
      warnings.push_back("added token '" + v.tokens[id] +
                         "' has lstrip/rstrip/single_word/normalized flags, which are ignored");
    }
  }
  for (size_t i = 0; i < v.tokens.size(); ++i) {
    if (v.tokens[i].empty()) {
      v.tokens[i] = "[PAD" + std::to_string(i) + "]";
      v.types[i] = TokenType::unused;
    }
  }
}

// Unigram: the Metaspace pre-tokenizer decides how spaces are escaped and whether ▁ is
// prepended. Anything else is refused by name.
void unigram_pre_tokenizer(const json& pre, const json& normalizer, Vocab& v) {
  if (!normalizer.is_null()) {
    const std::string type = type_of(normalizer);
    if (type == "NFC") {
      v.normalizer = Normalizer::nfc;
    } else if (type == "Precompiled") {
      fail(ErrorCode::unsupported, "tokenizer.json: Unigram with a 'Precompiled' normalizer (a SentencePiece "
           "charsmap) is not supported: charsmap normalization is not implemented");
    } else {
      std::string names = type.empty() ? "?" : type;
      if (type == "Sequence") {
        names += " of";
        for (const auto& child : normalizer.at("normalizers")) names.append(" ").append(type_of(child));
      }
      fail(ErrorCode::unsupported, "tokenizer.json: Unigram with normalizer '{}' is not supported (only none or NFC)",
           names);
    }
  }
  const std::string type = type_of(pre);
  if (type != "Metaspace") {
    std::string names = type.empty() ? "none" : type;
    if (type == "Sequence") {
      names += " of";
      for (const auto& child : pre.at("pretokenizers")) names.append(" ").append(type_of(child));
    }
    fail(ErrorCode::unsupported, "tokenizer.json: Unigram with pre-tokenizer '{}' is not supported (only Metaspace)",
         names);
  }
  const std::string replacement = pre.value("replacement", std::string(spm_space));
  if (replacement != spm_space) {
    fail(ErrorCode::unsupported, "tokenizer.json: Metaspace replacement '{}' is not supported (only U+2581)",
         replacement);
  }
  std::string scheme = pre.value("prepend_scheme", "always");
  if (pre.contains("add_prefix_space") && pre["add_prefix_space"].is_boolean() && !pre["add_prefix_space"].get<bool>()) {
    scheme = "never";  // the older form of the same setting
  }
  if (scheme != "always" && scheme != "first" && scheme != "never") {
    fail(ErrorCode::unsupported, "tokenizer.json: Metaspace prepend_scheme '{}' is not supported", scheme);
  }
  v.add_space_prefix = scheme != "never";
  v.space_prefix_first_only = scheme == "first";
  // Metaspace split cuts the text before every ▁. That changes nothing as long as no piece has
  // a ▁ after its first character (every ▁ then starts a piece anyway); otherwise refuse.
  if (pre.value("split", true)) {
    for (size_t i = 0; i < v.tokens.size(); ++i) {
      if (v.types[i] == TokenType::normal && v.tokens[i].find(spm_space, 1) != std::string::npos) {
        fail(ErrorCode::unsupported, "tokenizer.json: Metaspace split with piece '{}' (a ▁ inside a piece) "
             "is not supported", v.tokens[i]);
      }
    }
  }
}

// Unigram model: vocab is [[piece, score], ...] with ids in order; unk_id; byte_fallback.
void import_unigram_model(const json& model, const json& added, Vocab& v, std::vector<std::string>& warnings) {
  const json& pieces = model.at("vocab");
  if (!pieces.is_array()) fail(ErrorCode::invalid_file, "tokenizer.json: Unigram vocab is not a list");
  size_t n = pieces.size();
  for (const auto& a : added) n = std::max<size_t>(n, a.at("id").get<size_t>() + 1);
  if (n > static_cast<size_t>(INT32_MAX)) fail(ErrorCode::invalid_file, "tokenizer.json: ids past int32");
  v.tokens.assign(n, "");
  v.types.assign(n, TokenType::normal);
  v.scores.assign(n, 0.0f);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const json& entry = pieces[i];
    if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() || !entry[1].is_number()) {
      fail(ErrorCode::invalid_file, "tokenizer.json: Unigram vocab entry {} is not [piece, score]", i);
    }
    v.tokens[i] = entry[0].get<std::string>();
    v.scores[i] = entry[1].get<float>();
  }
  const bool byte_fallback = model.value("byte_fallback", false);
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& t = v.tokens[i];
    if (byte_fallback && t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') v.types[i] = TokenType::byte;
  }
  mark_added_tokens(added, v, warnings);
  if (model.contains("unk_id") && model["unk_id"].is_number_integer()) {
    const int64_t unk = model["unk_id"].get<int64_t>();
    if (unk < 0 || static_cast<size_t>(unk) >= n) {
      fail(ErrorCode::invalid_file, "tokenizer.json: unk_id {} is out of range", unk);
    }
    v.unk = static_cast<TokenId>(unk);
    v.types[unk] = TokenType::unknown;
  }
  v.model = VocabModel::ugm;
}

}  // namespace

std::string detect_pre(const json& pre_tokenizer) {
  std::vector<std::string> patterns;
  bool byte_level = false;
  collect_splits(pre_tokenizer, patterns, byte_level);
  if (!byte_level) {
    fail(ErrorCode::unsupported, "tokenizer.json: byte-level BPE without a ByteLevel pre-tokenizer");
  }
  for (std::string_view name : PreTokenizer::known_names()) {
    if (PreTokenizer::patterns_for(name) == patterns) {
      // The first name of each group is the one llama.cpp's converter writes.
      if (name == "gpt2") return "gpt-2";
      if (name == "llama3") return "llama-bpe";
      return std::string(name);
    }
  }
  std::string quoted;
  for (const auto& p : patterns) quoted += "\n  " + p;
  fail(ErrorCode::unsupported, "tokenizer.json: unknown pre-tokenizer regexes:{}", quoted);
}

HfVocab import_hf(const std::filesystem::path& dir) {
  const json tokenizer = read_json(dir / "tokenizer.json");
  const auto config_path = dir / "tokenizer_config.json";
  if (std::filesystem::exists(config_path)) {
    const json config = read_json(config_path);
    return import_hf_json(tokenizer, &config);
  }
  return import_hf_json(tokenizer, nullptr);
}

namespace {

void import_bpe_model(const json& model, const json& added, const json& normalizer, const json& pre,
                      bool byte_fallback, HfVocab& hf) {
  Vocab& v = hf.vocab;

  // Vocabulary: model vocab, then added tokens (which may extend it).
  const json& model_vocab = model.at("vocab");
  size_t n = 0;
  for (const auto& [text, id] : model_vocab.items()) n = std::max<size_t>(n, id.get<size_t>() + 1);
  for (const auto& a : added) n = std::max<size_t>(n, a.at("id").get<size_t>() + 1);
  if (n > static_cast<size_t>(INT32_MAX)) fail(ErrorCode::invalid_file, "tokenizer.json: ids past int32");
  v.tokens.assign(n, "");
  v.types.assign(n, TokenType::normal);
  for (const auto& [text, id] : model_vocab.items()) v.tokens[id.get<size_t>()] = text;
  mark_added_tokens(added, v, hf.warnings);
  for (const auto& m : model.at("merges")) v.merges.push_back(merge_text(m));

  if (!byte_fallback) {
    v.model = VocabModel::bpe;
    // A Sequence is its steps in order; an empty one (DeepSeek V3) normalizes nothing.
    std::vector<std::string> steps;
    auto collect = [&steps](const auto& self, const json& node) -> void {
      if (node.is_null()) return;
      if (type_of(node) == "Sequence") {
        for (const auto& child : node.at("normalizers")) self(self, child);
      } else {
        steps.push_back(type_of(node));
      }
    };
    collect(collect, normalizer);
    if (steps.size() == 1 && steps.front() == "NFC") {
      v.normalizer = Normalizer::nfc;
    } else if (!steps.empty()) {
      std::string names;
      for (const auto& s : steps) names.append(names.empty() ? "" : ", ").append(s.empty() ? "?" : s);
      fail(ErrorCode::unsupported, "tokenizer.json: normalizer '{}' is not supported for byte-level BPE (only NFC)",
           names);
    }
    v.pre = detect_pre(pre);
    const bool ignore_merges = model.value("ignore_merges", false);
    const bool pre_ignores = v.pre == "llama-bpe" || v.pre == "tekken";
    if (ignore_merges != pre_ignores) {
      hf.warnings.push_back(std::string("tokenizer.json ignore_merges=") + (ignore_merges ? "true" : "false") +
                            " but pre-tokenizer '" + v.pre + "' implies the opposite");
    }
  } else {
    v.model = VocabModel::spm;
    bool prepend = false;
    if (!spm_normalizer(normalizer, prepend)) {
      fail(ErrorCode::unsupported, "tokenizer.json: normalizer '{}' is not supported for SentencePiece-style BPE",
           type_of(normalizer));
    }
    const std::string pre_type = type_of(pre);
    if (pre_type == "Metaspace") {
      const std::string scheme = pre.value("prepend_scheme", "always");
      prepend = scheme != "never";
    } else if (!(pre.is_null() || (pre_type == "Split" && pre.at("pattern").value("String", "") == " "))) {
      fail(ErrorCode::unsupported, "tokenizer.json: pre-tokenizer '{}' is not supported for SentencePiece-style BPE",
           pre_type);
    }
    v.add_space_prefix = prepend;
    v.scores.resize(n);
    for (size_t i = 0; i < n; ++i) {
      v.scores[i] = -static_cast<float>(i);
      const std::string& t = v.tokens[i];
      if (v.types[i] == TokenType::normal && t.size() == 6 && t.rfind("<0x", 0) == 0 && t[5] == '>') {
        v.types[i] = TokenType::byte;
      }
    }
    if (model.contains("unk_token") && model["unk_token"].is_string()) {
      for (size_t i = 0; i < n; ++i) {
        if (v.tokens[i] == model["unk_token"].get<std::string>()) {
          v.unk = static_cast<TokenId>(i);
          v.types[i] = TokenType::unknown;
          break;
        }
      }
    }
  }
}

// Special ids, add_bos/add_eos and the chat template, for every model type.
void finish_import(const json& tj, const json* config, HfVocab& hf) {
  Vocab& v = hf.vocab;
  const size_t n = v.n_tokens();

  std::unordered_map<std::string_view, TokenId> ids;
  for (size_t i = 0; i < n; ++i) ids.emplace(v.tokens[i], static_cast<TokenId>(i));
  auto id_of = [&](const std::string& text) {
    const auto it = ids.find(text);
    return it == ids.end() ? no_token : it->second;
  };
  // BOS/EOS from the post-processor template (what HF adds with add_special_tokens=True).
  if (tj.contains("post_processor") && type_of(tj["post_processor"]) == "TemplateProcessing") {
    const json& single = tj["post_processor"].at("single");
    if (!single.empty() && single.front().contains("SpecialToken")) {
      v.bos = id_of(single.front()["SpecialToken"].at("id").get<std::string>());
      v.add_bos = v.bos != no_token;
    }
    if (single.size() > 1 && single.back().contains("SpecialToken")) {
      v.eos = id_of(single.back()["SpecialToken"].at("id").get<std::string>());
      v.add_eos = v.eos != no_token;
    }
  }
  if (config) {
    const json& c = *config;
    auto special = [&](const char* key, TokenId& field) {
      if (c.contains(key) && !c[key].is_null()) {
        const TokenId id = id_of(token_content(c[key]));
        if (id != no_token) field = id;
      }
    };
    special("bos_token", v.bos);
    special("eos_token", v.eos);
    special("pad_token", v.pad);
    special("unk_token", v.unk);
    special("sep_token", v.sep);
    if (c.contains("add_bos_token") && c["add_bos_token"].is_boolean()) v.add_bos = c["add_bos_token"].get<bool>();
    if (c.contains("add_eos_token") && c["add_eos_token"].is_boolean()) v.add_eos = c["add_eos_token"].get<bool>();
    if (c.contains("chat_template")) {
      const json& t = c["chat_template"];
      if (t.is_string()) {
        hf.chat_template = t.get<std::string>();
      } else if (t.is_array()) {
        for (const auto& entry : t) {
          if (entry.value("name", "") == "default") hf.chat_template = entry.value("template", "");
        }
      }
    }
  }
  if (v.add_bos && v.bos == no_token) v.add_bos = false;
  if (v.add_eos && v.eos == no_token) v.add_eos = false;
  for (const char* text : {"<|eot_id|>", "<end_of_turn>", "<|im_end|>", "<|end|>", "<EOT>"}) {
    const TokenId id = id_of(text);
    if (id != no_token && v.type_of(id) == TokenType::control) {
      v.eot = id;
      break;
    }
  }
  if (const TokenId id = id_of("<|eom_id|>"); id != no_token) v.eom = id;
  validate(v);
}

}  // namespace

HfVocab import_hf_json(const json& tj, const json* config) {
  HfVocab hf;
  Vocab& v = hf.vocab;
  const json& model = tj.at("model");
  std::string model_type = type_of(model);
  // Old files have no type: a list vocabulary is Unigram (what the reference infers too).
  if (model_type.empty() && model.contains("vocab") && model["vocab"].is_array()) model_type = "Unigram";
  if (model_type != "BPE" && model_type != "Unigram") {
    fail(ErrorCode::unsupported, "tokenizer.json: model type '{}' is not supported (only BPE and Unigram)",
         model_type.empty() ? "?" : model_type);
  }
  const bool byte_fallback = model.value("byte_fallback", false);
  const json& normalizer = tj.contains("normalizer") ? tj["normalizer"] : json();
  const json& pre = tj.contains("pre_tokenizer") ? tj["pre_tokenizer"] : json();
  const json added = tj.contains("added_tokens") ? tj["added_tokens"] : json::array();
  if (model_type == "Unigram") {
    import_unigram_model(model, added, v, hf.warnings);
    unigram_pre_tokenizer(pre, normalizer, v);
  } else {
    import_bpe_model(model, added, normalizer, pre, byte_fallback, hf);
  }
  finish_import(tj, config, hf);
  return hf;
}

void write_vocab(const HfVocab& hf, gguf::Writer& writer) {
  write_vocab(hf.vocab, writer);
  if (!hf.chat_template.empty()) writer.set_string("tokenizer.chat_template", hf.chat_template);
}

}  // namespace ingot::tokenizer
