// The fused decode ops of the CUDA backend against the unfused ops of the same backend, which
// the other GPU tests hold to the CPU: matmul_many (Q/K/V: one activation quantization, up to
// three weights of a type per launch) and matmul_swiglu (gate and up rows in one block,
// silu(g)*u in the epilogue) compute each row exactly as matmul does, so their outputs must be
// bit-identical to matmul's (and matmul + matmul + swiglu's); rope_write_kv must leave q, k and
// both pools bit-identical to rope, rope, write_kv. Also against the CPU backend's default
// implementations within the matmul tolerance. Outputs start poisoned with NaN.
#include <cstring>

#include "gpu_test_util.h"

namespace ingot::gpu_test {
namespace {

using Target = backend::Backend::MatmulTarget;

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

Tensor upload(const Weight& w, Type type, int64_t k, int64_t n_out) {
  return gpu().upload_weight(w.bytes.data(), type, Shape::of(k, n_out), nullptr);
}

// Q/K/V of one input: types per target (a mixed set takes one launch per type).
void check_many(const std::vector<Type>& types, int64_t k, const std::vector<int64_t>& n_outs,
                int64_t n_tokens, bool with_bias) {
  std::string name;
  for (Type t : types) name += std::string(quant::name(t)) + " ";
  SCOPED_TRACE(name + "k=" + std::to_string(k) + " tokens=" + std::to_string(n_tokens));
  const auto x = random_floats(static_cast<size_t>(k * n_tokens), 81);
  Pair xt = make_f32(x, k);
  std::vector<Weight> ws;
  std::vector<Tensor> wg;
  std::vector<Pair> biases, fused, single;
  for (size_t i = 0; i < types.size(); ++i) {
    ws.push_back(make_weight(types[i], k, n_outs[i], static_cast<uint32_t>(90 + i)));
    wg.push_back(upload(ws.back(), types[i], k, n_outs[i]));
    biases.push_back(make_f32(random_floats(static_cast<size_t>(n_outs[i]), 95 + i), n_outs[i]));
    fused.push_back(make_poisoned(Type::F32, Shape::of(n_outs[i], n_tokens)));
    single.push_back(make_poisoned(Type::F32, Shape::of(n_outs[i], n_tokens)));
  }
  std::vector<Target> targets;
  for (size_t i = 0; i < types.size(); ++i) {
    targets.push_back({&wg[i], with_bias ? &biases[i].gpu : nullptr, &fused[i].gpu});
    gpu().matmul(xt.gpu, wg[i], with_bias ? &biases[i].gpu : nullptr, single[i].gpu);
  }
  gpu().matmul_many(xt.gpu, targets);
  for (size_t i = 0; i < types.size(); ++i) {
    const auto got = read_gpu(fused[i].gpu), want = read_gpu(single[i].gpu);
    const bool same = same_bits(got, want);
    record(ResultRow{"matmul_many vs matmul", std::string(quant::name(types[i])),
                     shape_text(k, n_outs[i]) + " t" + std::to_string(n_tokens), same ? 0.0 : 1.0, 0.0,
                     same});
    EXPECT_TRUE(same) << "target " << i << ": relative difference " << relative_error(got, want);
  }
}

TEST(GpuFused, MatmulManyEqualsMatmulPerTarget) {
  for (Type type : cuda_weight_types()) {
    const int64_t k = type == Type::Q6_K ? 1024 : 512;
    check_many({type, type, type}, k, {96, 32, 32}, 1, true);   // one launch, 2-row blocks
    check_many({type, type, type}, k, {4096, 1024, 1024}, 1, false);  // 4-row blocks
    check_many({type, type, type}, k, {96, 37, 32}, 5, true);   // several tokens
  }
  // Llama-3-8B Q4_K_M: v is Q6_K in some layers; two launches, one quantization.
  check_many({Type::Q4_K, Type::Q4_K, Type::Q6_K}, 4096, {4096, 1024, 1024}, 1, false);
  // Rows that are not a multiple of 16 bytes take the byte-granular kernel per target.
  check_many({Type::Q8_0, Type::Q8_0, Type::Q8_0}, 96, {33, 17, 17}, 1, true);
}

void check_swiglu(Type type, int64_t k, int64_t n_ff, int64_t n_tokens) {
  SCOPED_TRACE(std::string(quant::name(type)) + " k=" + std::to_string(k) + " n_ff=" +
               std::to_string(n_ff) + " tokens=" + std::to_string(n_tokens));
  const Weight wgate = make_weight(type, k, n_ff, 61), wup = make_weight(type, k, n_ff, 62);
  const Tensor g = upload(wgate, type, k, n_ff), u = upload(wup, type, k, n_ff);
  Pair gc = make_pair_bytes(type, Shape::of(k, n_ff), wgate.bytes.data());
  Pair uc = make_pair_bytes(type, Shape::of(k, n_ff), wup.bytes.data());
  const auto x = random_floats(static_cast<size_t>(k * n_tokens), 63, -2.0f, 2.0f);
  Pair xt = make_f32(x, k);
  Pair gate = make_poisoned(Type::F32, Shape::of(n_ff, n_tokens));
  Pair up = make_poisoned(Type::F32, Shape::of(n_ff, n_tokens));
  Pair ref_gate = make_poisoned(Type::F32, Shape::of(n_ff, n_tokens));
  Pair ref_up = make_poisoned(Type::F32, Shape::of(n_ff, n_tokens));
  gpu().matmul_swiglu(xt.gpu, g, u, gate.gpu, up.gpu);
  gpu().matmul(xt.gpu, g, nullptr, ref_gate.gpu);
  gpu().matmul(xt.gpu, u, nullptr, ref_up.gpu);
  gpu().swiglu(ref_gate.gpu, ref_up.gpu, ref_gate.gpu);
  const auto got = read_gpu(gate.gpu), want = read_gpu(ref_gate.gpu);
  const bool same = same_bits(got, want);
  record(ResultRow{"matmul_swiglu vs matmul+swiglu", std::string(quant::name(type)),
                   shape_text(k, n_ff) + " t" + std::to_string(n_tokens), same ? 0.0 : 1.0, 0.0, same});
  EXPECT_TRUE(same) << "relative difference " << relative_error(got, want);
  // And the CPU backend's default (matmul, matmul, swiglu) within the quantized matmul's reach.
  cpu().matmul_swiglu(xt.cpu, gc.cpu, uc.cpu, gate.cpu, up.cpu);
  const double err = relative_error(got, read_cpu(gate.cpu));
  EXPECT_LT(err, 2e-2) << "vs the CPU";
}

TEST(GpuFused, MatmulSwigluEqualsMatmulsAndSwiglu) {
  for (Type type : cuda_weight_types()) {
    const int64_t k = type == Type::Q6_K ? 1024 : 512;
    check_swiglu(type, k, 77, 1);  // odd row count: the last block half full
    check_swiglu(type, k, 96, 3);
  }
  check_swiglu(Type::Q4_K, 4096, 14336, 1);  // Llama 3 8B
  check_swiglu(Type::Q8_0, 2048, 8192, 1);   // Llama 3.2 1B
  check_swiglu(Type::F16, 4096, 1024, 8);
}

TEST(GpuFused, RopeWriteKvEqualsRopeThenWriteKv) {
  struct Case {
    int64_t head_dim, n_rot, n_heads, n_kv_heads;
    backend::RopeLayout layout;
    Type pool_type;
  };
  const Case cases[] = {
      {128, 128, 32, 8, backend::RopeLayout::normal, Type::F16},
      {64, 64, 32, 8, backend::RopeLayout::neox, Type::F16},
      {128, 64, 6, 2, backend::RopeLayout::neox, Type::F32},  // partial rotation
  };
  for (const Case& c : cases) {
    backend::RopeParams p;
    p.head_dim = c.head_dim;
    p.n_rot = c.n_rot;
    p.layout = c.layout;
    p.freq_base = 500000.0f;
    const backend::RopeTable table = backend::make_rope_table(p);
    const int64_t n = 7, q_width = c.n_heads * c.head_dim, kv_width = c.n_kv_heads * c.head_dim;
    const backend::KvPoolShape shape{.n_layers = 2, .n_blocks = 4, .block_size = 16,
                                     .n_kv_heads = c.n_kv_heads, .head_dim = c.head_dim,
                                     .type = c.pool_type};
    auto fused_pool = gpu().alloc_kv_pool(shape), ref_pool = gpu().alloc_kv_pool(shape);
    auto cpu_pool = cpu().alloc_kv_pool(shape);
    const auto q = random_floats(static_cast<size_t>(q_width * n), 31, -2.0f, 2.0f);
    const auto k = random_floats(static_cast<size_t>(kv_width * n), 32, -2.0f, 2.0f);
    const auto v = random_floats(static_cast<size_t>(kv_width * n), 33, -2.0f, 2.0f);
    Pair qa = make_f32(q, q_width), ka = make_f32(k, kv_width), qb = make_f32(q, q_width),
         kb = make_f32(k, kv_width), vt = make_f32(v, kv_width);
    const std::vector<int32_t> slots = {5, 17, -1, 63, 0, 40, 22};
    const std::vector<int32_t> positions = {0, 1, 2, 3000, 77, 4095, 100000};
    Pair st = make_i32(slots), pt = make_i32(positions);
    gpu().rope_write_kv(qa.gpu, ka.gpu, vt.gpu, pt.gpu, table, fused_pool.pool, 1, st.gpu);
    gpu().rope(qb.gpu, pt.gpu, table);
    gpu().rope(kb.gpu, pt.gpu, table);
    gpu().write_kv(ref_pool.pool, 1, kb.gpu, vt.gpu, st.gpu);
    cpu().rope_write_kv(qa.cpu, ka.cpu, vt.cpu, pt.cpu, table, cpu_pool.pool, 1, st.cpu);
    const std::string name = std::string(quant::name(c.pool_type)) + " d" + std::to_string(c.head_dim) +
                             " rot" + std::to_string(c.n_rot);
    const bool same = same_bits(read_gpu(qa.gpu), read_gpu(qb.gpu)) &&
                      same_bits(read_gpu(ka.gpu), read_gpu(kb.gpu)) &&
                      same_bits(read_gpu(fused_pool.pool.k), read_gpu(ref_pool.pool.k)) &&
                      same_bits(read_gpu(fused_pool.pool.v), read_gpu(ref_pool.pool.v));
    record(ResultRow{"rope_write_kv vs rope+write_kv", name, shape_text(q_width, n), same ? 0.0 : 1.0,
                     0.0, same});
    EXPECT_TRUE(same) << name;
    EXPECT_LT(relative_error(read_gpu(fused_pool.pool.k), read_cpu(cpu_pool.pool.k)), 1e-5) << name;
    EXPECT_LT(relative_error(read_gpu(qa.gpu), read_cpu(qa.cpu)), 1e-5) << name;
  }
  gpu().synchronize();  // no device error: the negative slot is skipped
}

// A one-row norm also writes its output in 8 bits for the matmul right after it (the CUDA
// backend skips that matmul's own quantization): the results must be bit-identical to the
// same ops with another op in between (which makes the matmul quantize again).
TEST(GpuFused, NormsQuantizedOutputFeedsTheNextMatmul) {
  const int64_t d = 4096, n_out = 1024, n_ff = 2048;
  const auto x = random_floats(static_cast<size_t>(d), 41, -3.0f, 3.0f);
  const auto res = random_floats(static_cast<size_t>(d), 42);
  const auto nw = random_floats(static_cast<size_t>(d), 43, 0.5f, 1.5f);
  Pair norm_w = make_f32(nw, d);
  for (Type type : {Type::Q4_K, Type::Q6_K, Type::Q8_0, Type::Q5_K, Type::F16}) {
    SCOPED_TRACE(quant::name(type));
    const Weight w = make_weight(type, d, n_out, 44), g = make_weight(type, d, n_ff, 45),
                 u = make_weight(type, d, n_ff, 46);
    const Tensor wg = upload(w, type, d, n_out), gg = upload(g, type, d, n_ff), ug = upload(u, type, d, n_ff);
    std::vector<float> got[3], want[3];
    for (int pass = 0; pass < 2; ++pass) {  // 0: fused, 1: an op in between
      Pair xt = make_f32(x, d), rt = make_f32(res, d);
      Pair h = make_poisoned(Type::F32, Shape::of(d, 1));
      Pair out = make_poisoned(Type::F32, Shape::of(n_out, 1));
      Pair gate = make_poisoned(Type::F32, Shape::of(n_ff, 1)), up = make_poisoned(Type::F32, Shape::of(n_ff, 1));
      Pair out2 = make_poisoned(Type::F32, Shape::of(n_out, 1));
      gpu().rms_norm(xt.gpu, norm_w.gpu, 1e-5f, h.gpu);
      if (pass == 1) gpu().synchronize();
      gpu().matmul(h.gpu, wg, nullptr, out.gpu);
      gpu().add_rms_norm(rt.gpu, xt.gpu, norm_w.gpu, 1e-5f, h.gpu);
      if (pass == 1) gpu().synchronize();
      gpu().matmul_swiglu(h.gpu, gg, ug, gate.gpu, up.gpu);
      gpu().add_rms_norm(rt.gpu, xt.gpu, norm_w.gpu, 1e-5f, h.gpu);
      if (pass == 1) gpu().synchronize();
      const Target t[] = {{&wg, nullptr, &out2.gpu}};
      gpu().matmul_many(h.gpu, t);
      auto& dst = pass == 0 ? got : want;
      dst[0] = read_gpu(out.gpu), dst[1] = read_gpu(gate.gpu), dst[2] = read_gpu(out2.gpu);
    }
    const char* names[] = {"rms_norm -> matmul", "add_rms_norm -> matmul_swiglu", "add_rms_norm -> matmul_many"};
    for (int i = 0; i < 3; ++i) {
      const bool same = same_bits(got[i], want[i]);
      record(ResultRow{names[i], std::string(quant::name(type)), shape_text(d, 1), same ? 0.0 : 1.0, 0.0, same});
      EXPECT_TRUE(same) << names[i] << ": relative difference " << relative_error(got[i], want[i]);
    }
  }
}

}  // namespace
}  // namespace ingot::gpu_test
