// Host entry of kernels/sample.cu: one block per SampleRow picks that row's token on the device
// (modifications, greedy or temperature -> min-p -> top-k -> top-p -> a Philox draw, logprobs of
// the raw logits). Scratch: 12 bytes x n_vocab per row in flight. Enqueues only; no wait.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "backend/sampling.h"

namespace ingot::cuda {

struct SampleLaunch {
  const float* logits = nullptr;  // [n_vocab] rows, logits_stride floats apart
  int64_t logits_stride = 0;
  int64_t n_logit_rows = 0;
  int32_t n_vocab = 0;
  const backend::SampleRow* rows = nullptr;  // device, n_rows
  const backend::SampleMod* mods = nullptr;  // device
  int32_t n_rows = 0;
  float* work = nullptr;     // n_rows x n_vocab floats: modified logits
  float* cand_p = nullptr;   // n_rows x n_vocab: candidate probabilities
  int32_t* cand_id = nullptr;  // n_rows x n_vocab: candidate ids
  backend::SampledToken* out = nullptr;  // device, n_rows
};

void launch_sample(const SampleLaunch& a, cudaStream_t stream);

}  // namespace ingot::cuda
