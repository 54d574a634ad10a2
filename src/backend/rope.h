// Rotary position embedding parameters (every scaling scheme GGUF models use) and the
// per-dimension frequency table computed from them once at load. The table is backend-neutral:
// the CPU backend reads it directly, a GPU backend uploads it once. Cost at op time: one
// sin/cos per (token, pair); nothing here is recomputed per call.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::backend {

enum class RopeLayout {
  normal,  // GGUF llama layout: rotate adjacent pairs (x[2i], x[2i+1])
  neox,    // rotate halves: (x[i], x[i + n_rot/2])
};

enum class RopeScaling {
  none,
  linear,  // positions multiplied by 1/factor (freq_scale)
  yarn,    // YaRN: per-dimension blend of interpolated and extrapolated angles, magnitude scale
  llama3,  // Llama 3.1+: low frequencies divided by factor, smooth ramp between
};

struct RopeParams {
  int64_t head_dim = 0;  // elements per head
  int64_t n_rot = 0;     // rotated dims (<= head_dim, even); 0 means head_dim
  RopeLayout layout = RopeLayout::normal;
  float freq_base = 10000.0f;
  RopeScaling scaling = RopeScaling::none;
  float factor = 1.0f;  // linear / yarn / llama3 scaling factor (>= 1)
  // YaRN
  float ext_factor = 1.0f;   // extrapolation mix (GGUF: 1 when yarn is on, 0 to disable)
  float attn_factor = 1.0f;  // extra magnitude multiplier on sin/cos
  float beta_fast = 32.0f;
  float beta_slow = 1.0f;
  int64_t original_context = 0;  // yarn and llama3: the context the model was trained with
  // Llama 3
  float low_freq_factor = 1.0f;
  float high_freq_factor = 4.0f;
  // Optional per-pair divisors (GGUF `rope_freqs.weight`), n_rot/2 values; empty for none.
  std::vector<float> freq_factors;
};

// theta(pos, pair i) = pos * inv_freq[i]; (cos, sin) are multiplied by `magnitude`.
struct RopeTable {
  int64_t head_dim = 0;
  int64_t n_rot = 0;
  RopeLayout layout = RopeLayout::normal;
  std::vector<float> inv_freq;  // n_rot / 2 angular frequencies, scaling already applied
  float magnitude = 1.0f;
};

// Validates params (throws Error(invalid_argument) for impossible values) and builds the table.
RopeTable make_rope_table(const RopeParams& params);

}  // namespace ingot::backend
