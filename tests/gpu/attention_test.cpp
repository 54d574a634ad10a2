// The paged KV ops on the GPU against the CPU: write_kv into F16 and F32 pools (with skipped
// slots), attention over six sequences mixing a 97-token prefill, prefill chunks and decodes
// (GQA 1, 4 and 8; head_dim 64 and 128; scattered block tables), and copy_blocks.
#include <algorithm>
#include <numeric>

#include "gpu_test_util.h"

namespace ingot::gpu_test {
namespace {

struct Config {
  int64_t head_dim, n_kv_heads, group;
  Type kv_type;
};

std::string config_name(const ::testing::TestParamInfo<Config>& info) {
  const Config& c = info.param;
  return std::string("d") + std::to_string(c.head_dim) + "_kv" + std::to_string(c.n_kv_heads) + "_g" +
         std::to_string(c.group) + "_" + std::string(quant::name(c.kv_type));
}

class GpuAttention : public ::testing::TestWithParam<Config> {};

TEST_P(GpuAttention, MixedPrefillAndDecodeMatchesCpu) {
  const Config c = GetParam();
  constexpr int64_t kBlockSize = 16, kBlocks = 48, kLayer = 1;
  const backend::KvPoolShape shape{.n_layers = 3,
                                   .n_blocks = kBlocks,
                                   .block_size = kBlockSize,
                                   .n_kv_heads = c.n_kv_heads,
                                   .head_dim = c.head_dim,
                                   .type = c.kv_type};
  const int64_t kv_width = c.n_kv_heads * c.head_dim, q_width = kv_width * c.group;
  // (context after this step, queries this step)
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{97, 97}, {54, 1}, {33, 16},
                                                         {1, 1},   {200, 1}, {40, 7}};
  std::vector<int32_t> free_blocks(kBlocks);
  std::iota(free_blocks.begin(), free_blocks.end(), 0);
  std::shuffle(free_blocks.begin(), free_blocks.end(), std::mt19937(5));
  int64_t max_blocks = 0;
  for (auto [ctx, q] : seqs) max_blocks = std::max<int64_t>(max_blocks, (ctx + kBlockSize - 1) / kBlockSize);
  std::vector<int32_t> table(static_cast<size_t>(max_blocks * seqs.size()), 0);
  std::vector<int32_t> slots, query_start{0}, context;
  int64_t n_queries = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const auto [ctx, q] = seqs[s];
    for (int64_t b = 0; b < (ctx + kBlockSize - 1) / kBlockSize; ++b) {
      table[s * max_blocks + b] = free_blocks.back();
      free_blocks.pop_back();
    }
    for (int32_t j = 0; j < ctx; ++j) {
      slots.push_back(table[s * max_blocks + j / kBlockSize] * kBlockSize + j % kBlockSize);
    }
    n_queries += q;
    query_start.push_back(static_cast<int32_t>(n_queries));
    context.push_back(ctx);
  }
  slots.push_back(-1);  // a padding token: skipped
  const int64_t n_kv_tokens = static_cast<int64_t>(slots.size());
  auto pool_c = cpu().alloc_kv_pool(shape);
  auto pool_g = gpu().alloc_kv_pool(shape);
  const auto k = random_floats(static_cast<size_t>(kv_width * n_kv_tokens), 51);
  const auto v = random_floats(static_cast<size_t>(kv_width * n_kv_tokens), 52);
  const auto q = random_floats(static_cast<size_t>(q_width * n_queries), 53, -2.0f, 2.0f);
  Pair kt = make_f32(k, kv_width), vt = make_f32(v, kv_width), qt = make_f32(q, q_width);
  Pair st = make_i32(slots);
  cpu().write_kv(pool_c.pool, kLayer, kt.cpu, vt.cpu, st.cpu);
  gpu().write_kv(pool_g.pool, kLayer, kt.gpu, vt.gpu, st.gpu);
  const std::string type = std::string(quant::name(c.kv_type));
  const std::string pool_text = std::string("kv") + std::to_string(c.n_kv_heads) + " d" + std::to_string(c.head_dim);
  {
    const double err = relative_error(read_gpu(pool_g.pool.k), read_cpu(pool_c.pool.k)) +
                       relative_error(read_gpu(pool_g.pool.v), read_cpu(pool_c.pool.v));
    record(ResultRow{"write_kv", type, pool_text + " t" + std::to_string(n_kv_tokens), err, 1e-7,
                     err < 1e-7});
    EXPECT_LT(err, 1e-7);
  }
  Pair qs = make_i32(query_start), cl = make_i32(context), bt = make_i32(table, max_blocks);
  const auto batch = [&](bool on_gpu) {
    return backend::AttentionBatch{.n_seqs = static_cast<int64_t>(seqs.size()),
                                   .max_context = 200,
                                   .query_start = on_gpu ? qs.gpu : qs.cpu,
                                   .context_len = on_gpu ? cl.gpu : cl.cpu,
                                   .block_table = on_gpu ? bt.gpu : bt.cpu};
  };
  Pair out = make_poisoned(Type::F32, Shape::of(q_width, n_queries));
  cpu().attention(qt.cpu, pool_c.pool, kLayer, batch(false), 0.0f, out.cpu);
  gpu().attention(qt.gpu, pool_g.pool, kLayer, batch(true), 0.0f, out.gpu);
  expect_close("attention", type,
               std::string("g") + std::to_string(c.group) + " " + pool_text + " q" + std::to_string(n_queries),
               out, c.kv_type == Type::F32 ? 1e-5 : 1e-2);

  // copy_blocks: two pairs, then whole pools compared.
  const std::vector<int32_t> pairs = {table[0], free_blocks[0], table[max_blocks + 1], free_blocks[1]};
  Pair pt = make_i32(pairs, 2);
  cpu().copy_blocks(pool_c.pool, pt.cpu);
  gpu().copy_blocks(pool_g.pool, pt.gpu);
  const double err = relative_error(read_gpu(pool_g.pool.k), read_cpu(pool_c.pool.k)) +
                     relative_error(read_gpu(pool_g.pool.v), read_cpu(pool_c.pool.v));
  record(ResultRow{"copy_blocks", type, pool_text + " pairs2", err, 1e-7, err < 1e-7});
  EXPECT_LT(err, 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuAttention,
                         ::testing::Values(Config{64, 2, 4, Type::F16}, Config{128, 1, 8, Type::F32},
                                           Config{64, 4, 8, Type::F32}, Config{128, 2, 4, Type::F16},
                                           Config{64, 2, 1, Type::F32}, Config{128, 8, 4, Type::F32}),
                         config_name);

}  // namespace
}  // namespace ingot::gpu_test
