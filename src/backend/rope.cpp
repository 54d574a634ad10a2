#include "backend/rope.h"

#include <algorithm>
#include <cmath>
#include <numbers>

#include "core/error.h"

namespace ingot::backend {
namespace {

// The (fractional) pair index whose wavelength covers `n_rotations` full turns over the
// original context: the YaRN correction dimension.
double yarn_corr_dim(int64_t n_rot, int64_t original_context, double n_rotations, double base) {
  return static_cast<double>(n_rot) *
         std::log(static_cast<double>(original_context) / (n_rotations * 2.0 * std::numbers::pi)) /
         (2.0 * std::log(base));
}

}  // namespace

RopeTable make_rope_table(const RopeParams& p) {
  const int64_t n_rot = p.n_rot == 0 ? p.head_dim : p.n_rot;
  if (p.head_dim <= 0 || n_rot <= 0 || n_rot > p.head_dim || n_rot % 2 != 0) {
    fail(ErrorCode::invalid_argument, "rope: head_dim {} with n_rot {} (must be even, <= head_dim)",
         p.head_dim, n_rot);
  }
  if (!(p.freq_base > 0.0f) || !std::isfinite(p.freq_base)) {
    fail(ErrorCode::invalid_argument, "rope: freq_base {} must be positive", p.freq_base);
  }
  if (p.scaling != RopeScaling::none && (!(p.factor > 0.0f) || !std::isfinite(p.factor))) {
    fail(ErrorCode::invalid_argument, "rope: scaling factor {} must be positive", p.factor);
  }
  const int64_t n_pairs = n_rot / 2;
  if (!p.freq_factors.empty() && static_cast<int64_t>(p.freq_factors.size()) != n_pairs) {
    fail(ErrorCode::invalid_argument, "rope: {} frequency factors for {} rotated pairs",
         p.freq_factors.size(), n_pairs);
  }
  if ((p.scaling == RopeScaling::yarn || p.scaling == RopeScaling::llama3) &&
      p.original_context <= 0) {
    fail(ErrorCode::invalid_argument, "rope: yarn and llama3 scaling need the original context");
  }
  if (p.scaling == RopeScaling::llama3 && !(p.high_freq_factor > p.low_freq_factor)) {
    fail(ErrorCode::invalid_argument, "rope: llama3 high_freq_factor {} must exceed low {}",
         p.high_freq_factor, p.low_freq_factor);
  }

  RopeTable table;
  table.head_dim = p.head_dim;
  table.n_rot = n_rot;
  table.layout = p.layout;
  table.inv_freq.resize(static_cast<size_t>(n_pairs));
  double magnitude = 1.0;

  double yarn_low = 0.0, yarn_high = 0.0;
  if (p.scaling == RopeScaling::yarn) {
    yarn_low = std::max(
        0.0, std::floor(yarn_corr_dim(n_rot, p.original_context, p.beta_fast, p.freq_base)));
    yarn_high =
        std::min(static_cast<double>(n_rot - 1),
                 std::ceil(yarn_corr_dim(n_rot, p.original_context, p.beta_slow, p.freq_base)));
    magnitude = p.attn_factor;
    if (p.ext_factor != 0.0f) magnitude *= 1.0 + 0.1 * std::log(static_cast<double>(p.factor));
  }

  for (int64_t i = 0; i < n_pairs; ++i) {
    double freq = std::pow(static_cast<double>(p.freq_base),
                           -2.0 * static_cast<double>(i) / static_cast<double>(n_rot));
    if (!p.freq_factors.empty()) freq /= p.freq_factors[static_cast<size_t>(i)];
    switch (p.scaling) {
      case RopeScaling::none: break;
      case RopeScaling::linear: freq /= p.factor; break;
      case RopeScaling::yarn: {
        // ramp = 1 below yarn_low (extrapolate: keep freq), 0 above yarn_high (interpolate).
        const double y =
            (static_cast<double>(i) - yarn_low) / std::max(0.001, yarn_high - yarn_low);
        const double ramp = 1.0 - std::clamp(y, 0.0, 1.0);
        const double mix = ramp * p.ext_factor;
        freq = freq / p.factor * (1.0 - mix) + freq * mix;
        break;
      }
      case RopeScaling::llama3: {
        const double low_wavelen = p.original_context / p.low_freq_factor;
        const double high_wavelen = p.original_context / p.high_freq_factor;
        const double wavelen = 2.0 * std::numbers::pi / freq;
        if (wavelen > low_wavelen) {
          freq /= p.factor;
        } else if (wavelen >= high_wavelen) {
          const double smooth = (p.original_context / wavelen - p.low_freq_factor) /
                                (p.high_freq_factor - p.low_freq_factor);
          freq = (1.0 - smooth) * freq / p.factor + smooth * freq;
        }
        break;
      }
    }
    table.inv_freq[static_cast<size_t>(i)] = static_cast<float>(freq);
  }
  table.magnitude = static_cast<float>(magnitude);
  return table;
}

}  // namespace ingot::backend
