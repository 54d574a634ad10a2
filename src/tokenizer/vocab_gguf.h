// Reading and writing a Vocab as the GGUF `tokenizer.ggml.*` keys (the names and types are
// public facts of the format, as llama.cpp's converter writes them). Reading copies the token
// texts out of the mapping once (O(n_tokens + n_merges)); writing encodes them into a Writer.
#pragma once

#include "tokenizer/vocab.h"

namespace ingot::gguf {
class File;
class Writer;
}  // namespace ingot::gguf

namespace ingot::tokenizer {

// Reads and validates the vocabulary of a GGUF file. Missing optional keys get llama.cpp's
// defaults (SPM: add_bos, add_space_prefix, bos=1/eos=2/unk=0 when in range). Throws
// Error(not_found) without tokenizer.ggml.tokens, Error(invalid_file) on inconsistent data,
// Error(unsupported) for an unknown model or pre-tokenizer name.
Vocab load_vocab(const gguf::File& file);

// Writes every tokenizer.ggml.* key of `vocab` (validated first).
void write_vocab(const Vocab& vocab, gguf::Writer& writer);

}  // namespace ingot::tokenizer
