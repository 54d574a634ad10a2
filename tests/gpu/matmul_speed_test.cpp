// Timings of the prefill matmul and of attention on the GPU (skipped unless INGOT_GPU_SPEED=1):
// the matmul at 512 tokens on the weight shapes of the 8B (Llama 3.1) and 1B (Llama 3.2) models
// for Q4_K, Q8_0 and F16 (dequantization alone and the whole op, TFLOP/s), and attention for a
// 512-token prefill and long-context decodes, flash vs reference kernel, splits vs none; and the
// decode kernel against the flash kernel on one-row-per-sequence batches (8B and 1B shapes, 1 and
// 32 sequences, contexts 8..4096, and 256-key buckets as in padded CUDA-graph steps), timed as
// CUDA-graph replays of 20 launches (no host launch gaps) and as plain stream launches. Weights
// repeat 64 quantized random rows (as `ingot synth` files repeat theirs). CUDA events around
// `reps` launches after a warm-up; each line says milliseconds (or microseconds) per call.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <functional>

#include "backend/cuda/kernels/launchers.h"
#include "gpu_test_util.h"

namespace ingot::gpu_test {
namespace {

bool speed_enabled() {
  const char* env = std::getenv("INGOT_GPU_SPEED");
  return env != nullptr && std::string(env) == "1";
}

bool profile_enabled() {
  const char* env = std::getenv("INGOT_GPU_SPEED");
  return env != nullptr && std::string(env) == "profile";
}

cuda::CudaBackend& speed_backend() {
  static cuda::CudaBackend backend = [] {
    const char* env = std::getenv("INGOT_GPU_DEVICE");
    return cuda::CudaBackend(env != nullptr ? std::atoi(env) : 0);
  }();
  static const bool planned = [] {
    backend.reserve(backend::WorkspacePlan{.max_tokens = 512,
                                           .max_row_elements = 14336,
                                           .max_context = 8192,
                                           .max_logit_rows = 1});
    return true;
  }();
  (void)planned;
  return backend;
}

// Milliseconds per call of f, enqueued on the backend's stream.
double time_ms(const std::function<void()>& f, int reps = 10) {
  cuda::CudaBackend& b = speed_backend();
  f();
  b.synchronize();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  cudaEventRecord(start, b.stream());
  for (int i = 0; i < reps; ++i) f();
  cudaEventRecord(stop, b.stream());
  b.synchronize();
  float ms = 0.0f;
  cudaEventElapsedTime(&ms, start, stop);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  return static_cast<double>(ms) / reps;
}

TEST(GpuSpeed, PrefillMatmul) {
  if (!speed_enabled()) GTEST_SKIP() << "set INGOT_GPU_SPEED=1 to time";
  cuda::CudaBackend& b = speed_backend();
  constexpr int64_t kTokens = 512;
  struct ShapeCase {
    const char* model;
    int64_t k, n_out, per_layer;  // per_layer: how many such matmuls a layer has
  };
  const ShapeCase shapes[] = {{"8B", 4096, 4096, 2},  {"8B", 4096, 1024, 2}, {"8B", 4096, 14336, 2},
                              {"8B", 14336, 4096, 1}, {"1B", 2048, 2048, 2}, {"1B", 2048, 512, 2},
                              {"1B", 2048, 8192, 2},  {"1B", 8192, 2048, 1}};
  Buffer x_buffer, out_buffer;
  const Tensor x_all = b.alloc_tensor(Type::F32, Shape::of(14336, kTokens), x_buffer);
  const auto xs = random_floats(static_cast<size_t>(14336 * kTokens), 77);
  b.upload(x_all, xs.data(), xs.size() * 4);
  const Tensor out_all = b.alloc_tensor(Type::F32, Shape::of(14336, kTokens), out_buffer);
  Buffer dequant_buffer = b.alloc(size_t{14336} * 4096 * 2);
  for (Type type : {Type::Q4_K, Type::Q8_0, Type::F16}) {
    double layer_ms_8b = 0, layer_ms_1b = 0;
    for (const ShapeCase& s : shapes) {
      const Weight pattern = make_weight(type, s.k, 64, 91);
      std::vector<uint8_t> bytes(pattern.bytes.size() / 64 * static_cast<size_t>(s.n_out));
      for (size_t i = 0; i < bytes.size(); i += pattern.bytes.size()) {
        std::memcpy(&bytes[i], pattern.bytes.data(), std::min(pattern.bytes.size(), bytes.size() - i));
      }
      const Tensor w = b.upload_weight(bytes.data(), type, Shape::of(s.k, s.n_out), nullptr);
      const Tensor x = Tensor{x_all.data, Type::F32, Shape::of(s.k, kTokens), static_cast<size_t>(s.k) * 4};
      const Tensor out = Tensor{out_all.data, Type::F32, Shape::of(s.n_out, kTokens),
                                static_cast<size_t>(s.n_out) * 4};
      const double ms = time_ms([&] { b.matmul(x, w, nullptr, out); });
      double dequant_ms = 0;
      if (type != Type::F16) {
        dequant_ms = time_ms([&] {
          cuda::launch_dequantize_rows_f16(w, 0, s.n_out, dequant_buffer.data(), b.stream());
        });
      }
      const double flop = 2.0 * static_cast<double>(s.k) * s.n_out * kTokens;
      const double moved = static_cast<double>(bytes.size()) + 2.0 * s.k * s.n_out;
      std::printf("speed matmul %-4s %s k=%5lld n=%5lld t=%lld: %.3f ms (%.0f TFLOP/s); dequantize %.3f ms (%.0f GB/s)\n",
                  std::string(quant::name(type)).c_str(), s.model, static_cast<long long>(s.k),
                  static_cast<long long>(s.n_out), static_cast<long long>(kTokens), ms, flop / ms / 1e9,
                  dequant_ms, dequant_ms > 0 ? moved / dequant_ms / 1e6 : 0.0);
      (std::string(s.model) == "8B" ? layer_ms_8b : layer_ms_1b) += ms * s.per_layer;
    }
    std::printf("speed matmul %-4s per pp512: 8B %.2f ms (32 layers), 1B %.2f ms (16 layers)\n",
                std::string(quant::name(type)).c_str(), layer_ms_8b * 32, layer_ms_1b * 16);
  }
  std::fflush(stdout);
}

// K/V of n_seqs sequences of `context` keys in contiguous blocks, q for `queries` per sequence.
struct AttentionSetup {
  backend::KvPoolStorage pool;
  Buffer q_buffer, out_buffer, qs_buffer, cl_buffer, table_buffer, scratch, error_buffer;
  Tensor q, out, error_word;
  backend::AttentionBatch batch;
};

void setup_attention(AttentionSetup& s, int64_t head_dim, int64_t n_kv, int64_t group,
                     int64_t n_seqs, int32_t context, int32_t queries) {
  cuda::CudaBackend& b = speed_backend();
  const int64_t blocks_per_seq = (context + 15) / 16;
  s.pool = b.alloc_kv_pool(backend::KvPoolShape{.n_layers = 1, .n_blocks = blocks_per_seq * n_seqs,
                                                 .block_size = 16, .n_kv_heads = n_kv,
                                                 .head_dim = head_dim, .type = Type::F16});
  // Fill the pool with random K/V through write_kv, one sequence at a time.
  Buffer kv_buffer, slot_buffer;
  const int64_t kv_width = n_kv * head_dim;
  const Tensor kv = b.alloc_tensor(Type::F32, Shape::of(kv_width, context), kv_buffer);
  const auto values = random_floats(static_cast<size_t>(kv_width * context), 13);
  b.upload(kv, values.data(), values.size() * 4);
  const Tensor slots = b.alloc_tensor(Type::I32, Shape::of(context, 1), slot_buffer);
  std::vector<int32_t> table;
  for (int64_t seq = 0; seq < n_seqs; ++seq) {
    std::vector<int32_t> slot(static_cast<size_t>(context));
    for (int32_t j = 0; j < context; ++j) slot[j] = static_cast<int32_t>(seq * blocks_per_seq * 16 + j);
    b.upload(slots, slot.data(), slot.size() * 4);
    b.write_kv(s.pool.pool, 0, kv, kv, Tensor{slots.data, Type::I32, Shape::of(context, 1), slots.row_stride});
    b.synchronize();
    for (int64_t i = 0; i < blocks_per_seq; ++i) table.push_back(static_cast<int32_t>(seq * blocks_per_seq + i));
  }
  const int64_t q_width = kv_width * group, n_tokens = n_seqs * queries;
  s.q = b.alloc_tensor(Type::F32, Shape::of(q_width, n_tokens), s.q_buffer);
  const auto qv = random_floats(static_cast<size_t>(q_width * n_tokens), 14, -2.0f, 2.0f);
  b.upload(s.q, qv.data(), qv.size() * 4);
  s.out = b.alloc_tensor(Type::F32, Shape::of(q_width, n_tokens), s.out_buffer);
  std::vector<int32_t> qs{0}, cl;
  for (int64_t seq = 0; seq < n_seqs; ++seq) {
    qs.push_back(static_cast<int32_t>((seq + 1) * queries));
    cl.push_back(context);
  }
  s.batch.n_seqs = n_seqs;
  s.batch.max_context = context;
  s.batch.query_start = b.alloc_tensor(Type::I32, Shape::of(n_seqs + 1, 1), s.qs_buffer);
  s.batch.context_len = b.alloc_tensor(Type::I32, Shape::of(n_seqs, 1), s.cl_buffer);
  s.batch.block_table = b.alloc_tensor(Type::I32, Shape::of(blocks_per_seq, n_seqs), s.table_buffer);
  b.upload(s.batch.query_start, qs.data(), qs.size() * 4);
  b.upload(s.batch.context_len, cl.data(), cl.size() * 4);
  b.upload(s.batch.block_table, table.data(), table.size() * 4);
  s.scratch = b.alloc(size_t{64} << 20);
  s.error_word = b.alloc_tensor(Type::I32, Shape::of(4, 1), s.error_buffer);
  const int32_t zeros[4] = {0, 0, 0, 0};
  b.upload(s.error_word, zeros, sizeof zeros);
  b.synchronize();
}

TEST(GpuSpeed, Attention) {
  if (!speed_enabled()) GTEST_SKIP() << "set INGOT_GPU_SPEED=1 to time";
  cuda::CudaBackend& b = speed_backend();
  struct AttentionCase {
    const char* name;
    int64_t head_dim, n_kv, group, n_seqs;
    int32_t context, queries;
  };
  const AttentionCase cases[] = {{"8B pp512", 128, 8, 4, 1, 512, 512},
                                 {"1B pp512", 64, 8, 4, 1, 512, 512},
                                 {"8B decode ctx4096", 128, 8, 4, 1, 4096, 1},
                                 {"8B decode x32 ctx1024", 128, 8, 4, 32, 1024, 1}};
  for (const AttentionCase& c : cases) {
    AttentionSetup s;
    setup_attention(s, c.head_dim, c.n_kv, c.group, c.n_seqs, c.context, c.queries);
    auto* error = static_cast<cuda::DeviceErrorWord*>(s.error_word.data);
    const auto run = [&](cuda::AttentionOptions options) {
      return time_ms([&] {
        cuda::launch_attention(s.q, s.pool.pool, 0, s.batch, 0.0f, s.out,
                               cuda::DeviceScratch{s.scratch.data(), s.scratch.size()}, error,
                               b.stream(), options);
      });
    };
    const double flash = run({false, 0, true}), one = run({false, 1, true}), reference = run({true, 0});
    std::printf("speed attention %-22s: flash %.3f ms, flash 1 split %.3f ms, reference %.3f ms (x%.1f)\n",
                c.name, flash, one, reference, reference / flash);
  }
  std::fflush(stdout);
}

// Microseconds per call of f: a CUDA graph of `per_graph` calls captured on the backend's
// stream, replayed `replays` times after one warm-up replay, between two events.
double graph_us(const std::function<void()>& f, int per_graph = 20, int replays = 10) {
  cuda::CudaBackend& b = speed_backend();
  f();
  b.synchronize();
  cudaStream_t stream = b.stream();
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  EXPECT_EQ(cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal), cudaSuccess);
  for (int i = 0; i < per_graph; ++i) f();
  EXPECT_EQ(cudaStreamEndCapture(stream, &graph), cudaSuccess);
  EXPECT_EQ(cudaGraphInstantiate(&exec, graph, 0), cudaSuccess);
  EXPECT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
  b.synchronize();
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  cudaEventRecord(start, stream);
  for (int r = 0; r < replays; ++r) EXPECT_EQ(cudaGraphLaunch(exec, stream), cudaSuccess);
  cudaEventRecord(stop, stream);
  b.synchronize();
  float ms = 0.0f;
  cudaEventElapsedTime(&ms, start, stop);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  cudaGraphExecDestroy(exec);
  cudaGraphDestroy(graph);
  return static_cast<double>(ms) * 1000.0 / (per_graph * replays);
}

TEST(GpuSpeed, DecodeAttention) {
  if (!speed_enabled()) GTEST_SKIP() << "set INGOT_GPU_SPEED=1 to time";
  cuda::CudaBackend& b = speed_backend();
  struct Model {
    const char* name;
    int64_t head_dim, n_kv, group;
  };
  const Model models[] = {{"8B", 128, 8, 4}, {"1B", 64, 8, 4}};
  struct Row {
    int64_t n_seqs;
    int32_t context;
    int64_t max_context;  // 0: the context; else a padded step's bucket
  };
  const Row rows[] = {{1, 8, 0},      {1, 128, 0},    {1, 1024, 0},   {1, 4096, 0},
                      {32, 8, 0},     {32, 128, 0},   {32, 1024, 0},  {32, 4096, 0},
                      {1, 8, 256},    {1, 128, 256},  {32, 8, 256},   {32, 128, 256}};
  std::printf("speed decode attention (us per call; graph = replay of 20 captured launches, stream = "
              "back-to-back launches; GB/s = K/V bytes / decode graph time)\n");
  std::printf("| model | seqs | context | max_context | decode graph | flash graph | flash / decode | "
              "decode stream | flash stream | decode GB/s |\n");
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const Model& m : models) {
    for (const Row& r : rows) {
      AttentionSetup s;
      setup_attention(s, m.head_dim, m.n_kv, m.group, r.n_seqs, r.context, 1);
      if (r.max_context > 0) s.batch.max_context = r.max_context;
      auto* error = static_cast<cuda::DeviceErrorWord*>(s.error_word.data);
      const auto call = [&](bool flash) {
        return [&, flash] {
          cuda::launch_attention(s.q, s.pool.pool, 0, s.batch, 0.0f, s.out,
                                 cuda::DeviceScratch{s.scratch.data(), s.scratch.size()}, error,
                                 b.stream(), cuda::AttentionOptions{false, 0, flash});
        };
      };
      const double decode_graph = graph_us(call(false)), flash_graph = graph_us(call(true));
      const double decode_stream = time_ms(call(false), 50) * 1000.0;
      const double flash_stream = time_ms(call(true), 50) * 1000.0;
      const double bytes = 2.0 * static_cast<double>(r.n_seqs) * r.context * m.n_kv * m.head_dim * 2;
      std::printf("| %s | %lld | %d | %lld | %.1f | %.1f | %.2fx | %.1f | %.1f | %.0f |\n", m.name,
                  static_cast<long long>(r.n_seqs), r.context,
                  static_cast<long long>(r.max_context > 0 ? r.max_context : r.context), decode_graph,
                  flash_graph, flash_graph / decode_graph, decode_stream, flash_stream,
                  bytes / decode_graph / 1e3);
      if (r.n_seqs == 1 && r.context >= 1024) {  // the split count for one long sequence
        std::printf("|   forced splits:");
        for (int splits : {4, 8, 16, 32}) {
          std::printf(" %d: %.1f us;", splits, graph_us([&] {
                        cuda::launch_attention(s.q, s.pool.pool, 0, s.batch, 0.0f, s.out,
                                               cuda::DeviceScratch{s.scratch.data(), s.scratch.size()},
                                               error, b.stream(), cuda::AttentionOptions{false, splits, false});
                      }));
        }
        std::printf(" |\n");
      }
      int32_t word[4] = {1, 1, 1, 1};
      b.download(word, s.error_word, sizeof word);
      EXPECT_EQ(word[0], 0);
    }
  }
  // A floor for one small kernel in the same graph timing: rms_norm of one 4096-wide row.
  Buffer x_buffer, w_buffer, o_buffer;
  const Tensor x = b.alloc_tensor(Type::F32, Shape::of(4096, 1), x_buffer);
  const Tensor w = b.alloc_tensor(Type::F32, Shape::of(4096, 1), w_buffer);
  const Tensor o = b.alloc_tensor(Type::F32, Shape::of(4096, 1), o_buffer);
  const auto values = random_floats(4096, 15);
  b.upload(x, values.data(), values.size() * 4);
  b.upload(w, values.data(), values.size() * 4);
  std::printf("speed decode attention floor: one-row rms_norm (4096) %.1f us per call (graph)\n",
              graph_us([&] { b.rms_norm(x, w, 1e-5f, o); }));
  std::fflush(stdout);
}

// For a profiler (INGOT_GPU_SPEED=profile, e.g. under ncu -k regex:decode): the decode kernel
// twice (warm-up, then the one to read) on 8B shapes, one sequence at contexts 8, 128 and 4096
// and 32 sequences at 1024.
TEST(GpuSpeed, DecodeAttentionProfile) {
  if (!profile_enabled()) GTEST_SKIP() << "set INGOT_GPU_SPEED=profile to run under a profiler";
  cuda::CudaBackend& b = speed_backend();
  const std::pair<int64_t, int32_t> cases[] = {{1, 8}, {1, 128}, {1, 4096}, {32, 1024}};
  for (auto [n_seqs, context] : cases) {
    AttentionSetup s;
    setup_attention(s, 128, 8, 4, n_seqs, context, 1);
    auto* error = static_cast<cuda::DeviceErrorWord*>(s.error_word.data);
    for (int i = 0; i < 2; ++i) {
      cuda::launch_attention(s.q, s.pool.pool, 0, s.batch, 0.0f, s.out,
                             cuda::DeviceScratch{s.scratch.data(), s.scratch.size()}, error, b.stream());
      b.synchronize();
    }
  }
}

}  // namespace
}  // namespace ingot::gpu_test
