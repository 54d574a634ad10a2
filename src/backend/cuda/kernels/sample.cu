// Sampling on the device: one block of 1024 threads per SampleRow. The row's logits get its
// modifications (bias, bans, penalties) in a scratch copy, then greedy argmax (ties: lower id),
// or p = exp((l - max) / T) -> min-p -> top-k -> top-p on a candidate list kept in token order
// (so a draw is deterministic), and one Philox draw (seed, counter) proportional to p. Top-k
// and top-p boundaries are found by binary search on the float bits of p with ties broken by
// lower id, which is the host Sampler's order. Logprobs are of the raw logits. Like the host,
// top-k / top-p first consider only tokens at least 1e-4 as likely as the best, and redo the
// list over the whole min-p set when that is not exact.
#include <climits>
#include <cmath>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/common.cuh"
#include "backend/cuda/kernels/sample.h"
#include "backend/cuda/launch_check.h"
#include "backend/philox.h"

namespace ingot::cuda {
namespace {

using backend::SampledToken;
using backend::SampleMod;
using backend::SampleRow;

constexpr int kThreads = 1024;
constexpr int kWarps = kThreads / 32;
constexpr unsigned kFull = 0xffffffffu;
constexpr unsigned kOneBits = 0x3f800000u;  // bits of 1.0f: p <= 1

struct Shared {
  double d[kWarps];
  float f[kWarps];
  int i[kWarps];
  int found;
  int value;
};

__device__ double block_sum_d(double v, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  __syncthreads();
  if (lane == 0) s.d[warp] = v;
  __syncthreads();
  v = s.d[lane];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  return v;
}

__device__ int block_count(int v, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  __syncthreads();
  if (lane == 0) s.i[warp] = v;
  __syncthreads();
  v = s.i[lane];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(kFull, v, o);
  return v;
}

__device__ float block_max_f(float v, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFull, v, o));
  __syncthreads();
  if (lane == 0) s.f[warp] = v;
  __syncthreads();
  v = s.f[lane];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(kFull, v, o));
  return v;
}

// (value desc, id asc): the order of the host's argmax and top_logprobs.
__device__ inline void take_better(float& v, int& id, float ov, int oid) {
  if (ov > v || (ov == v && oid < id)) {
    v = ov;
    id = oid;
  }
}

__device__ void block_argmax(float& v, int& id, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(kFull, v, o);
    const int oid = __shfl_xor_sync(kFull, id, o);
    take_better(v, id, ov, oid);
  }
  __syncthreads();
  if (lane == 0) {
    s.f[warp] = v;
    s.i[warp] = id;
  }
  __syncthreads();
  v = s.f[lane];
  id = s.i[lane];
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(kFull, v, o);
    const int oid = __shfl_xor_sync(kFull, id, o);
    take_better(v, id, ov, oid);
  }
}

// Ordered selection within one tile of kThreads items: this thread's position among the
// flagged items of the tile (*pos) and the tile's count. Every thread must call it.
__device__ int tile_scan(bool flag, int* pos, Shared& s) {
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const unsigned ballot = __ballot_sync(kFull, flag);
  const int in_warp = __popc(ballot & ((1u << lane) - 1u));
  __syncthreads();
  if (lane == 0) s.i[warp] = __popc(ballot);
  __syncthreads();
  int before = 0, total = 0;
  for (int w = 0; w < kWarps; ++w) {
    const int c = s.i[w];
    if (w < warp) before += c;
    total += c;
  }
  *pos = before + in_warp;
  return total;
}

__device__ inline unsigned bits_of(float p) { return __float_as_uint(p); }

struct RowState {
  const float* p;
  const int32_t* id;
  int n;
  // S1 (top-k) and S2 (top-p) boundaries: keys above `b`, or equal to `b` at list index <= c.
  unsigned b1 = 0;
  int c1 = INT_MAX;
  unsigned b2 = 0;
  int c2 = INT_MAX;
  __device__ bool in_s1(int j) const {
    const unsigned b = bits_of(p[j]);
    return b > b1 || (b == b1 && j <= c1);
  }
  __device__ bool in_s2(int j) const {
    if (!in_s1(j)) return false;
    const unsigned b = bits_of(p[j]);
    return b > b2 || (b == b2 && j <= c2);
  }
};

// List index of the nth (0-based) item satisfying pred, in list order; -1 when fewer.
template <class Pred>
__device__ int find_nth(int n, int nth, Pred pred, Shared& s) {
  if (threadIdx.x == 0) s.found = -1;
  int seen = 0;
  for (int base = 0; base < n; base += kThreads) {
    const int j = base + static_cast<int>(threadIdx.x);
    const bool f = j < n && pred(j);
    int pos = 0;
    const int t = tile_scan(f, &pos, s);
    if (f && seen + pos == nth) s.found = j;
    seen += t;
    __syncthreads();
    if (s.found >= 0 || seen > nth) break;
  }
  __syncthreads();
  return s.found;
}

__device__ float prob_of(float l, float max, float inv_t) {
  // As the host: float (l - max) * inv_t, exp rounded to float (double exp: the correctly
  // rounded value, which the host's expf also gives in all but rare cases).
  return static_cast<float>(exp(static_cast<double>(__fmul_rn(__fsub_rn(l, max), inv_t))));
}

__global__ void __launch_bounds__(kThreads) sample_kernel(SampleLaunch a) {
  __shared__ Shared s;
  const SampleRow r = a.rows[blockIdx.x];
  SampledToken* out = a.out + blockIdx.x;
  const int V = a.n_vocab;
  const int tid = static_cast<int>(threadIdx.x);
  if (r.logit_row < 0 || r.logit_row >= a.n_logit_rows) {
    if (tid == 0) {
      out->token = -1;
      out->n_top = 0;
    }
    return;
  }
  const float* raw = a.logits + static_cast<int64_t>(r.logit_row) * a.logits_stride;
  float* work = a.work + static_cast<int64_t>(blockIdx.x) * V;
  float* cand_p = a.cand_p + static_cast<int64_t>(blockIdx.x) * V;
  int32_t* cand_id = a.cand_id + static_cast<int64_t>(blockIdx.x) * V;

  // 1. Modifications, in the host Sampler's order per token.
  const float* w = raw;
  if (r.mods_count > 0) {
    for (int i = tid; i < V; i += kThreads) work[i] = raw[i];
    __syncthreads();
    for (int j = tid; j < r.mods_count; j += kThreads) {
      const SampleMod m = a.mods[r.mods_begin + j];
      if (m.token < 0 || m.token >= V) continue;
      float l = __fadd_rn(work[m.token], m.bias);
      if (m.banned) l = -INFINITY;
      if (m.count > 0) {
        const float rp = r.repetition_penalty;
        if (rp != 1.0f) l = l > 0.0f ? __fdiv_rn(l, rp) : __fmul_rn(l, rp);
        l = __fsub_rn(l, __fadd_rn(r.presence_penalty,
                                   __fmul_rn(r.frequency_penalty, static_cast<float>(m.count))));
      }
      work[m.token] = l;
    }
    __syncthreads();
    w = work;
  }

  int token = -1;
  if (r.temperature <= 0.0f) {
    // 2a. Greedy: the host's argmax (strictly greater wins; -inf and NaN never; none -> 0).
    float bv = -INFINITY;
    int bi = INT_MAX;
    for (int i = tid; i < V; i += kThreads) {
      const float v = w[i];
      if (v > -INFINITY) take_better(bv, bi, v, i);
    }
    block_argmax(bv, bi, s);
    token = bi == INT_MAX ? 0 : bi;
  } else {
    // 2b. min-p -> top-k -> top-p -> draw.
    float mx = -INFINITY;
    for (int i = tid; i < V; i += kThreads) mx = fmaxf(mx, w[i]);
    mx = block_max_f(mx, s);
    if (mx > -INFINITY) {
      const float inv_t = __fdiv_rn(1.0f, r.temperature);
      const bool top_k = r.top_k > 0, top_p = r.top_p < 1.0f;
      // Collect p >= cutoff in token order; returns the count, the min-p set mass, kept mass.
      auto collect = [&](float cutoff, double* set_mass, double* kept_mass) {
        int n = 0;
        double all = 0.0, kept = 0.0;
        for (int base = 0; base < V; base += kThreads) {
          const int i = base + tid;
          float p = 0.0f;
          bool f = false;
          if (i < V) {
            const float l = w[i];
            if (l > -INFINITY) {
              p = prob_of(l, mx, inv_t);
              if (!(p < r.min_p)) {
                all += p;
                f = p >= cutoff;
              }
            }
          }
          int pos = 0;
          const int t = tile_scan(f, &pos, s);
          if (f) {
            cand_p[n + pos] = p;
            cand_id[n + pos] = i;
            kept += p;
          }
          n += t;
        }
        *set_mass = block_sum_d(all, s);
        *kept_mass = block_sum_d(kept, s);
        return n;
      };
      const float prefilter = fmaxf(r.min_p, 1e-4f);
      double set_mass = 0.0, kept_mass = 0.0;
      int n = collect(top_k || top_p ? prefilter : 0.0f, &set_mass, &kept_mass);
      if (prefilter > r.min_p && (top_k || top_p)) {
        const bool exact = top_k ? n >= r.top_k : kept_mass >= static_cast<double>(r.top_p) * set_mass;
        if (!exact) n = collect(r.min_p, &set_mass, &kept_mass);
      }
      __syncthreads();  // the list is complete
      RowState st{cand_p, cand_id, n};
      if (top_k && r.top_k < n) {
        // b1: the bits of the k-th largest p (largest b with count(bits >= b) >= k).
        unsigned lo = 0, hi = kOneBits;
        while (lo < hi) {
          const unsigned mid = lo + (hi - lo + 1) / 2;
          int c = 0;
          for (int j = tid; j < n; j += kThreads) c += bits_of(cand_p[j]) >= mid ? 1 : 0;
          if (block_count(c, s) >= r.top_k) lo = mid; else hi = mid - 1;
        }
        int gt = 0;
        for (int j = tid; j < n; j += kThreads) gt += bits_of(cand_p[j]) > lo ? 1 : 0;
        gt = block_count(gt, s);
        const unsigned b1 = lo;
        st.b1 = b1;
        st.c1 = find_nth(n, r.top_k - gt - 1, [&](int j) { return bits_of(cand_p[j]) == b1; }, s);
      }
      double mass1 = 0.0;
      for (int j = tid; j < n; j += kThreads) mass1 += st.in_s1(j) ? cand_p[j] : 0.0f;
      mass1 = block_sum_d(mass1, s);
      if (top_p) {
        const double target = static_cast<double>(r.top_p) * (top_k ? mass1 : set_mass);
        // b2: largest b with mass(S1, bits >= b) >= target; then ties at b2 in token order.
        unsigned lo = 0, hi = kOneBits;
        while (lo < hi) {
          const unsigned mid = lo + (hi - lo + 1) / 2;
          double m = 0.0;
          for (int j = tid; j < n; j += kThreads) {
            if (st.in_s1(j) && bits_of(cand_p[j]) >= mid) m += cand_p[j];
          }
          if (block_sum_d(m, s) >= target) lo = mid; else hi = mid - 1;
        }
        const unsigned b2 = lo;
        double gt = 0.0;
        int ties = 0;
        for (int j = tid; j < n; j += kThreads) {
          if (!st.in_s1(j)) continue;
          const unsigned b = bits_of(cand_p[j]);
          if (b > b2) gt += cand_p[j];
          if (b == b2) ++ties;
        }
        gt = block_sum_d(gt, s);
        ties = block_count(ties, s);
        const double v2 = static_cast<double>(__uint_as_float(b2));
        int need = 1;
        if (v2 > 0.0) {
          need = static_cast<int>(ceil((target - gt) / v2));
          need = max(need, 1);
          while (need > 1 && gt + (need - 1) * v2 >= target) --need;
          while (need < ties && gt + need * v2 < target) ++need;
        } else {
          need = ties;
        }
        need = min(max(need, 1), max(ties, 1));
        st.b2 = b2;
        st.c2 = find_nth(n, need - 1,
                         [&](int j) { return st.in_s1(j) && bits_of(cand_p[j]) == b2; }, s);
      }
      double total = 0.0;
      for (int j = tid; j < n; j += kThreads) total += st.in_s2(j) ? cand_p[j] : 0.0f;
      total = block_sum_d(total, s);
      const double u = backend::philox_uniform(r.seed, r.counter) * total;
      // The first candidate (token order) whose cumulative mass passes u.
      if (tid == 0) {
        s.found = INT_MAX;
        s.value = -1;
      }
      double running = 0.0;
      for (int base = 0; base < n; base += kThreads) {
        const int j = base + tid;
        const bool in = j < n && st.in_s2(j);
        const double x = in ? static_cast<double>(cand_p[j]) : 0.0;
        // Inclusive scan of x over the tile.
        const int lane = tid % 32, warp = tid / 32;
        double incl = x;
#pragma unroll
        for (int o = 1; o < 32; o <<= 1) {
          const double y = __shfl_up_sync(kFull, incl, o);
          if (lane >= o) incl += y;
        }
        __syncthreads();
        if (lane == 31) s.d[warp] = incl;
        __syncthreads();
        double before = 0.0, tile = 0.0;
        for (int k = 0; k < kWarps; ++k) {
          if (k < warp) before += s.d[k];
          tile += s.d[k];
        }
        const double cum = running + before + incl;
        if (in) {
          atomicMax(&s.value, j);  // the last candidate: the fallback for rounding at the end
          if (cum > u) atomicMin(&s.found, j);  // the first: cumulative mass is monotone
        }
        running += tile;
        __syncthreads();
        if (s.found != INT_MAX) break;
      }
      __syncthreads();
      const int pick = s.found != INT_MAX ? s.found : s.value;
      token = pick >= 0 ? cand_id[pick] : -1;
    }
  }

  // 3. Logprobs of the raw logits.
  const bool want = r.want_logprob != 0 || r.n_top_logprobs > 0;
  double lse = 0.0;
  if (want) {
    float m = -INFINITY;
    for (int i = tid; i < V; i += kThreads) m = fmaxf(m, raw[i]);
    m = block_max_f(m, s);
    if (!isfinite(m)) {
      lse = m;
    } else {
      double sum = 0.0;
      for (int i = tid; i < V; i += kThreads) sum += exp(static_cast<double>(raw[i]) - m);
      sum = block_sum_d(sum, s);
      lse = static_cast<double>(m) + log(sum);
    }
  }
  int n_top = 0;
  if (want) {
    const int n_want = min(min(r.n_top_logprobs, backend::kMaxTopLogprobs), V);
    float pv = INFINITY;
    int pid = -1;
    for (; n_top < n_want; ++n_top) {
      float bv = -INFINITY;
      int bi = INT_MAX;
      for (int i = tid; i < V; i += kThreads) {
        const float v = raw[i];
        if (isnan(v)) continue;
        if (v < pv || (v == pv && i > pid)) take_better(bv, bi, v, i);
      }
      block_argmax(bv, bi, s);
      if (bi == INT_MAX) break;
      if (tid == 0) {
        out->top_token[n_top] = bi;
        out->top_logprob[n_top] = static_cast<float>(static_cast<double>(bv) - lse);
      }
      pv = bv;
      pid = bi;
    }
  }
  if (tid == 0) {
    out->token = token;
    out->n_top = n_top;
    out->logprob = want && token >= 0 ? static_cast<float>(static_cast<double>(raw[token]) - lse) : 0.0f;
  }
}

}  // namespace

void launch_sample(const SampleLaunch& a, cudaStream_t stream) {
  if (a.n_rows <= 0) return;
  if (a.n_vocab <= 0 || a.logits == nullptr || a.rows == nullptr || a.out == nullptr ||
      a.work == nullptr || a.cand_p == nullptr || a.cand_id == nullptr) {
    fail_argument("sample", "missing buffers or an empty vocabulary");
  }
  sample_kernel<<<static_cast<unsigned>(a.n_rows), kThreads, 0, stream>>>(a);
  check_last_launch("sample_kernel");
}

}  // namespace ingot::cuda
