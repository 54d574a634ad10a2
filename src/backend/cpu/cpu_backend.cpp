// CpuBackend: construction, memory, transfers, and the row-wise ops (embed, norms, rope,
// activations, logits). Matmul is in cpu_matmul.cpp, the KV ops in cpu_attention.cpp.
#include "backend/cpu/cpu_backend.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "core/checked_math.h"
#include "core/error.h"
#include "core/half.h"
#include "quant/quant.h"

namespace ingot::backend::cpu {
namespace {

using quant::Type;

constexpr size_t kRowGrain = 4;  // rows per task for the cheap row-wise ops

void expect_f32_like(const Tensor& t, const Tensor& like, const char* op, const char* what) {
  expect_type(t, Type::F32, op, what);
  expect_rows(t, like.ne0(), like.n_rows(), op, what);
}

float silu(float g) { return g / (1.0f + std::exp(-g)); }

float gelu_tanh(float x) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + 0.044715f * x * x * x)));
}

}  // namespace

CpuBackend::CpuBackend(const CpuOptions& options)
    : pool_(options.n_threads),
      kernels_(options.isa ? [&] {
        auto k = kernels_for(*options.isa);
        if (!k) fail(ErrorCode::unsupported, "cpu backend: {} is not supported by this CPU",
                     isa_name(*options.isa));
        return *k;
      }()
                           : best_kernels()),
      thread_scratch_(pool_.n_threads()) {}

Buffer CpuBackend::alloc(size_t bytes) {
  const size_t rounded =
      checked_align_up(bytes == 0 ? 64 : bytes, 64, "cpu buffer size", ErrorCode::out_of_range);
  void* data = std::aligned_alloc(64, rounded);
  if (data == nullptr)
    fail(ErrorCode::out_of_range, "cpu backend: cannot allocate {} bytes", bytes);
  return Buffer(data, bytes, [](void* p) { std::free(p); });
}

Tensor CpuBackend::upload_weight(const void* host, Type type, Shape shape,
                                 std::shared_ptr<const void> keep_alive) {
  if (host == nullptr) fail(ErrorCode::invalid_argument, "upload_weight: no data");
  if (type != Type::F32 && type != Type::F16 && type != Type::BF16 && !quant::is_supported(type)) {
    fail(ErrorCode::unsupported, "upload_weight: the CPU backend cannot compute with {} weights",
         quant::name(type));
  }
  Tensor t = make_tensor(const_cast<void*>(host), type, shape);
  if (keep_alive) kept_alive_.push_back(std::move(keep_alive));
  return t;
}

KvPoolStorage CpuBackend::alloc_kv_pool(const KvPoolShape& shape) {
  if (shape.type != Type::F16 && shape.type != Type::F32) {
    fail(ErrorCode::unsupported, "kv pool: storage type {} (F16 or F32 only)",
         quant::name(shape.type));
  }
  if (shape.n_layers <= 0 || shape.n_blocks <= 0 || shape.block_size <= 0 ||
      shape.n_kv_heads <= 0 || shape.head_dim <= 0) {
    fail(ErrorCode::invalid_argument, "kv pool: every dimension must be positive");
  }
  uint64_t rows =
      checked_mul(static_cast<uint64_t>(shape.n_layers), static_cast<uint64_t>(shape.n_blocks),
                  "kv rows", ErrorCode::out_of_range);
  rows = checked_mul(rows, static_cast<uint64_t>(shape.block_size), "kv rows",
                     ErrorCode::out_of_range);
  rows = checked_mul(rows, static_cast<uint64_t>(shape.n_kv_heads), "kv rows",
                     ErrorCode::out_of_range);
  const Shape s = Shape::of(shape.head_dim, static_cast<int64_t>(rows));
  KvPoolStorage storage;
  storage.pool.shape = shape;
  storage.pool.k = alloc_tensor(shape.type, s, storage.k_buffer);
  storage.pool.v = alloc_tensor(shape.type, s, storage.v_buffer);
  std::memset(storage.k_buffer.data(), 0, storage.k_buffer.size());
  std::memset(storage.v_buffer.data(), 0, storage.v_buffer.size());
  return storage;
}

void CpuBackend::grow_thread_scratch(size_t n_floats) {
  for (auto& s : thread_scratch_) {
    if (s.size() < n_floats) s.resize(n_floats);
  }
}

void CpuBackend::reserve(const WorkspacePlan& plan) {
  // Quantized activation rows take at most 1.25 bytes per element (act_q8_16.h); F32 is 4.
  const uint64_t act = checked_mul(static_cast<uint64_t>(plan.max_tokens),
                                   checked_mul(static_cast<uint64_t>(plan.max_row_elements), 4,
                                               "workspace", ErrorCode::out_of_range),
                                   "workspace", ErrorCode::out_of_range);
  if (activation_scratch_.size() < act) activation_scratch_.resize(act);
  grow_thread_scratch(static_cast<size_t>(
      std::max<int64_t>({plan.max_context, 2 * plan.max_row_elements, 4 * plan.max_row_elements})));
  const uint64_t logit = checked_mul(static_cast<uint64_t>(plan.max_logit_rows),
                                     static_cast<uint64_t>(plan.max_row_elements), "workspace",
                                     ErrorCode::out_of_range);
  if (logit_rows_.size() < logit) logit_rows_.resize(logit);
}

void CpuBackend::upload(const Tensor& dst, const void* host, size_t bytes) {
  if (bytes > dense_bytes(dst.type, dst.shape)) {
    fail(ErrorCode::invalid_argument, "upload: {} bytes into a tensor of {}", bytes,
         dense_bytes(dst.type, dst.shape));
  }
  if (bytes > 0) std::memcpy(dst.data, host, bytes);
}

void CpuBackend::download(void* host, const Tensor& src, size_t bytes) {
  if (bytes > dense_bytes(src.type, src.shape)) {
    fail(ErrorCode::invalid_argument, "download: {} bytes from a tensor of {}", bytes,
         dense_bytes(src.type, src.shape));
  }
  if (bytes > 0) std::memcpy(host, src.data, bytes);
}

void CpuBackend::embed(const Tensor& ids, const Tensor& weight, const Tensor& out) {
  expect_type(ids, Type::I32, "embed", "ids");
  const int64_t n = ids.ne0() * ids.n_rows();
  const int64_t d = weight.ne0();
  const int64_t vocab = weight.n_rows();
  expect_type(out, Type::F32, "embed", "out");
  expect_rows(out, d, n, "embed", "out");
  const auto* id = static_cast<const int32_t*>(ids.data);
  for (int64_t i = 0; i < n; ++i) {
    if (id[i] < 0 || id[i] >= vocab) {
      fail(ErrorCode::invalid_argument, "embed: token id {} outside the vocabulary of {}", id[i],
           vocab);
    }
  }
  const quant::DequantizeRowFn dequantize =
      (weight.type == Type::F32 || weight.type == Type::F16 || weight.type == Type::BF16)
          ? nullptr
          : quant::ops(weight.type).dequantize_row;
  for_ranges(static_cast<size_t>(n), kRowGrain, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; ++i) {
      const void* src = weight.row<uint8_t>(id[i]);
      float* dst = out.row<float>(static_cast<int64_t>(i));
      switch (weight.type) {
        case Type::F32: std::memcpy(dst, src, static_cast<size_t>(d) * sizeof(float)); break;
        case Type::F16: kernels_.f16_to_f32(d, static_cast<const uint16_t*>(src), dst); break;
        case Type::BF16:
          bf16_to_f32_row(static_cast<const uint16_t*>(src), dst, static_cast<size_t>(d));
          break;
        default: dequantize(src, dst, d); break;
      }
    }
  });
}

void CpuBackend::rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& out) {
  expect_type(x, Type::F32, "rms_norm", "x");
  expect_f32_like(out, x, "rms_norm", "out");
  expect_type(weight, Type::F32, "rms_norm", "weight");
  expect_rows(weight, x.ne0(), 1, "rms_norm", "weight");
  const int64_t d = x.ne0();
  const auto* w = static_cast<const float*>(weight.data);
  for_ranges(static_cast<size_t>(x.n_rows()), kRowGrain, [&](size_t b, size_t e, size_t) {
    for (size_t r = b; r < e; ++r) {
      const float* xr = x.row<float>(static_cast<int64_t>(r));
      float* o = out.row<float>(static_cast<int64_t>(r));
      const float inv = 1.0f / std::sqrt(kernels_.dot_f32(d, xr, xr) / static_cast<float>(d) + eps);
      for (int64_t i = 0; i < d; ++i) o[i] = xr[i] * inv * w[i];
    }
  });
}

void CpuBackend::add_rms_norm(const Tensor& residual, const Tensor& x, const Tensor& weight,
                              float eps, const Tensor& out) {
  expect_type(residual, Type::F32, "add_rms_norm", "residual");
  expect_f32_like(x, residual, "add_rms_norm", "x");
  expect_f32_like(out, residual, "add_rms_norm", "out");
  expect_type(weight, Type::F32, "add_rms_norm", "weight");
  expect_rows(weight, x.ne0(), 1, "add_rms_norm", "weight");
  const int64_t d = x.ne0();
  const auto* w = static_cast<const float*>(weight.data);
  for_ranges(static_cast<size_t>(x.n_rows()), kRowGrain, [&](size_t b, size_t e, size_t) {
    for (size_t r = b; r < e; ++r) {
      float* res = residual.row<float>(static_cast<int64_t>(r));
      const float* xr = x.row<float>(static_cast<int64_t>(r));
      for (int64_t i = 0; i < d; ++i) res[i] += xr[i];
      float* o = out.row<float>(static_cast<int64_t>(r));
      const float inv =
          1.0f / std::sqrt(kernels_.dot_f32(d, res, res) / static_cast<float>(d) + eps);
      for (int64_t i = 0; i < d; ++i) o[i] = res[i] * inv * w[i];
    }
  });
}

void CpuBackend::rope(const Tensor& x, const Tensor& positions, const RopeTable& table) {
  expect_type(x, Type::F32, "rope", "x");
  expect_type(positions, Type::I32, "rope", "positions");
  const int64_t n_tokens = x.n_rows();
  expect_rows(positions, n_tokens, 1, "rope", "positions");
  if (table.head_dim <= 0 || x.ne0() % table.head_dim != 0 ||
      static_cast<int64_t>(table.inv_freq.size()) * 2 != table.n_rot) {
    fail(ErrorCode::invalid_argument, "rope: row of {} is not whole heads of {}", x.ne0(),
         table.head_dim);
  }
  const int64_t n_heads = x.ne0() / table.head_dim;
  const int64_t n_pairs = table.n_rot / 2;
  const auto* pos = static_cast<const int32_t*>(positions.data);
  grow_thread_scratch(static_cast<size_t>(2 * n_pairs));
  for_ranges(static_cast<size_t>(n_tokens), 1, [&](size_t b, size_t e, size_t thread) {
    float* cs = thread_scratch(thread);  // cos, sin interleaved per pair
    for (size_t t = b; t < e; ++t) {
      for (int64_t i = 0; i < n_pairs; ++i) {
        const double theta = static_cast<double>(pos[t]) * table.inv_freq[static_cast<size_t>(i)];
        cs[2 * i] = static_cast<float>(std::cos(theta) * table.magnitude);
        cs[2 * i + 1] = static_cast<float>(std::sin(theta) * table.magnitude);
      }
      float* row = x.row<float>(static_cast<int64_t>(t));
      for (int64_t h = 0; h < n_heads; ++h) {
        float* v = row + h * table.head_dim;
        const int64_t stride = table.layout == RopeLayout::normal ? 1 : n_pairs;
        const int64_t step = table.layout == RopeLayout::normal ? 2 : 1;
        for (int64_t i = 0; i < n_pairs; ++i) {
          float& a = v[i * step];
          float& c = v[i * step + stride];
          const float x0 = a, x1 = c;
          a = x0 * cs[2 * i] - x1 * cs[2 * i + 1];
          c = x0 * cs[2 * i + 1] + x1 * cs[2 * i];
        }
      }
    }
  });
}

void CpuBackend::swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) {
  expect_type(gate, Type::F32, "swiglu", "gate");
  expect_f32_like(up, gate, "swiglu", "up");
  expect_f32_like(out, gate, "swiglu", "out");
  const int64_t d = gate.ne0();
  for_ranges(static_cast<size_t>(gate.n_rows()), kRowGrain, [&](size_t b, size_t e, size_t) {
    for (size_t r = b; r < e; ++r) {
      const float* g = gate.row<float>(static_cast<int64_t>(r));
      const float* u = up.row<float>(static_cast<int64_t>(r));
      float* o = out.row<float>(static_cast<int64_t>(r));
      for (int64_t i = 0; i < d; ++i) o[i] = silu(g[i]) * u[i];
    }
  });
}

void CpuBackend::gelu(const Tensor& x, const Tensor& out) {
  expect_type(x, Type::F32, "gelu", "x");
  expect_f32_like(out, x, "gelu", "out");
  const int64_t d = x.ne0();
  for_ranges(static_cast<size_t>(x.n_rows()), kRowGrain, [&](size_t b, size_t e, size_t) {
    for (size_t r = b; r < e; ++r) {
      const float* xr = x.row<float>(static_cast<int64_t>(r));
      float* o = out.row<float>(static_cast<int64_t>(r));
      for (int64_t i = 0; i < d; ++i) o[i] = gelu_tanh(xr[i]);
    }
  });
}

void CpuBackend::add(const Tensor& a, const Tensor& b, const Tensor& out) {
  expect_type(a, Type::F32, "add", "a");
  expect_f32_like(b, a, "add", "b");
  expect_f32_like(out, a, "add", "out");
  const int64_t d = a.ne0();
  for_ranges(static_cast<size_t>(a.n_rows()), kRowGrain, [&](size_t s, size_t e, size_t) {
    for (size_t r = s; r < e; ++r) {
      const float* ar = a.row<float>(static_cast<int64_t>(r));
      const float* br = b.row<float>(static_cast<int64_t>(r));
      float* o = out.row<float>(static_cast<int64_t>(r));
      for (int64_t i = 0; i < d; ++i) o[i] = ar[i] + br[i];
    }
  });
}

void CpuBackend::scale(const Tensor& x, float factor, const Tensor& out) {
  expect_type(x, Type::F32, "scale", "x");
  expect_f32_like(out, x, "scale", "out");
  const int64_t d = x.ne0();
  for (int64_t r = 0; r < x.n_rows(); ++r) {
    const float* xr = x.row<float>(r);
    float* o = out.row<float>(r);
    for (int64_t i = 0; i < d; ++i) o[i] = xr[i] * factor;
  }
}

void CpuBackend::logits(const Tensor& hidden, const Tensor& rows, const Tensor& norm_weight,
                        float eps, const Tensor& output_weight, const Tensor& out) {
  expect_type(hidden, Type::F32, "logits", "hidden");
  expect_type(rows, Type::I32, "logits", "rows");
  const int64_t n = rows.ne0() * rows.n_rows();
  const int64_t d = hidden.ne0();
  const auto* row = static_cast<const int32_t*>(rows.data);
  const size_t need = static_cast<size_t>(checked_mul(
      static_cast<uint64_t>(n), static_cast<uint64_t>(d), "logits rows", ErrorCode::out_of_range));
  if (logit_rows_.size() < need) logit_rows_.resize(need);
  const Tensor gathered = make_tensor(logit_rows_.data(), Type::F32, Shape::of(d, n));
  for (int64_t i = 0; i < n; ++i) {
    if (row[i] < 0 || row[i] >= hidden.n_rows()) {
      fail(ErrorCode::invalid_argument, "logits: row {} outside the {} hidden rows", row[i],
           hidden.n_rows());
    }
    std::memcpy(gathered.row<float>(i), hidden.row<float>(row[i]),
                static_cast<size_t>(d) * sizeof(float));
  }
  rms_norm(gathered, norm_weight, eps, gathered);
  matmul(gathered, output_weight, nullptr, out);
}

}  // namespace ingot::backend::cpu
