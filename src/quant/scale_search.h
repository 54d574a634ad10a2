// Internal: the per-sub-block scale searches of the K-quants, the same algorithms as ggml's
// make_qkx2_quants (scale and min, weighted least squares over a sweep of candidate scales),
// make_qx_quants (symmetric scale, 19 candidates, x^2 weights) and make_q3_quants (symmetric,
// coordinate descent). Each costs O(n * candidates) float work per sub-block of 16 or 32.
#pragma once

#include <cstdint>

namespace ingot::quant {

// Levels L[i] in [0, nmax] with x ~= scale * L - min; returns scale, stores min (>= 0) in
// *min_out. `weights` weight the error; `use_mad` takes |error| instead of error^2.
float search_scale_min(int n, int nmax, const float* x, const float* weights, uint8_t* levels,
                       float* min_out, float rmin, float rdelta, int n_steps, bool use_mad);

// Symmetric levels L[i] in [0, 2 nmax) with x ~= scale * (L - nmax), weights x^2; returns scale.
float search_scale_symmetric(int n, int nmax, const float* x, int8_t* levels);

// The Q3_K variant: starts at the plain rounding, then moves single levels while the weighted
// error drops (at most five sweeps). Levels in [0, 2 nmax); returns scale.
float search_scale_q3(int n, int nmax, const float* x, int8_t* levels);

}  // namespace ingot::quant
