// Paged attention against a dense double-precision reference: several sequences with different
// context lengths in one call (decodes and prefill chunks mixed), partial blocks, scattered
// block tables, GQA 4 and 8, head_dim 64 and 128, F16 and F32 pools; one sequence processed as
// one prefill equals the same sequence processed as chunks then decodes; write_kv, copy_blocks.
#include <algorithm>
#include <numeric>

#include "backend_test_util.h"
#include "core/error.h"
#include "core/half.h"

namespace ingot::backend {
namespace {

using quant::Type;

struct Sequence {
  int32_t context;  // tokens in the cache after this step
  int32_t queries;  // new tokens this step (the last `queries` of context)
  std::vector<int32_t> blocks;
  std::vector<float> k, v;  // [context][n_kv * head_dim]
  std::vector<float> q;     // [queries][n_heads * head_dim]
};

struct Config {
  int64_t head_dim;
  int64_t n_kv_heads;
  int64_t group;  // n_heads / n_kv_heads
  Type kv_type;
};

std::string config_name(const ::testing::TestParamInfo<Config>& info) {
  const Config& c = info.param;
  return "d" + std::to_string(c.head_dim) + "_kv" + std::to_string(c.n_kv_heads) + "_g" +
         std::to_string(c.group) + "_" + std::string(quant::name(c.kv_type));
}

class Attention : public ::testing::TestWithParam<Config> {
 protected:
  static constexpr int64_t kBlockSize = 16;
  static constexpr int64_t kLayer = 1;
  std::unique_ptr<cpu::CpuBackend> backend =
      std::make_unique<cpu::CpuBackend>(cpu::CpuOptions{.n_threads = 2});
  void use_isa(cpu::Isa isa) {
    backend = std::make_unique<cpu::CpuBackend>(cpu::CpuOptions{.n_threads = 2, .isa = isa});
  }

  KvPoolShape pool_shape() const {
    const Config& c = GetParam();
    return KvPoolShape{.n_layers = 3,
                       .n_blocks = 48,
                       .block_size = kBlockSize,
                       .n_kv_heads = c.n_kv_heads,
                       .head_dim = c.head_dim,
                       .type = c.kv_type};
  }
  int64_t kv_width() const { return GetParam().n_kv_heads * GetParam().head_dim; }
  int64_t q_width() const { return kv_width() * GetParam().group; }

  // Sequences with scattered, disjoint blocks and random K, V, Q.
  std::vector<Sequence> make_sequences(const std::vector<std::pair<int32_t, int32_t>>& shapes) {
    std::vector<int32_t> free(48);
    std::iota(free.begin(), free.end(), 0);
    std::shuffle(free.begin(), free.end(), std::mt19937(5));
    std::vector<Sequence> seqs;
    uint32_t seed = 100;
    for (auto [context, queries] : shapes) {
      Sequence s{context, queries, {}, {}, {}, {}};
      for (int64_t b = 0; b < (context + kBlockSize - 1) / kBlockSize; ++b) {
        s.blocks.push_back(free.back());
        free.pop_back();
      }
      s.k = test::random_floats(static_cast<size_t>(context * kv_width()), seed++);
      s.v = test::random_floats(static_cast<size_t>(context * kv_width()), seed++);
      s.q = test::random_floats(static_cast<size_t>(queries * q_width()), seed++);
      seqs.push_back(std::move(s));
    }
    return seqs;
  }

  int32_t slot(const Sequence& s, int64_t token) const {
    return static_cast<int32_t>(s.blocks[token / kBlockSize] * kBlockSize + token % kBlockSize);
  }

  // Writes tokens [from, to) of every sequence (clamped to its context) in one write_kv call.
  void write_tokens(const KvPool& pool, const std::vector<Sequence>& seqs,
                    const std::vector<std::pair<int64_t, int64_t>>& ranges) {
    std::vector<float> k, v;
    std::vector<int32_t> slots;
    for (size_t i = 0; i < seqs.size(); ++i) {
      for (int64_t t = ranges[i].first; t < ranges[i].second; ++t) {
        k.insert(k.end(), seqs[i].k.begin() + t * kv_width(),
                 seqs[i].k.begin() + (t + 1) * kv_width());
        v.insert(v.end(), seqs[i].v.begin() + t * kv_width(),
                 seqs[i].v.begin() + (t + 1) * kv_width());
        slots.push_back(slot(seqs[i], t));
      }
    }
    if (slots.empty()) return;
    auto kt = test::f32_tensor(*backend, k, kv_width());
    auto vt = test::f32_tensor(*backend, v, kv_width());
    auto st = test::i32_tensor(*backend, slots);
    backend->write_kv(pool, kLayer, kt.t, vt.t, st.t);
  }

  // Runs attention for query rows [q_from, q_to) of each sequence, context = q_to.
  std::vector<float> attend(const KvPool& pool, const std::vector<Sequence>& seqs,
                            const std::vector<std::pair<int64_t, int64_t>>& query_ranges) {
    std::vector<float> q;
    std::vector<int32_t> starts{0}, contexts, table;
    int64_t max_blocks = 0;
    for (const auto& s : seqs) max_blocks = std::max<int64_t>(max_blocks, s.blocks.size());
    for (size_t i = 0; i < seqs.size(); ++i) {
      const Sequence& s = seqs[i];
      const auto [from, to] = query_ranges[i];
      const int64_t first_query = s.context - s.queries;
      for (int64_t t = from; t < to; ++t) {
        const int64_t qi = t - first_query;
        q.insert(q.end(), s.q.begin() + qi * q_width(), s.q.begin() + (qi + 1) * q_width());
      }
      starts.push_back(starts.back() + static_cast<int32_t>(to - from));
      contexts.push_back(static_cast<int32_t>(to));
      for (int64_t b = 0; b < max_blocks; ++b) {
        table.push_back(b < static_cast<int64_t>(s.blocks.size()) ? s.blocks[b] : -7);
      }
    }
    auto qt = test::f32_tensor(*backend, q, q_width());
    auto st = test::i32_tensor(*backend, starts);
    auto ct = test::i32_tensor(*backend, contexts);
    auto tt = test::i32_tensor(*backend, table, max_blocks);
    AttentionBatch batch{.n_seqs = static_cast<int64_t>(seqs.size()),
                         .max_context = 0,
                         .query_start = st.t,
                         .context_len = ct.t,
                         .block_table = tt.t};
    auto out = test::make_owned(*backend, Type::F32, Shape::of(q_width(), starts.back()));
    backend->attention(qt.t, pool, kLayer, batch, 0.0f, out.t);
    return test::read_f32(out.t);
  }

  void check_mixed_batch();

  // Dense softmax(q k^T / sqrt(d)) v in double, with K/V rounded as the pool stores them.
  std::vector<double> reference(const Sequence& s, int64_t query_token) const {
    const Config& c = GetParam();
    const int64_t qi = query_token - (s.context - s.queries);
    auto stored = [&](float x) {
      return c.kv_type == Type::F16 ? static_cast<double>(f16_to_f32(f32_to_f16(x))) : x;
    };
    std::vector<double> out(static_cast<size_t>(q_width()), 0.0);
    for (int64_t h = 0; h < c.n_kv_heads * c.group; ++h) {
      const int64_t kvh = h / c.group;
      std::vector<double> scores(static_cast<size_t>(query_token + 1));
      double max_score = -1e300;
      for (int64_t j = 0; j <= query_token; ++j) {
        double dot = 0;
        for (int64_t d = 0; d < c.head_dim; ++d) {
          dot += s.q[qi * q_width() + h * c.head_dim + d] *
                 stored(s.k[j * kv_width() + kvh * c.head_dim + d]);
        }
        scores[j] = dot / std::sqrt(static_cast<double>(c.head_dim));
        max_score = std::max(max_score, scores[j]);
      }
      double sum = 0;
      for (double& x : scores) sum += (x = std::exp(x - max_score));
      for (int64_t j = 0; j <= query_token; ++j) {
        for (int64_t d = 0; d < c.head_dim; ++d) {
          out[h * c.head_dim + d] +=
              scores[j] / sum * stored(s.v[j * kv_width() + kvh * c.head_dim + d]);
        }
      }
    }
    return out;
  }
};

TEST_P(Attention, MixedDecodesAndPrefillChunksMatchDenseReference) {
  for (cpu::Isa isa : test::available_isas()) {
    SCOPED_TRACE(std::string(cpu::isa_name(isa)));
    use_isa(isa);
    check_mixed_batch();
  }
}

void Attention::check_mixed_batch() {
  KvPoolStorage storage = backend->alloc_kv_pool(pool_shape());
  // (context, new queries): decode at 97, a prefill chunk on top of 17 cached, a fresh prefill
  // of 20 (partial second block), a decode of the very first token, a decode at one full block.
  auto seqs = make_sequences({{97, 1}, {50, 33}, {20, 20}, {1, 1}, {16, 1}});
  std::vector<std::pair<int64_t, int64_t>> cached, fresh;
  for (const auto& s : seqs) {
    cached.emplace_back(0, s.context - s.queries);
    fresh.emplace_back(s.context - s.queries, s.context);
  }
  write_tokens(storage.pool, seqs, cached);
  write_tokens(storage.pool, seqs, fresh);
  const auto got = attend(storage.pool, seqs, fresh);
  size_t row = 0;
  double worst = 0;
  for (const auto& s : seqs) {
    for (int64_t t = s.context - s.queries; t < s.context; ++t, ++row) {
      const auto expect = reference(s, t);
      for (int64_t i = 0; i < q_width(); ++i) {
        const double err = std::abs(got[row * q_width() + i] - expect[i]);
        worst = std::max(worst, err);
        ASSERT_LT(err, 2e-5) << "context " << s.context << " token " << t << " element " << i;
      }
    }
  }
  RecordProperty("worst_abs_error", std::to_string(worst));
}

TEST_P(Attention, OnePrefillEqualsChunksThenDecodes) {
  auto seqs = make_sequences({{97, 97}});
  KvPoolStorage whole = backend->alloc_kv_pool(pool_shape());
  write_tokens(whole.pool, seqs, {{0, 97}});
  const auto one_shot = attend(whole.pool, seqs, {{0, 97}});

  KvPoolStorage pieces = backend->alloc_kv_pool(pool_shape());
  std::vector<float> stitched;
  std::vector<std::pair<int64_t, int64_t>> steps = {{0, 40}, {40, 90}};
  for (int64_t t = 90; t < 97; ++t) steps.emplace_back(t, t + 1);
  for (const auto& step : steps) {
    write_tokens(pieces.pool, seqs, {step});
    const auto part = attend(pieces.pool, seqs, {step});
    stitched.insert(stitched.end(), part.begin(), part.end());
  }
  ASSERT_EQ(stitched.size(), one_shot.size());
  for (size_t i = 0; i < one_shot.size(); ++i) ASSERT_EQ(stitched[i], one_shot[i]) << i;
}

const Config kConfigs[] = {
    {64, 2, 4, Type::F16},
    {128, 1, 8, Type::F16},
    {128, 2, 4, Type::F32},
    {64, 3, 1, Type::F32},
};
INSTANTIATE_TEST_SUITE_P(Shapes, Attention, ::testing::ValuesIn(kConfigs), config_name);

class KvOps : public ::testing::Test {
 protected:
  cpu::CpuBackend backend{cpu::CpuOptions{.n_threads = 2, .isa = std::nullopt}};
  KvPoolShape shape{.n_layers = 2,
                    .n_blocks = 4,
                    .block_size = 16,
                    .n_kv_heads = 2,
                    .head_dim = 8,
                    .type = Type::F32};
};

TEST_F(KvOps, WriteKvStoresRowsAtSlotsAndSkipsNegativeSlots) {
  KvPoolStorage storage = backend.alloc_kv_pool(shape);
  const auto k = test::random_floats(3 * 16, 1), v = test::random_floats(3 * 16, 2);
  auto kt = test::f32_tensor(backend, k, 16), vt = test::f32_tensor(backend, v, 16);
  auto slots = test::i32_tensor(backend, {37, -1, 0});
  backend.write_kv(storage.pool, 1, kt.t, vt.t, slots.t);
  const int64_t layer_rows = shape.rows_per_layer();
  const float* k37 = storage.pool.k.row<float>(layer_rows + 37 * 2);
  const float* v0 = storage.pool.v.row<float>(layer_rows + 0);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(k37[i], k[i]);
    EXPECT_EQ(v0[i], v[32 + i]);
  }
  const float* layer0 = storage.pool.k.row<float>(0);
  for (int i = 0; i < 16; ++i) EXPECT_EQ(layer0[i], 0.0f);  // layer 0 untouched
  auto bad = test::i32_tensor(backend, {64, 0, 1});
  EXPECT_THROW(backend.write_kv(storage.pool, 1, kt.t, vt.t, bad.t), Error);
  EXPECT_THROW(backend.write_kv(storage.pool, 2, kt.t, vt.t, slots.t), Error);
}

TEST_F(KvOps, CopyBlocksCopiesEveryLayerOfKAndV) {
  KvPoolStorage storage = backend.alloc_kv_pool(shape);
  const auto fill = test::random_floats(static_cast<size_t>(shape.n_rows() * shape.head_dim), 3);
  std::memcpy(storage.pool.k.data, fill.data(), fill.size() * 4);
  std::memcpy(storage.pool.v.data, fill.data(), fill.size() * 4);
  std::vector<float> before_k(fill);
  auto pairs = test::i32_tensor(backend, {2, 0, 1, 3}, 2);
  backend.copy_blocks(storage.pool, pairs.t);
  const int64_t block_rows = shape.block_size * shape.n_kv_heads;
  for (int64_t layer = 0; layer < 2; ++layer) {
    for (auto [src, dst] : {std::pair{2, 0}, std::pair{1, 3}}) {
      for (int64_t r = 0; r < block_rows; ++r) {
        const int64_t s_row = layer * shape.rows_per_layer() + src * block_rows + r;
        const int64_t d_row = layer * shape.rows_per_layer() + dst * block_rows + r;
        for (int64_t i = 0; i < shape.head_dim; ++i) {
          ASSERT_EQ(storage.pool.k.row<float>(d_row)[i], before_k[s_row * shape.head_dim + i]);
          ASSERT_EQ(storage.pool.v.row<float>(d_row)[i], before_k[s_row * shape.head_dim + i]);
        }
      }
    }
  }
  auto bad = test::i32_tensor(backend, {0, 4}, 2);
  EXPECT_THROW(backend.copy_blocks(storage.pool, bad.t), Error);
}

TEST_F(KvOps, AttentionRejectsBadBatchDescriptions) {
  KvPoolStorage storage = backend.alloc_kv_pool(shape);
  auto q = test::f32_tensor(backend, test::random_floats(2 * 32, 4), 32);  // 4 heads, GQA 2
  auto out = test::make_owned(backend, Type::F32, Shape::of(32, 2));
  auto starts = test::i32_tensor(backend, {0, 2});
  auto table = test::i32_tensor(backend, {0, 1}, 2);
  auto run = [&](const std::vector<int32_t>& ctx, const test::Owned& tbl) {
    auto ct = test::i32_tensor(backend, ctx);
    AttentionBatch batch{.n_seqs = 1,
                         .max_context = 32,
                         .query_start = starts.t,
                         .context_len = ct.t,
                         .block_table = tbl.t};
    backend.attention(q.t, storage.pool, 0, batch, 0.0f, out.t);
  };
  EXPECT_NO_THROW(run({20}, table));
  EXPECT_THROW(run({1}, table), Error);   // fewer cached tokens than queries
  EXPECT_THROW(run({33}, table), Error);  // more tokens than the table's blocks hold
  auto bad_table = test::i32_tensor(backend, {0, 9}, 2);
  EXPECT_THROW(run({20}, bad_table), Error);  // block outside the pool
}

}  // namespace
}  // namespace ingot::backend
