#include "gpu_test_util.h"

#include <algorithm>
#include <cstdlib>

#include "core/half.h"

namespace ingot::gpu_test {

std::vector<ResultRow>& results() {
  static std::vector<ResultRow> rows;
  return rows;
}

void record(ResultRow row) { results().push_back(std::move(row)); }

cuda::CudaBackend& gpu() {
  static cuda::CudaBackend backend = [] {
    const char* env = std::getenv("INGOT_GPU_DEVICE");
    return cuda::CudaBackend(env != nullptr ? std::atoi(env) : 0);
  }();
  static const bool planned = [] {
    backend.reserve(backend::WorkspacePlan{.max_tokens = 512,
                                           .max_row_elements = 4096,
                                           .max_context = 1024,
                                           .max_logit_rows = 64});
    return true;
  }();
  (void)planned;
  return backend;
}

backend::cpu::CpuBackend& cpu() {
  static backend::cpu::CpuBackend backend(backend::cpu::CpuOptions{.n_threads = 8});
  return backend;
}

Pair make_pair_bytes(Type type, Shape shape, const void* bytes) {
  Pair p;
  p.cpu = cpu().alloc_tensor(type, shape, p.cpu_buffer);
  p.gpu = gpu().alloc_tensor(type, shape, p.gpu_buffer);
  const size_t n = backend::dense_bytes(type, shape);
  std::memcpy(p.cpu.data, bytes, n);
  gpu().upload(p.gpu, bytes, n);
  gpu().synchronize();
  return p;
}

Pair make_f32(const std::vector<float>& values, int64_t ne0) {
  return make_pair_bytes(Type::F32, Shape::of(ne0, static_cast<int64_t>(values.size()) / ne0),
                         values.data());
}

Pair make_i32(const std::vector<int32_t>& values, int64_t ne0) {
  if (ne0 == 0) ne0 = static_cast<int64_t>(values.size());
  return make_pair_bytes(Type::I32, Shape::of(ne0, static_cast<int64_t>(values.size()) / ne0),
                         values.data());
}

Pair make_poisoned(Type type, Shape shape) {
  std::vector<uint8_t> nan_bytes(backend::dense_bytes(type, shape), 0xff);
  return make_pair_bytes(type, shape, nan_bytes.data());
}

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) {
    do x = dist(rng);
    while (x == 0.0f);
  }
  return v;
}

namespace {

std::vector<float> widen(const Tensor& t, const uint8_t* dense) {
  const size_t n = static_cast<size_t>(t.shape.n_elements());
  std::vector<float> out(n);
  if (t.type == Type::F32) {
    std::memcpy(out.data(), dense, n * 4);
  } else if (t.type == Type::F16) {
    f16_to_f32_row(reinterpret_cast<const uint16_t*>(dense), out.data(), n);
  } else {
    throw std::runtime_error("read: F32 or F16 tensors only");
  }
  return out;
}

}  // namespace

std::vector<float> read_cpu(const Tensor& t) {
  return widen(t, static_cast<const uint8_t*>(t.data));
}

std::vector<float> read_gpu(const Tensor& t) {
  std::vector<uint8_t> bytes(backend::dense_bytes(t.type, t.shape));
  gpu().download(bytes.data(), t, bytes.size());
  return widen(t, bytes.data());
}

double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<double>::infinity();
  double diff = 0, norm = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) || std::isnan(b[i])) return std::numeric_limits<double>::infinity();
    const double d = static_cast<double>(a[i]) - b[i];
    diff += d * d;
    norm += static_cast<double>(b[i]) * b[i];
  }
  if (norm == 0) return std::numeric_limits<double>::infinity();
  return std::sqrt(diff / norm);
}

double expect_close(const std::string& op, const std::string& type, const std::string& shape,
                    const Pair& out, double threshold) {
  const double err = relative_error(read_gpu(out.gpu), read_cpu(out.cpu));
  const bool pass = err < threshold;
  record(ResultRow{op, type, shape, err, threshold, pass});
  EXPECT_LT(err, threshold) << op << " " << type << " " << shape;
  return err;
}

std::string shape_text(int64_t ne0, int64_t ne1) {
  return fmt::format("[{}, {}]", ne0, ne1);
}

Weight make_weight(Type type, int64_t k, int64_t n_out, uint32_t seed) {
  const auto values = random_floats(static_cast<size_t>(k * n_out), seed);
  const size_t row = quant::row_bytes(type, static_cast<uint64_t>(k));
  Weight w{std::vector<uint8_t>(row * static_cast<size_t>(n_out)),
           std::vector<float>(values.size())};
  for (int64_t r = 0; r < n_out; ++r) {
    quant::quantize_row(type, &values[r * k], &w.bytes[r * row], k);
    quant::dequantize_row(type, &w.bytes[r * row], &w.dequantized[r * k], k);
  }
  return w;
}

double cpu_tolerance(Type type, const float* w, const float* x, int64_t k) {
  double mag = 0;
  for (int64_t i = 0; i < k; ++i) mag += std::abs(static_cast<double>(w[i]) * x[i]);
  double bound = 0;
  const bool float_type = type == Type::F32 || type == Type::F16 || type == Type::BF16;
  if (!float_type && quant::ops(type).vec_dot != nullptr) {
    const Type act = quant::ops(type).vec_dot_type;
    const int64_t block = quant::traits(act).block_elements;
    for (int64_t b = 0; b < k; b += block) {
      double amax = 0, wsum = 0;
      for (int64_t i = b; i < b + block; ++i) {
        amax = std::max(amax, static_cast<double>(std::abs(x[i])));
        wsum += std::abs(w[i]);
      }
      bound += amax / 127.0 * (0.5 + 127.0 * 0x1p-11) * wsum;
    }
  }
  return 1.5 * bound + 1e-5 * mag + 1e-6;
}

std::vector<Type> cuda_weight_types() {
  return {Type::F32,  Type::F16,  Type::BF16, Type::Q4_0, Type::Q4_1, Type::Q5_0,
          Type::Q5_1, Type::Q8_0, Type::Q4_K, Type::Q5_K, Type::Q6_K};
}

}  // namespace ingot::gpu_test
