// The paged KV ops on the GPU against the CPU: write_kv into F16 and F32 pools (with skipped
// slots), attention over six sequences mixing a 97-token prefill, prefill chunks and decodes
// (GQA 1, 4, 7 and 8; head_dim 64 and 128; scattered block tables), copy_blocks; and long
// contexts (a 97-token chunk after 903 keys, decodes at 700 and 333) through the flash kernel
// with split-K forced to 1, 3 and 16 splits and chosen automatically, and the reference kernel.
// Decode batches (one row per sequence: the decode kernel): 1, 5 and 17 sequences at contexts
// 1..4096, padded-bucket rows, uneven rows per sequence, forced splits; bad context / block id.
#include <algorithm>
#include <array>
#include <cstring>
#include <numeric>

#include "backend/cuda/kernels/launchers.h"
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

// One attention call's inputs on both backends: pools holding the K/V of every sequence's
// context (written through write_kv), q, and the batch tables.
struct Case {
  backend::KvPoolStorage pool_c, pool_g;
  Pair q, query_start, context, table;
  std::vector<int32_t> table_host, free_blocks;
  int64_t n_seqs = 0, n_queries = 0, max_blocks = 0, max_context = 0, q_width = 0;
  double write_error = 0.0;

  backend::AttentionBatch batch(bool on_gpu) const {
    return backend::AttentionBatch{.n_seqs = n_seqs,
                                   .max_context = max_context,
                                   .query_start = on_gpu ? query_start.gpu : query_start.cpu,
                                   .context_len = on_gpu ? context.gpu : context.cpu,
                                   .block_table = on_gpu ? table.gpu : table.cpu};
  }
};

constexpr int64_t kBlockSize = 16, kLayer = 1;

// seqs: (context after this step, queries this step).
Case make_case(const Config& c, const std::vector<std::pair<int32_t, int32_t>>& seqs,
               int64_t n_blocks, uint32_t seed) {
  Case t;
  const backend::KvPoolShape shape{.n_layers = 3,
                                   .n_blocks = n_blocks,
                                   .block_size = kBlockSize,
                                   .n_kv_heads = c.n_kv_heads,
                                   .head_dim = c.head_dim,
                                   .type = c.kv_type};
  const int64_t kv_width = c.n_kv_heads * c.head_dim;
  t.q_width = kv_width * c.group;
  t.n_seqs = static_cast<int64_t>(seqs.size());
  t.free_blocks.resize(static_cast<size_t>(n_blocks));
  std::iota(t.free_blocks.begin(), t.free_blocks.end(), 0);
  std::shuffle(t.free_blocks.begin(), t.free_blocks.end(), std::mt19937(seed));
  for (auto [ctx, q] : seqs) {
    t.max_blocks = std::max<int64_t>(t.max_blocks, (ctx + kBlockSize - 1) / kBlockSize);
    t.max_context = std::max<int64_t>(t.max_context, ctx);
  }
  t.table_host.assign(static_cast<size_t>(t.max_blocks * t.n_seqs), 0);
  std::vector<int32_t> slots, query_start{0}, context;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const auto [ctx, q] = seqs[s];
    for (int64_t b = 0; b < (ctx + kBlockSize - 1) / kBlockSize; ++b) {
      t.table_host[s * t.max_blocks + b] = t.free_blocks.back();
      t.free_blocks.pop_back();
    }
    for (int32_t j = 0; j < ctx; ++j) {
      slots.push_back(t.table_host[s * t.max_blocks + j / kBlockSize] * kBlockSize + j % kBlockSize);
    }
    t.n_queries += q;
    query_start.push_back(static_cast<int32_t>(t.n_queries));
    context.push_back(ctx);
  }
  slots.push_back(-1);  // a padding token: skipped
  const int64_t n_kv_tokens = static_cast<int64_t>(slots.size());
  t.pool_c = cpu().alloc_kv_pool(shape);
  t.pool_g = gpu().alloc_kv_pool(shape);
  const auto k = random_floats(static_cast<size_t>(kv_width * n_kv_tokens), seed + 51);
  const auto v = random_floats(static_cast<size_t>(kv_width * n_kv_tokens), seed + 52);
  const auto q = random_floats(static_cast<size_t>(t.q_width * t.n_queries), seed + 53, -2.0f, 2.0f);
  Pair kt = make_f32(k, kv_width), vt = make_f32(v, kv_width), st = make_i32(slots);
  t.q = make_f32(q, t.q_width);
  cpu().write_kv(t.pool_c.pool, kLayer, kt.cpu, vt.cpu, st.cpu);
  gpu().write_kv(t.pool_g.pool, kLayer, kt.gpu, vt.gpu, st.gpu);
  t.write_error = relative_error(read_gpu(t.pool_g.pool.k), read_cpu(t.pool_c.pool.k)) +
                  relative_error(read_gpu(t.pool_g.pool.v), read_cpu(t.pool_c.pool.v));
  t.query_start = make_i32(query_start);
  t.context = make_i32(context);
  t.table = make_i32(t.table_host, t.max_blocks);
  return t;
}

std::string pool_text(const Config& c) {
  return std::string("kv") + std::to_string(c.n_kv_heads) + " d" + std::to_string(c.head_dim);
}

class GpuAttention : public ::testing::TestWithParam<Config> {};

TEST_P(GpuAttention, MixedPrefillAndDecodeMatchesCpu) {
  const Config c = GetParam();
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{97, 97}, {54, 1}, {33, 16},
                                                         {1, 1},   {200, 1}, {40, 7}};
  Case t = make_case(c, seqs, 48, 5);
  const std::string type = std::string(quant::name(c.kv_type));
  record(ResultRow{"write_kv", type, pool_text(c) + " t" + std::to_string(t.n_queries), t.write_error,
                   1e-7, t.write_error < 1e-7});
  EXPECT_LT(t.write_error, 1e-7);
  Pair out = make_poisoned(Type::F32, Shape::of(t.q_width, t.n_queries));
  cpu().attention(t.q.cpu, t.pool_c.pool, kLayer, t.batch(false), 0.0f, out.cpu);
  gpu().attention(t.q.gpu, t.pool_g.pool, kLayer, t.batch(true), 0.0f, out.gpu);
  expect_close("attention", type,
               std::string("g") + std::to_string(c.group) + " " + pool_text(c) + " q" + std::to_string(t.n_queries),
               out, c.kv_type == Type::F32 ? 1e-5 : 1e-2);

  // copy_blocks: two pairs, then whole pools compared.
  const std::vector<int32_t> pairs = {t.table_host[0], t.free_blocks[0],
                                      t.table_host[t.max_blocks + 1], t.free_blocks[1]};
  Pair pt = make_i32(pairs, 2);
  cpu().copy_blocks(t.pool_c.pool, pt.cpu);
  gpu().copy_blocks(t.pool_g.pool, pt.gpu);
  const double err = relative_error(read_gpu(t.pool_g.pool.k), read_cpu(t.pool_c.pool.k)) +
                     relative_error(read_gpu(t.pool_g.pool.v), read_cpu(t.pool_c.pool.v));
  record(ResultRow{"copy_blocks", type, pool_text(c) + " pairs2", err, 1e-7, err < 1e-7});
  EXPECT_LT(err, 1e-7);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuAttention,
                         ::testing::Values(Config{64, 2, 4, Type::F16}, Config{128, 1, 8, Type::F32},
                                           Config{64, 4, 8, Type::F32}, Config{128, 2, 4, Type::F16},
                                           Config{64, 2, 1, Type::F32}, Config{128, 8, 4, Type::F32},
                                           Config{128, 8, 4, Type::F16}, Config{64, 4, 8, Type::F16},
                                           Config{128, 1, 8, Type::F16}, Config{64, 2, 1, Type::F16},
                                           Config{64, 2, 7, Type::F16}, Config{96, 2, 4, Type::F16}),
                         config_name);

class GpuAttentionLong : public ::testing::TestWithParam<Config> {};

// Contexts beyond one split: the flash kernel with forced splits, automatic splits and the
// reference kernel, each against the CPU.
TEST_P(GpuAttentionLong, SplitsMatchCpu) {
  const Config c = GetParam();
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{1000, 97}, {700, 1}, {1, 1}, {333, 16}};
  Case t = make_case(c, seqs, 160, 9);
  Pair ref = make_poisoned(Type::F32, Shape::of(t.q_width, t.n_queries));
  cpu().attention(t.q.cpu, t.pool_c.pool, kLayer, t.batch(false), 0.0f, ref.cpu);
  const std::vector<float> expected = read_cpu(ref.cpu);

  Buffer scratch = gpu().alloc(size_t{64} << 20);
  Buffer error_buffer;
  const Tensor error_word = gpu().alloc_tensor(Type::I32, Shape::of(4, 1), error_buffer);
  const int32_t zeros[4] = {0, 0, 0, 0};
  gpu().upload(error_word, zeros, sizeof zeros);
  auto* error = static_cast<cuda::DeviceErrorWord*>(error_word.data);

  struct Variant {
    std::string name;
    cuda::AttentionOptions options;
  };
  const std::vector<Variant> variants = {{"splits1", {false, 1}},  {"splits3", {false, 3}},
                                         {"splits16", {false, 16}}, {"auto", {false, 0}},
                                         {"reference", {true, 0}}};
  for (const Variant& v : variants) {
    Pair out = make_poisoned(Type::F32, Shape::of(t.q_width, t.n_queries));
    cuda::launch_attention(t.q.gpu, t.pool_g.pool, kLayer, t.batch(true), 0.0f, out.gpu,
                           cuda::DeviceScratch{scratch.data(), scratch.size()}, error,
                           gpu().stream(), v.options);
    gpu().synchronize();
    const double err = relative_error(read_gpu(out.gpu), expected);
    const std::string shape = std::string("g") + std::to_string(c.group) + " " + pool_text(c) +
                              " ctx1000 " + v.name;
    record(ResultRow{"attention", std::string(quant::name(c.kv_type)), shape, err, 1e-2, err < 1e-2});
    EXPECT_LT(err, 1e-2) << shape;
  }
  int32_t word[4] = {1, 1, 1, 1};
  gpu().download(word, error_word, sizeof word);
  EXPECT_EQ(word[0], 0) << "device error " << word[0] << " " << word[1] << " " << word[2];
}

INSTANTIATE_TEST_SUITE_P(Shapes, GpuAttentionLong,
                         ::testing::Values(Config{128, 2, 4, Type::F16}, Config{64, 1, 8, Type::F16},
                                           Config{128, 4, 1, Type::F16}),
                         config_name);

// A private device error word (the backend's own stays clear) and its readback.
struct ErrorWord {
  Buffer buffer;
  Tensor tensor;
  ErrorWord() {
    tensor = gpu().alloc_tensor(Type::I32, Shape::of(4, 1), buffer);
    clear();
  }
  void clear() {
    const int32_t zeros[4] = {0, 0, 0, 0};
    gpu().upload(tensor, zeros, sizeof zeros);
  }
  cuda::DeviceErrorWord* device() const { return static_cast<cuda::DeviceErrorWord*>(tensor.data); }
  std::array<int32_t, 4> read() const {
    std::array<int32_t, 4> w{1, 1, 1, 1};
    gpu().download(w.data(), tensor, sizeof w);
    return w;
  }
};

// One decode batch on the GPU against the CPU: through the backend (automatic kernel and
// splits), then launch_attention with 1, 3 and 32 splits forced and the flash kernel forced.
void check_decode_batch(const Config& c, Case& t, const std::string& what) {
  const std::string type = std::string(quant::name(c.kv_type));
  const double threshold = c.kv_type == Type::F32 ? 1e-5 : 1e-2;
  ASSERT_STREQ(cuda::attention_kernel_name(c.kv_type, c.head_dim, c.group, t.n_queries, t.n_seqs), "decode")
      << what;
  Pair ref = make_poisoned(Type::F32, Shape::of(t.q_width, t.n_queries));
  cpu().attention(t.q.cpu, t.pool_c.pool, kLayer, t.batch(false), 0.0f, ref.cpu);
  const std::vector<float> expected = read_cpu(ref.cpu);
  const std::string shape = std::string("g") + std::to_string(c.group) + " " + pool_text(c) + " " + what;
  {
    Pair out = make_poisoned(Type::F32, Shape::of(t.q_width, t.n_queries));
    gpu().attention(t.q.gpu, t.pool_g.pool, kLayer, t.batch(true), 0.0f, out.gpu);
    const double err = relative_error(read_gpu(out.gpu), expected);
    record(ResultRow{"attention decode", type, shape + " auto", err, threshold, err < threshold});
    EXPECT_LT(err, threshold) << shape << " auto";
  }
  Buffer scratch = gpu().alloc(size_t{64} << 20);
  ErrorWord error;
  struct Variant {
    std::string name;
    cuda::AttentionOptions options;
  };
  const std::vector<Variant> variants = {{"splits1", {false, 1, false}},
                                         {"splits3", {false, 3, false}},
                                         {"splits32", {false, 32, false}},
                                         {"flash", {false, 0, true}}};
  for (const Variant& v : variants) {
    if (v.options.flash && (c.kv_type != Type::F16 || (c.head_dim != 64 && c.head_dim != 128))) continue;
    Pair out = make_poisoned(Type::F32, Shape::of(t.q_width, t.n_queries));
    cuda::launch_attention(t.q.gpu, t.pool_g.pool, kLayer, t.batch(true), 0.0f, out.gpu,
                           cuda::DeviceScratch{scratch.data(), scratch.size()}, error.device(),
                           gpu().stream(), v.options);
    gpu().synchronize();
    const double err = relative_error(read_gpu(out.gpu), expected);
    record(ResultRow{"attention decode", type, shape + " " + v.name, err, threshold, err < threshold});
    EXPECT_LT(err, threshold) << shape << " " << v.name;
  }
  const auto word = error.read();
  EXPECT_EQ(word[0], 0) << shape << ": device error " << word[0] << " " << word[1] << " " << word[2];
}

int64_t blocks_for(const std::vector<std::pair<int32_t, int32_t>>& seqs) {
  int64_t n = 8;
  for (auto [ctx, q] : seqs) n += (ctx + kBlockSize - 1) / kBlockSize;
  return n;
}

class GpuAttentionDecode : public ::testing::TestWithParam<Config> {};

TEST_P(GpuAttentionDecode, BatchesOf1And5And17MatchCpu) {
  const Config c = GetParam();
  const std::vector<int32_t> contexts = {1, 7, 64, 300, 2049, 4096};
  std::vector<std::vector<std::pair<int32_t, int32_t>>> batches(3);
  batches[0] = {{4096, 1}};
  for (int i = 0; i < 5; ++i) batches[1].push_back({contexts[static_cast<size_t>(i)], 1});
  for (int i = 0; i < 17; ++i) batches[2].push_back({contexts[static_cast<size_t>((i * 5) % 6)], 1});
  uint32_t seed = 21;
  for (const auto& seqs : batches) {
    Case t = make_case(c, seqs, blocks_for(seqs), seed++);
    check_decode_batch(c, t, "seqs" + std::to_string(seqs.size()) + " max" + std::to_string(t.max_context));
  }
}

// Padded CUDA-graph steps: real sequences, then padding rows of context 1 reading block 0 of the
// first sequence, the table widened to a 256-key bucket and max_context = 256.
TEST_P(GpuAttentionDecode, PaddedBucketMatchesCpu) {
  const Config c = GetParam();
  std::vector<std::pair<int32_t, int32_t>> seqs = {{5, 1}, {40, 1}, {130, 1}};
  for (int i = 0; i < 5; ++i) seqs.push_back({1, 1});
  Case t = make_case(c, seqs, blocks_for(seqs), 31);
  constexpr int64_t kBucket = 256, kWidth = kBucket / kBlockSize;
  std::vector<int32_t> table(static_cast<size_t>(kWidth * t.n_seqs), 0);
  const int32_t shared_block = t.table_host[0];
  for (int64_t s = 0; s < t.n_seqs; ++s) {
    for (int64_t b = 0; b < t.max_blocks; ++b) {
      table[s * kWidth + b] = s < 3 ? t.table_host[s * t.max_blocks + b] : (b == 0 ? shared_block : 0);
    }
  }
  t.table = make_i32(table, kWidth);
  t.max_blocks = kWidth;
  t.max_context = kBucket;
  check_decode_batch(c, t, "padded bucket256");
}

// Rows per sequence 2, 0 and 1: n_tokens == n_seqs still takes the decode kernel, which walks
// each sequence's rows with their causal limits.
TEST_P(GpuAttentionDecode, UnevenRowsMatchCpu) {
  const Config c = GetParam();
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{300, 2}, {5, 0}, {70, 1}};
  Case t = make_case(c, seqs, blocks_for(seqs), 41);
  check_decode_batch(c, t, "rows 2/0/1");
}

INSTANTIATE_TEST_SUITE_P(DecodeShapes, GpuAttentionDecode,
                         ::testing::Values(Config{128, 2, 4, Type::F16}, Config{64, 1, 8, Type::F16},
                                           Config{128, 4, 1, Type::F16}, Config{64, 2, 4, Type::F16},
                                           Config{128, 1, 8, Type::F32}, Config{64, 2, 1, Type::F32},
                                           Config{96, 2, 7, Type::F16}, Config{256, 1, 2, Type::F16}),
                         config_name);

// Bad inputs in a decode batch: a context past the block table and a block id past the pool are
// recorded in the device error word and give NaN rows for that sequence, with one split and three.
TEST(GpuAttentionDecodeErrors, BadContextAndBlockIdAreReported) {
  const Config c{128, 2, 4, Type::F16};
  const std::vector<std::pair<int32_t, int32_t>> seqs = {{20, 1}, {40, 1}, {9, 1}};
  const int64_t n_blocks = blocks_for(seqs);
  Case t = make_case(c, seqs, n_blocks, 51);
  Buffer scratch = gpu().alloc(size_t{16} << 20);
  ErrorWord error;
  const auto run = [&](int splits) {
    Pair out = make_poisoned(Type::F32, Shape::of(t.q_width, t.n_queries));
    cuda::launch_attention(t.q.gpu, t.pool_g.pool, kLayer, t.batch(true), 0.0f, out.gpu,
                           cuda::DeviceScratch{scratch.data(), scratch.size()}, error.device(),
                           gpu().stream(), cuda::AttentionOptions{false, splits, false});
    gpu().synchronize();
    return read_gpu(out.gpu);
  };
  const auto row_is_nan = [&](const std::vector<float>& out, int64_t row) {
    for (int64_t i = 0; i < t.q_width; ++i) {
      if (!std::isnan(out[static_cast<size_t>(row * t.q_width + i)])) return false;
    }
    return true;
  };
  for (int splits : {1, 3}) {
    SCOPED_TRACE("splits " + std::to_string(splits));
    std::vector<float> out = run(splits);
    auto word = error.read();
    EXPECT_EQ(word[0], 0);
    EXPECT_FALSE(row_is_nan(out, 1));

    // Sequence 1's context past its block table (max_blocks * 16 keys).
    Pair bad_context = make_i32({20, static_cast<int32_t>(t.max_blocks * kBlockSize + 1), 9});
    std::swap(t.context, bad_context);
    out = run(splits);
    std::swap(t.context, bad_context);
    word = error.read();
    EXPECT_EQ(word[0], cuda::kDeviceErrorAttentionBatch);
    EXPECT_EQ(word[1], 1);
    EXPECT_TRUE(row_is_nan(out, 1));
    EXPECT_FALSE(row_is_nan(out, 0));
    error.clear();

    // Sequence 2's first block id past the pool.
    std::vector<int32_t> table = t.table_host;
    table[static_cast<size_t>(2 * t.max_blocks)] = static_cast<int32_t>(n_blocks + 5);
    Pair bad_table = make_i32(table, t.max_blocks);
    std::swap(t.table, bad_table);
    out = run(splits);
    std::swap(t.table, bad_table);
    word = error.read();
    EXPECT_EQ(word[0], cuda::kDeviceErrorAttentionBlock);
    EXPECT_EQ(word[1], n_blocks + 5);
    EXPECT_TRUE(row_is_nan(out, 2));
    EXPECT_FALSE(row_is_nan(out, 0));
    error.clear();
  }
}

}  // namespace
}  // namespace ingot::gpu_test
