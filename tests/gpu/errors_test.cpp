// What the CUDA backend refuses, and how: unsupported weight types at upload, bad device-side
// inputs (token ids, slots, block ids, logit rows) reported as an Error at the next
// synchronize() with the backend still usable after, and device memory back to its baseline
// after buffers are freed.
#include "backend/cuda/cuda_check.h"
#include "gpu_test_util.h"

namespace ingot::gpu_test {
namespace {

template <typename F>
void expect_error_containing(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error; expected one containing '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(GpuErrors, UnsupportedWeightTypeFailsAtUpload) {
  for (Type type : {Type::Q2_K, Type::Q3_K, Type::IQ4_XS}) {
    const Weight w = make_weight(type, 256, 4, 1);
    expect_error_containing(
        [&] { gpu().upload_weight(w.bytes.data(), type, Shape::of(256, 4), nullptr); },
        std::string(quant::name(type)));
  }
}

TEST(GpuErrors, BadTokenIdIsReportedAtSynchronize) {
  const Weight w = make_weight(Type::F32, 64, 10, 2);
  const Tensor wg = gpu().upload_weight(w.bytes.data(), Type::F32, Shape::of(64, 10), nullptr);
  Pair ids = make_i32({1, 10, 2});
  Pair out = make_poisoned(Type::F32, Shape::of(64, 3));
  gpu().embed(ids.gpu, wg, out.gpu);
  expect_error_containing([&] { gpu().synchronize(); }, "token id 10");
  // Still usable, and the error word was cleared.
  Pair good = make_i32({1, 9, 2});
  gpu().embed(good.gpu, wg, out.gpu);
  gpu().synchronize();
}

TEST(GpuErrors, BadSlotAndBlockAndRowAreReported) {
  const backend::KvPoolShape shape{.n_layers = 1, .n_blocks = 4, .block_size = 16,
                                   .n_kv_heads = 1, .head_dim = 64, .type = Type::F16};
  auto pool = gpu().alloc_kv_pool(shape);
  Pair kv = make_f32(random_floats(128, 3), 64);
  Pair slots = make_i32({0, 64});
  gpu().write_kv(pool.pool, 0, kv.gpu, kv.gpu, slots.gpu);
  expect_error_containing([&] { gpu().synchronize(); }, "slot 64");

  Pair q = make_f32(random_floats(64, 4), 64);
  Pair qs = make_i32({0, 1}), cl = make_i32({20}), table = make_i32({0, 7}, 2);
  Pair out = make_poisoned(Type::F32, Shape::of(64, 1));
  gpu().attention(q.gpu, pool.pool, 0,
                  backend::AttentionBatch{.n_seqs = 1, .max_context = 20, .query_start = qs.gpu,
                                          .context_len = cl.gpu, .block_table = table.gpu},
                  0.0f, out.gpu);
  expect_error_containing([&] { gpu().synchronize(); }, "block id 7");

  Pair hidden = make_f32(random_floats(64 * 2, 5), 64);
  Pair norm = make_f32(random_floats(64, 6), 64);
  const Weight w = make_weight(Type::F16, 64, 10, 7);
  const Tensor wg = gpu().upload_weight(w.bytes.data(), Type::F16, Shape::of(64, 10), nullptr);
  Pair rows = make_i32({2});
  Pair logits = make_poisoned(Type::F32, Shape::of(10, 1));
  gpu().logits(hidden.gpu, rows.gpu, norm.gpu, 1e-5f, wg, logits.gpu);
  expect_error_containing([&] { gpu().synchronize(); }, "row 2");
}

TEST(GpuTransfers, ManyUploadsWithoutSynchronizeWrapTheStagingArena) {
  // 3000 uploads of 4 KB (12 MB) pass through the 4 MB pinned arena with no synchronize();
  // each must land intact although the host vector is overwritten right after each call.
  constexpr int64_t kRows = 3000, kWidth = 1024;
  Buffer storage;
  const Tensor t = gpu().alloc_tensor(Type::F32, Shape::of(kWidth, kRows), storage);
  std::vector<float> row(kWidth);
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t i = 0; i < kWidth; ++i) row[i] = static_cast<float>(r * kWidth + i);
    gpu().upload(t.rows(r, 1), row.data(), row.size() * 4);
  }
  const std::vector<float> got = read_gpu(t);
  int64_t wrong = 0;
  for (int64_t i = 0; i < kRows * kWidth; ++i) wrong += got[i] != static_cast<float>(i);
  EXPECT_EQ(wrong, 0);
}

TEST(GpuErrors, DeviceMemoryReturnsToBaseline) {
  gpu().synchronize();
  size_t free_before = 0, total = 0;
  cuda::check_cuda(cudaMemGetInfo(&free_before, &total), "cudaMemGetInfo");
  for (int i = 0; i < 100; ++i) {
    Buffer b = gpu().alloc(size_t{8} << 20);
    auto pool = gpu().alloc_kv_pool(backend::KvPoolShape{.n_layers = 2, .n_blocks = 8,
                                                         .block_size = 16, .n_kv_heads = 2,
                                                         .head_dim = 64, .type = Type::F16});
  }
  gpu().synchronize();
  size_t free_after = 0;
  cuda::check_cuda(cudaMemGetInfo(&free_after, &total), "cudaMemGetInfo");
  EXPECT_EQ(free_before, free_after);
}

}  // namespace
}  // namespace ingot::gpu_test
