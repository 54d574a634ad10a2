// Row-wise ops on the GPU against the CPU backend on random data: embed for every weight type
// (bit-exact dequantization expected), rms_norm and add_rms_norm (in place too), rope in both
// layouts with scaling and partial rotation on a strided view, swiglu, gelu, add, scale.
#include "gpu_test_util.h"

namespace ingot::gpu_test {
namespace {

constexpr double kF32 = 1e-5;

TEST(GpuRowwise, EmbedEveryWeightType) {
  for (Type type : cuda_weight_types()) {
    for (int64_t d : {int64_t{512}, int64_t{67}}) {
      if (quant::traits(type).block_elements > 1 && d % quant::traits(type).block_elements != 0) continue;
      const int64_t vocab = 50;
      const Weight w = make_weight(type, d, vocab, 11);
      const Tensor wc = cpu().upload_weight(w.bytes.data(), type, Shape::of(d, vocab), nullptr);
      const Tensor wg = gpu().upload_weight(w.bytes.data(), type, Shape::of(d, vocab), nullptr);
      std::vector<int32_t> ids(17);
      std::mt19937 rng(3);
      for (auto& id : ids) id = static_cast<int32_t>(rng() % vocab);
      ids[5] = 0;
      ids[6] = static_cast<int32_t>(vocab - 1);
      Pair idt = make_i32(ids);
      Pair out = make_poisoned(Type::F32, Shape::of(d, 17));
      cpu().embed(idt.cpu, wc, out.cpu);
      gpu().embed(idt.gpu, wg, out.gpu);
      expect_close("embed", std::string(quant::name(type)), shape_text(d, 17), out, 1e-7);
    }
  }
}

TEST(GpuRowwise, RmsNormAndAddRmsNorm) {
  for (int64_t d : {int64_t{999}, int64_t{4096}, int64_t{6144}}) {
    const int64_t n = 17;
    const auto x = random_floats(static_cast<size_t>(d * n), 1, -3.0f, 3.0f);
    const auto res = random_floats(static_cast<size_t>(d * n), 2);
    const auto w = random_floats(static_cast<size_t>(d), 3, 0.5f, 1.5f);
    Pair xt = make_f32(x, d), wt = make_f32(w, d);
    Pair out = make_poisoned(Type::F32, Shape::of(d, n));
    cpu().rms_norm(xt.cpu, wt.cpu, 1e-5f, out.cpu);
    gpu().rms_norm(xt.gpu, wt.gpu, 1e-5f, out.gpu);
    expect_close("rms_norm", "F32", shape_text(d, n), out, kF32);
    // In place.
    cpu().rms_norm(xt.cpu, wt.cpu, 1e-6f, xt.cpu);
    gpu().rms_norm(xt.gpu, wt.gpu, 1e-6f, xt.gpu);
    expect_close("rms_norm/inpl", "F32", shape_text(d, n), xt, kF32);
    // residual += x; out = norm(residual), out aliasing x.
    Pair x2 = make_f32(x, d), r2 = make_f32(res, d);
    cpu().add_rms_norm(r2.cpu, x2.cpu, wt.cpu, 1e-5f, x2.cpu);
    gpu().add_rms_norm(r2.gpu, x2.gpu, wt.gpu, 1e-5f, x2.gpu);
    expect_close("add_rms_norm", "F32", shape_text(d, n), x2, kF32);
    expect_close("add_rms/resid", "F32", shape_text(d, n), r2, kF32);
  }
}

TEST(GpuRowwise, RopeBothLayoutsOnAStridedView) {
  struct Case {
    int64_t head_dim, n_rot, n_heads;
    backend::RopeLayout layout;
    backend::RopeScaling scaling;
  };
  const Case cases[] = {
      {64, 64, 8, backend::RopeLayout::normal, backend::RopeScaling::none},
      {128, 128, 4, backend::RopeLayout::neox, backend::RopeScaling::llama3},
      {128, 64, 3, backend::RopeLayout::neox, backend::RopeScaling::yarn},
      {64, 32, 5, backend::RopeLayout::normal, backend::RopeScaling::linear},
  };
  for (const Case& c : cases) {
    backend::RopeParams p;
    p.head_dim = c.head_dim;
    p.n_rot = c.n_rot;
    p.layout = c.layout;
    p.freq_base = 500000.0f;
    p.scaling = c.scaling;
    p.factor = c.scaling == backend::RopeScaling::none ? 1.0f : 8.0f;
    p.original_context = 8192;
    const backend::RopeTable table = backend::make_rope_table(p);
    const int64_t width = c.n_heads * c.head_dim, n = 97;
    // A fused [q | k | v] buffer; rope runs on the k columns (a view with a wider row stride).
    const auto fused = random_floats(static_cast<size_t>(3 * width * n), 5, -2.0f, 2.0f);
    Pair ft = make_f32(fused, 3 * width);
    std::vector<int32_t> pos(static_cast<size_t>(n));
    std::mt19937 rng(9);
    for (auto& v : pos) v = static_cast<int32_t>(rng() % 100000);
    Pair pt = make_i32(pos);
    Tensor kc = ft.cpu, kg = ft.gpu;
    for (Tensor* t : {&kc, &kg}) {
      t->data = static_cast<float*>(t->data) + width;
      t->shape = Shape::of(width, n);
    }
    cpu().rope(kc, pt.cpu, table);
    gpu().rope(kg, pt.gpu, table);
    const std::string name = std::string(c.layout == backend::RopeLayout::neox ? "neox" : "normal") +
                             " d" + std::to_string(c.head_dim) + " rot" + std::to_string(c.n_rot);
    expect_close("rope " + name, "F32", shape_text(width, n) + " in " + shape_text(3 * width, n),
                 ft, kF32);
  }
}

TEST(GpuRowwise, ElementwiseOps) {
  const int64_t d = 1000, n = 17;
  const auto a = random_floats(static_cast<size_t>(d * n), 21, -6.0f, 6.0f);
  const auto b = random_floats(static_cast<size_t>(d * n), 22, -2.0f, 2.0f);
  Pair at = make_f32(a, d), bt = make_f32(b, d);
  const std::string shape = shape_text(d, n);
  {
    Pair out = make_poisoned(Type::F32, Shape::of(d, n));
    cpu().swiglu(at.cpu, bt.cpu, out.cpu);
    gpu().swiglu(at.gpu, bt.gpu, out.gpu);
    expect_close("swiglu", "F32", shape, out, kF32);
  }
  {
    Pair out = make_poisoned(Type::F32, Shape::of(d, n));
    cpu().gelu(at.cpu, out.cpu);
    gpu().gelu(at.gpu, out.gpu);
    expect_close("gelu", "F32", shape, out, kF32);
  }
  {
    Pair out = make_poisoned(Type::F32, Shape::of(d, n));
    cpu().add(at.cpu, bt.cpu, out.cpu);
    gpu().add(at.gpu, bt.gpu, out.gpu);
    expect_close("add", "F32", shape, out, kF32);
  }
  {
    Pair out = make_poisoned(Type::F32, Shape::of(d, n));
    cpu().scale(at.cpu, 0.37f, out.cpu);
    gpu().scale(at.gpu, 0.37f, out.gpu);
    expect_close("scale", "F32", shape, out, kF32);
  }
  {  // out aliasing an input
    Pair a2 = make_f32(a, d);
    cpu().swiglu(a2.cpu, bt.cpu, a2.cpu);
    gpu().swiglu(a2.gpu, bt.gpu, a2.gpu);
    expect_close("swiglu/inpl", "F32", shape, a2, kF32);
  }
}

}  // namespace
}  // namespace ingot::gpu_test
