// Invariant 4 on the CPU: after reserve() and one warm-up step, a forward step's worth of ops
// allocates no heap memory. This file replaces global operator new for the whole test binary
// with a counting version (malloc-backed); counting is on only inside the measured region.
#include <atomic>
#include <cstdlib>
#include <new>

#include "backend_test_util.h"
#include "quant/quant.h"

namespace {
std::atomic<bool> g_counting{false};
std::atomic<size_t> g_allocations{0};

void* counted_alloc(size_t size, size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1);
  void* p = align > alignof(std::max_align_t)
                ? std::aligned_alloc(align, (size + align - 1) / align * align)
                : std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(size_t size) { return counted_alloc(size, 0); }
void* operator new[](size_t size) { return counted_alloc(size, 0); }
void* operator new(size_t size, std::align_val_t a) {
  return counted_alloc(size, static_cast<size_t>(a));
}
void* operator new[](size_t size, std::align_val_t a) {
  return counted_alloc(size, static_cast<size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { std::free(p); }

namespace ingot::backend {
namespace {

using quant::Type;

TEST(CpuBackend, AStepOfOpsAllocatesNothingAfterWarmUp) {
  cpu::CpuBackend backend(cpu::CpuOptions{.n_threads = 2});
  const int64_t d = 256, n_heads = 4, n_kv = 2, head_dim = 64, ff = 512, vocab = 300, n_tok = 9;
  backend.reserve(WorkspacePlan{
      .max_tokens = 64, .max_row_elements = ff, .max_context = 64, .max_logit_rows = 4});
  KvPoolStorage kv = backend.alloc_kv_pool(KvPoolShape{.n_layers = 1,
                                                       .n_blocks = 4,
                                                       .block_size = 16,
                                                       .n_kv_heads = n_kv,
                                                       .head_dim = head_dim,
                                                       .type = Type::F16});
  // Weights: a Q4_K projection, an F16 projection, an F32 norm, a Q8_0 embedding.
  auto quantized = [&](Type type, int64_t k, int64_t n, uint32_t seed) {
    const auto values = test::random_floats(static_cast<size_t>(k * n), seed);
    std::vector<uint8_t> bytes(quant::row_bytes(type, k) * n);
    for (int64_t r = 0; r < n; ++r) {
      quant::quantize_row(type, &values[r * k], &bytes[r * quant::row_bytes(type, k)], k);
    }
    return bytes;
  };
  const auto wq_bytes = quantized(Type::Q4_K, d, n_heads * head_dim, 1);
  const auto wup_bytes = quantized(Type::F16, d, ff, 2);
  const auto emb_bytes = quantized(Type::Q8_0, d, vocab, 3);
  const Tensor wq =
      backend.upload_weight(wq_bytes.data(), Type::Q4_K, Shape::of(d, n_heads * head_dim), nullptr);
  const Tensor wup = backend.upload_weight(wup_bytes.data(), Type::F16, Shape::of(d, ff), nullptr);
  const Tensor emb =
      backend.upload_weight(emb_bytes.data(), Type::Q8_0, Shape::of(d, vocab), nullptr);
  auto norm = test::f32_tensor(backend, test::random_floats(d, 4, 0.5f, 1.5f), d);
  auto ids = test::i32_tensor(backend, {1, 5, 7, 299, 0, 3, 3, 8, 100});
  auto pos = test::i32_tensor(backend, {0, 1, 2, 3, 4, 5, 6, 7, 8});
  auto slots = test::i32_tensor(backend, {16, 17, 18, 19, 20, 21, 22, 23, 24});
  auto starts = test::i32_tensor(backend, {0, n_tok});
  auto ctx = test::i32_tensor(backend, {n_tok});
  auto table = test::i32_tensor(backend, {1, 2}, 2);
  auto rows = test::i32_tensor(backend, {n_tok - 1});
  auto pairs = test::i32_tensor(backend, {1, 3}, 2);
  auto h = test::make_owned(backend, Type::F32, Shape::of(d, n_tok));
  auto res = test::make_owned(backend, Type::F32, Shape::of(d, n_tok));
  auto q = test::make_owned(backend, Type::F32, Shape::of(n_heads * head_dim, n_tok));
  auto att = test::make_owned(backend, Type::F32, Shape::of(n_heads * head_dim, n_tok));
  auto up = test::make_owned(backend, Type::F32, Shape::of(ff, n_tok));
  auto logits = test::make_owned(backend, Type::F32, Shape::of(ff, 1));
  const RopeTable rope = make_rope_table(RopeParams{.head_dim = head_dim});
  const AttentionBatch batch{.n_seqs = 1,
                             .max_context = n_tok,
                             .query_start = starts.t,
                             .context_len = ctx.t,
                             .block_table = table.t};

  auto step = [&] {
    backend.embed(ids.t, emb, h.t);
    backend.add_rms_norm(res.t, h.t, norm.t, 1e-5f, h.t);
    backend.matmul(h.t, wq, nullptr, q.t);
    backend.rope(q.t, pos.t, rope);
    Tensor k = q.t;
    k.shape = Shape::of(n_kv * head_dim, n_tok);
    backend.write_kv(kv.pool, 0, k, k, slots.t);
    backend.attention(q.t, kv.pool, 0, batch, 0.0f, att.t);
    backend.matmul(h.t, wup, nullptr, up.t);
    backend.swiglu(up.t, up.t, up.t);
    backend.gelu(up.t, up.t);
    backend.add(h.t, res.t, h.t);
    backend.scale(h.t, 0.5f, h.t);
    backend.rms_norm(h.t, norm.t, 1e-5f, h.t);
    backend.logits(h.t, rows.t, norm.t, 1e-5f, wup, logits.t);
    backend.copy_blocks(kv.pool, pairs.t);
  };
  step();  // warm-up
  g_counting = true;
  {  // the hook counts: one probe allocation
    auto probe = std::make_unique<std::vector<int>>(100);
    volatile int* keep = probe->data();
    (void)keep;
  }
  EXPECT_EQ(g_allocations.load(), 2u);
  g_allocations = 0;
  step();
  step();
  g_counting = false;
  EXPECT_EQ(g_allocations.load(), 0u);
}

}  // namespace
}  // namespace ingot::backend
