// Drives several sequences through a Model at once for decode tests: each sequence owns a
// fixed range of blocks of one pool, is prefilled alone, then decodes one token per step in a
// shared batch (every sequence's query length 1: the padded / graph-replayed path). Returns
// each step's logits so two runs (padded vs direct, graphs on vs off) can be compared.
#pragma once

#include "model/model.h"

#include <cstdint>
#include <numeric>
#include <vector>

namespace ingot::test {

struct DecodeRun {
  std::vector<std::vector<float>> step_logits;  // [step][seq * n_vocab + v]
};

// prompts[s] are prefilled first (one forward each); then n_steps decode steps feed token
// (7 * step + s) % n_vocab to every sequence.
inline DecodeRun run_decode(model::Model& m, const backend::KvPool& pool, int64_t blocks_per_seq,
                            const std::vector<std::vector<int32_t>>& prompts, int n_steps) {
  const int64_t n_vocab = m.hparams().n_vocab;
  const int64_t bs = pool.shape.block_size;
  const auto n_seqs = static_cast<int64_t>(prompts.size());
  std::vector<int32_t> table(static_cast<size_t>(n_seqs * blocks_per_seq));
  std::iota(table.begin(), table.end(), 0);
  std::vector<int64_t> past(static_cast<size_t>(n_seqs), 0);
  DecodeRun run;
  std::vector<float> scratch(static_cast<size_t>(n_vocab));
  for (int64_t s = 0; s < n_seqs; ++s) {
    const auto& p = prompts[static_cast<size_t>(s)];
    const auto n = static_cast<int32_t>(p.size());
    std::vector<int32_t> pos(p.size()), slots(p.size());
    std::iota(pos.begin(), pos.end(), 0);
    for (size_t i = 0; i < p.size(); ++i) slots[i] = static_cast<int32_t>(s * blocks_per_seq * bs) + pos[i];
    const int32_t qs[2] = {0, n}, ctx[1] = {n}, rows[1] = {n - 1};
    model::ForwardBatch b;
    b.tokens = p;
    b.positions = pos;
    b.slots = slots;
    b.query_start = qs;
    b.context_len = ctx;
    b.block_tables = std::span<const int32_t>(table).subspan(static_cast<size_t>(s * blocks_per_seq),
                                                             static_cast<size_t>(blocks_per_seq));
    b.max_blocks_per_seq = blocks_per_seq;
    b.max_context = n;
    b.logit_rows = rows;
    m.forward(b, pool, scratch);
    past[static_cast<size_t>(s)] = n;
  }
  for (int step = 0; step < n_steps; ++step) {
    std::vector<int32_t> tokens, pos, slots, qs, ctx, rows;
    int64_t max_ctx = 0;
    for (int64_t s = 0; s < n_seqs; ++s) {
      const int64_t at = past[static_cast<size_t>(s)];
      tokens.push_back(static_cast<int32_t>((7 * step + s) % n_vocab));
      pos.push_back(static_cast<int32_t>(at));
      slots.push_back(static_cast<int32_t>(s * blocks_per_seq * bs + at));
      qs.push_back(static_cast<int32_t>(s));
      ctx.push_back(static_cast<int32_t>(at + 1));
      rows.push_back(static_cast<int32_t>(s));
      max_ctx = std::max(max_ctx, at + 1);
    }
    qs.push_back(static_cast<int32_t>(n_seqs));
    model::ForwardBatch b;
    b.tokens = tokens;
    b.positions = pos;
    b.slots = slots;
    b.query_start = qs;
    b.context_len = ctx;
    b.block_tables = table;
    b.max_blocks_per_seq = blocks_per_seq;
    b.max_context = max_ctx;
    b.logit_rows = rows;
    std::vector<float> logits(static_cast<size_t>(n_seqs * n_vocab));
    m.forward(b, pool, logits);
    run.step_logits.push_back(std::move(logits));
    for (auto& p : past) ++p;
  }
  return run;
}

}  // namespace ingot::test
