#include "backend/cpu/kernels.h"

namespace ingot::backend::cpu {

std::string_view isa_name(Isa isa) {
  switch (isa) {
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avx512: return "avx512";
    case Isa::neon: return "neon";
  }
  return "unknown";
}

std::optional<Kernels> kernels_for(Isa isa) {
  switch (isa) {
    case Isa::scalar: return scalar_kernels();
#if defined(__x86_64__) || defined(__i386__)
    case Isa::avx2:
      if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
          __builtin_cpu_supports("f16c")) {
        return make_avx2_kernels();
      }
      return std::nullopt;
    case Isa::avx512:
      if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
          __builtin_cpu_supports("avx512vl")) {
        return make_avx512_kernels();
      }
      return std::nullopt;
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
    case Isa::neon: return make_neon_kernels();
#endif
    default: return std::nullopt;
  }
}

const Kernels& best_kernels() {
  static const Kernels best = [] {
    for (Isa isa : {Isa::avx512, Isa::avx2, Isa::neon}) {
      if (auto k = kernels_for(isa)) return *k;
    }
    return scalar_kernels();
  }();
  return best;
}

}  // namespace ingot::backend::cpu
