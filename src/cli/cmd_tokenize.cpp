// `ingot tokenize`: text to token ids with a model's vocabulary (a GGUF file, or a Hugging Face
// tokenizer directory). Prints the ids on one line, each preceded by a space (the format of the
// vocab fixtures' .out files), or the pieces. --jsonl encodes many texts in one process: each
// input line is a JSON object {"text": "..."} or {"hex": "..."} (raw bytes, for invalid UTF-8)
// and each output line is {"ids": [...], "decoded": "..."}. --write-vocab stores the vocabulary
// of --hf-dir as a vocab-only GGUF.
#include "cli/commands.h"

#include "core/error.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "tokenizer/hf_import.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab_gguf.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace ingot::cli {

namespace {

struct TokenizeOptions {
  std::string model;
  std::string hf_dir;
  std::string text;
  std::string file;
  std::string write_vocab;
  bool pieces = false;
  bool ids = false;
  bool add_special = false;
  bool no_parse_special = false;
  bool jsonl = false;
};

tokenizer::Tokenizer load(const TokenizeOptions& o) {
  if (!o.model.empty() && !o.hf_dir.empty()) {
    fail(ErrorCode::invalid_argument, "tokenize: give either -m FILE or --hf-dir DIR, not both");
  }
  if (!o.hf_dir.empty()) {
    tokenizer::HfVocab hf = tokenizer::import_hf(o.hf_dir);
    for (const auto& w : hf.warnings) fmt::print(stderr, "warning: {}\n", w);
    return tokenizer::Tokenizer(std::move(hf.vocab));
  }
  if (o.model.empty()) fail(ErrorCode::invalid_argument, "tokenize: -m FILE or --hf-dir DIR is required");
  const gguf::File file = gguf::File::open(o.model);
  return tokenizer::Tokenizer(tokenizer::load_vocab(file));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(ErrorCode::not_found, "tokenize: cannot open {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) fail(ErrorCode::invalid_argument, "tokenize: odd-length hex string");
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

std::string escape_piece(const std::string& piece) {
  std::string out;
  for (char c : piece) {
    const auto b = static_cast<uint8_t>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c == '\\') out += "\\\\";
    else if (b < 0x20 || b == 0x7F) out += fmt::format("\\x{:02x}", b);
    else out.push_back(c);
  }
  return out;
}

void run_jsonl(const tokenizer::Tokenizer& tok, const TokenizeOptions& o, std::istream& in) {
  std::string line;
  std::string out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json request;
    try {
      request = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(ErrorCode::invalid_argument, "tokenize --jsonl: bad JSON line: {}", e.what());
    }
    std::string text;
    if (request.contains("hex")) text = from_hex(request["hex"].get<std::string>());
    else text = request.at("text").get<std::string>();
    const auto ids = tok.encode(text, o.add_special, !o.no_parse_special);
    nlohmann::json reply;
    reply["ids"] = ids;
    reply["decoded"] = tok.decode(ids, /*render_special=*/true);
    out = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.push_back('\n');
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
  std::fflush(stdout);
}

void run(const TokenizeOptions& o) {
  if (!o.write_vocab.empty()) {
    if (o.hf_dir.empty()) fail(ErrorCode::invalid_argument, "tokenize: --write-vocab needs --hf-dir");
    tokenizer::HfVocab hf = tokenizer::import_hf(o.hf_dir);
    for (const auto& w : hf.warnings) fmt::print(stderr, "warning: {}\n", w);
    gguf::Writer writer;
    writer.set_string("general.architecture", "vocab-only");
    tokenizer::write_vocab(hf, writer);
    writer.write(o.write_vocab);
    return;
  }
  const tokenizer::Tokenizer tok = load(o);
  if (o.jsonl) {
    if (!o.file.empty()) {
      std::ifstream in(o.file, std::ios::binary);
      if (!in) fail(ErrorCode::not_found, "tokenize: cannot open {}", o.file);
      run_jsonl(tok, o, in);
    } else {
      run_jsonl(tok, o, std::cin);
    }
    return;
  }
  if (!o.file.empty() && !o.text.empty()) {
    fail(ErrorCode::invalid_argument, "tokenize: give the text or --file PATH, not both");
  }
  const std::string text = o.file.empty() ? o.text : read_file(o.file);
  const auto ids = tok.encode(text, o.add_special, !o.no_parse_special);
  std::string out;
  if (o.pieces) {
    for (auto id : ids) out += fmt::format("{}\t{}\n", id, escape_piece(tok.token_to_piece(id)));
  } else {
    for (auto id : ids) out += fmt::format(" {}", id);
    out.push_back('\n');
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = app.add_subcommand("tokenize", "text to token ids with a model's vocabulary");
  cmd->add_option("-m,--model", o->model, "GGUF file with tokenizer.ggml.* metadata");
  cmd->add_option("--hf-dir", o->hf_dir, "Hugging Face directory with tokenizer.json (+ tokenizer_config.json)");
  cmd->add_option("text", o->text, "the text to tokenize");
  cmd->add_option("--file", o->file, "read the text (or, with --jsonl, the JSON lines) from a file");
  auto* ids = cmd->add_flag("--ids", o->ids, "print the ids on one line (the default)");
  cmd->add_flag("--pieces", o->pieces, "print one 'id<TAB>piece' line per token")->excludes(ids);
  cmd->add_flag("--add-special", o->add_special, "add BOS/EOS as the vocabulary asks");
  cmd->add_flag("--no-parse-special", o->no_parse_special,
                "treat control-token texts in the input as plain text");
  cmd->add_flag("--jsonl", o->jsonl, "batch mode: JSON lines in (stdin or --file), JSON lines out");
  cmd->add_option("--write-vocab", o->write_vocab, "with --hf-dir: write a vocab-only GGUF to this path");
  cmd->callback([o] { run(*o); });
}

}  // namespace ingot::cli
