// The TypeOps tables: one scalar table, and the table `ops` returns, which swaps in the AVX2
// kernels when the CPU has AVX2 and FMA. Both are built once (function-local statics) and
// never change, so lookups are lock-free.
#include "quant/quant.h"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

#include "core/error.h"
#include "quant/kernels.h"

#include <array>

namespace ingot::quant {
namespace {

using namespace kernels;

constexpr std::array kReferenceOps = {
    TypeOps{Type::F32, dequantize_f32, quantize_f32, Type::F32, dot_f32},
    TypeOps{Type::F16, dequantize_f16, quantize_f16, Type::F32, dot_f16},
    TypeOps{Type::BF16, dequantize_bf16, quantize_bf16, Type::F32, dot_bf16},
    TypeOps{Type::Q4_0, dequantize_q4_0, quantize_q4_0, Type::Q8_0, dot_q4_0},
    TypeOps{Type::Q4_1, dequantize_q4_1, quantize_q4_1, Type::Q8_1, dot_q4_1},
    TypeOps{Type::Q5_0, dequantize_q5_0, quantize_q5_0, Type::Q8_0, dot_q5_0},
    TypeOps{Type::Q5_1, dequantize_q5_1, quantize_q5_1, Type::Q8_1, dot_q5_1},
    TypeOps{Type::Q8_0, dequantize_q8_0, quantize_q8_0, Type::Q8_0, dot_q8_0},
    TypeOps{Type::Q8_1, dequantize_q8_1, quantize_q8_1, Type::Q8_1, nullptr},
    TypeOps{Type::Q2_K, dequantize_q2_k, quantize_q2_k, Type::Q8_K, dot_q2_k},
    TypeOps{Type::Q3_K, dequantize_q3_k, quantize_q3_k, Type::Q8_K, dot_q3_k},
    TypeOps{Type::Q4_K, dequantize_q4_k, quantize_q4_k, Type::Q8_K, dot_q4_k},
    TypeOps{Type::Q5_K, dequantize_q5_k, quantize_q5_k, Type::Q8_K, dot_q5_k},
    TypeOps{Type::Q6_K, dequantize_q6_k, quantize_q6_k, Type::Q8_K, dot_q6_k},
    TypeOps{Type::Q8_K, dequantize_q8_k, quantize_q8_k, Type::Q8_K, nullptr},
    TypeOps{Type::IQ4_NL, dequantize_iq4_nl, quantize_iq4_nl, Type::Q8_0, dot_iq4_nl},
    TypeOps{Type::IQ4_XS, dequantize_iq4_xs, quantize_iq4_xs, Type::Q8_K, dot_iq4_xs},
    TypeOps{Type::MXFP4, dequantize_mxfp4, quantize_mxfp4, Type::Q8_0, dot_mxfp4},
};

using OpsTable = std::array<TypeOps, kReferenceOps.size()>;

bool cpu_has_avx2() noexcept {
#if defined(__x86_64__)
  static const bool has = [] {
    __builtin_cpu_init();
    // F16C through cpuid (leaf 1, ecx bit 29): clang 14 has no __builtin_cpu_supports("f16c").
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool f16c = __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & (1u << 29)) != 0;
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && f16c;
  }();
  return has;
#else
  return false;
#endif
}

const OpsTable& fast_table() {
  static const OpsTable table = [] {
    OpsTable t = kReferenceOps;
#if defined(__x86_64__)
    if (cpu_has_avx2()) {
      for (TypeOps& o : t) {
        switch (o.type) {
          case Type::F32: o.vec_dot = dot_f32_avx2; break;
          case Type::F16: o.vec_dot = dot_f16_avx2; break;
          case Type::Q4_0: o.vec_dot = dot_q4_0_avx2; break;
          case Type::Q8_0:
            o.vec_dot = dot_q8_0_avx2;
            o.quantize_row = quantize_q8_0_avx2;
            break;
          case Type::Q8_K: o.quantize_row = quantize_q8_k_avx2; break;
          case Type::Q4_K: o.vec_dot = dot_q4_k_avx2; break;
          case Type::Q5_K: o.vec_dot = dot_q5_k_avx2; break;
          case Type::Q6_K: o.vec_dot = dot_q6_k_avx2; break;
          default: break;
        }
      }
    }
#endif
    return t;
  }();
  return table;
}

const TypeOps* find(const OpsTable& table, Type type) {
  for (const TypeOps& o : table) {
    if (o.type == type) return &o;
  }
  return nullptr;
}

[[noreturn]] void fail_unsupported(Type type) {
  fail(ErrorCode::unsupported, "tensor type {} is not supported for CPU compute (supported: {})", name(type),
       "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, MXFP4");
}

}  // namespace

const TypeOps& ops(Type type) {
  const TypeOps* o = find(fast_table(), type);
  if (o == nullptr) fail_unsupported(type);
  return *o;
}

const TypeOps& reference_ops(Type type) {
  const TypeOps* o = find(kReferenceOps, type);
  if (o == nullptr) fail_unsupported(type);
  return *o;
}

bool is_supported(Type type) noexcept { return find(kReferenceOps, type) != nullptr; }

std::string_view simd_path() noexcept { return cpu_has_avx2() ? "avx2" : "scalar"; }

void dequantize_row(Type type, const void* src, float* dst, int64_t n) { ops(type).dequantize_row(src, dst, n); }

void quantize_row(Type type, const float* src, void* dst, int64_t n) {
  const TypeOps& o = ops(type);
  if (o.quantize_row == nullptr) fail(ErrorCode::unsupported, "quantizing to {} is not supported", name(type));
  o.quantize_row(src, dst, n);
}

}  // namespace ingot::quant
