// Internal: the rounding helpers every quantizer shares. `nearest_int` rounds half to even the
// way ggml does (adding 1.5 * 2^23 and reading the mantissa), which is exact for |x| < 2^22 —
// every value a quantizer feeds it is far smaller. Outside that range it returns a wrong but
// harmless integer instead of invoking undefined behaviour.
#pragma once

#include <bit>
#include <cstdint>

namespace ingot::quant {

inline int nearest_int(float value) {
  const float shifted = value + 12582912.f;  // 1.5 * 2^23: the integer lands in the mantissa
  const int32_t bits = std::bit_cast<int32_t>(shifted);
  return (bits & 0x007fffff) - 0x00400000;
}

// C's float -> integer conversion (truncation toward zero), defined for every input.
inline int truncate_to_int(float value) {
  if (!(value > -2147483648.f)) return value != value ? 0 : INT32_MIN;
  if (!(value < 2147483648.f)) return INT32_MAX;
  return static_cast<int>(value);
}

// Index of the level in the sorted table `levels` nearest to x (ties go to the upper level
// unless strictly nearer the lower), by binary search.
inline int nearest_level(int n, const int8_t* levels, float x) {
  if (x <= levels[0]) return 0;
  if (x >= levels[n - 1]) return n - 1;
  int low = 0, high = n - 1;
  while (high - low > 1) {
    const int middle = (low + high) / 2;
    if (x < levels[middle]) {
      high = middle;
    } else {
      low = middle;
    }
  }
  return x - levels[high - 1] < levels[high] - x ? high - 1 : high;
}

}  // namespace ingot::quant
