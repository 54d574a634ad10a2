// Hugging Face tensor names -> GGUF tensor names (the public llama.cpp naming), and the Q/K row
// permutation of the GGUF llama layout: HF stores each head's rotary pairs as two halves
// (x[i], x[i + d/2]); GGUF llama stores them adjacent (x[2i], x[2i+1]) so rope can use the
// "normal" layout. Pure string and index arithmetic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ingot::convert {

// The HF name a GGUF tensor comes from ("blk.3.attn_q.weight" -> "model.layers.3.self_attn.
// q_proj.weight"), or nullopt for tensors the converter generates (rope_freqs.weight).
std::optional<std::string> hf_name_of(std::string_view gguf_name);

// Which GGUF row a source row lands in for a Q or K projection of n_heads heads of head_dim
// rows each: within a head, source row j * (head_dim / 2) + i goes to row 2 * i + j.
// `permuted_source_row` is the inverse: the source row that GGUF row r is read from.
int64_t permuted_source_row(int64_t gguf_row, int64_t head_dim);

}  // namespace ingot::convert
