// CudaBackend::sample and the sampler's scratch: the rows and the compact modification list are
// copied into pinned staging, uploaded, kernels/sample.cu picks every row's token on the device
// and only the SampledToken results (about 170 bytes a row) come back; the logits never leave
// the GPU. Scratch planned by reserve(): 12 bytes x n_vocab for each of up to kRowsPerLaunch rows
// in flight; larger batches run in several launches. The modification list grows (re-allocated
// with the stream idle) when a batch brings more entries than any before.
#include <algorithm>
#include <cstring>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/sample.h"
#include "core/checked_math.h"
#include "core/error.h"

namespace ingot::cuda {
namespace {

constexpr int64_t kRowsPerLaunch = 64;
constexpr size_t kInitialMods = 16384;

PinnedMemory pinned(size_t bytes) {
  void* p = nullptr;
  check_cuda(cudaMallocHost(&p, std::max<size_t>(bytes, 1)), "cudaMallocHost");
  return PinnedMemory(p);
}

}  // namespace

struct CudaBackend::SampleState {
  int64_t n_vocab = 0;
  int64_t rows_capacity = 0;
  size_t mods_capacity = 0;
  Buffer work, cand_p, cand_id;
  Buffer rows_device, mods_device, out_device;
  PinnedMemory rows_host, mods_host, out_host;
};

void CudaBackend::reserve_graphs_and_sampling(const WorkspacePlan& plan) {
  forget_captured();  // every recorded pointer may be stale now
  if (plan.n_vocab <= 0) return;
  const int64_t rows = std::clamp<int64_t>(plan.max_logit_rows, 1, kRowsPerLaunch);
  if (sampling_ != nullptr && sampling_->n_vocab == plan.n_vocab && sampling_->rows_capacity >= rows) return;
  auto st = std::make_shared<SampleState>();
  st->n_vocab = plan.n_vocab;
  st->rows_capacity = rows;
  const uint64_t scratch = checked_mul(checked_mul(static_cast<uint64_t>(rows), static_cast<uint64_t>(plan.n_vocab),
                                                   "sampler scratch", ErrorCode::out_of_range),
                                       uint64_t{4}, "sampler scratch", ErrorCode::out_of_range);
  st->work = alloc(scratch);
  st->cand_p = alloc(scratch);
  st->cand_id = alloc(scratch);
  st->rows_device = alloc(static_cast<size_t>(rows) * sizeof(backend::SampleRow));
  st->out_device = alloc(static_cast<size_t>(rows) * sizeof(backend::SampledToken));
  st->rows_host = pinned(static_cast<size_t>(rows) * sizeof(backend::SampleRow));
  st->out_host = pinned(static_cast<size_t>(rows) * sizeof(backend::SampledToken));
  st->mods_capacity = kInitialMods;
  st->mods_device = alloc(kInitialMods * sizeof(backend::SampleMod));
  st->mods_host = pinned(kInitialMods * sizeof(backend::SampleMod));
  sampling_ = std::move(st);
}

void CudaBackend::sample(const Tensor& logits, const backend::SampleBatch& batch,
                         std::span<backend::SampledToken> out) {
  activate();
  if (sampling_ == nullptr) fail(ErrorCode::internal, "sample: reserve() was not given the vocabulary size");
  SampleState& st = *sampling_;
  backend::expect_type(logits, quant::Type::F32, "sample", "logits");
  if (logits.ne0() != st.n_vocab) {
    fail(ErrorCode::invalid_argument, "sample: logit rows of {} for a vocabulary of {}", logits.ne0(), st.n_vocab);
  }
  if (out.size() != batch.rows.size()) {
    fail(ErrorCode::invalid_argument, "sample: {} results for {} rows", out.size(), batch.rows.size());
  }
  for (const backend::SampleRow& r : batch.rows) {
    if (r.logit_row < 0 || r.logit_row >= logits.n_rows()) {
      fail(ErrorCode::invalid_argument, "sample: logit row {} outside the {} rows", r.logit_row, logits.n_rows());
    }
    if (r.mods_begin < 0 || r.mods_count < 0 ||
        static_cast<size_t>(r.mods_begin) + static_cast<size_t>(r.mods_count) > batch.mods.size()) {
      fail(ErrorCode::invalid_argument, "sample: modification range outside the list");
    }
    if (r.n_top_logprobs < 0 || r.n_top_logprobs > backend::kMaxTopLogprobs) {
      fail(ErrorCode::invalid_argument, "sample: {} top logprobs (at most {})", r.n_top_logprobs,
           backend::kMaxTopLogprobs);
    }
  }
  if (batch.mods.size() > st.mods_capacity) {
    check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");
    const size_t cap = std::max(batch.mods.size(), st.mods_capacity * 2);
    st.mods_device = alloc(cap * sizeof(backend::SampleMod));
    st.mods_host = pinned(cap * sizeof(backend::SampleMod));
    st.mods_capacity = cap;
  }
  cudaStream_t s = stream_.get();
  if (!batch.mods.empty()) {
    // The previous sample() waited, so the pinned list is free to overwrite.
    const size_t bytes = batch.mods.size() * sizeof(backend::SampleMod);
    std::memcpy(st.mods_host.get(), batch.mods.data(), bytes);
    check_cuda(cudaMemcpyAsync(st.mods_device.data(), st.mods_host.get(), bytes, cudaMemcpyHostToDevice, s),
               "cudaMemcpyAsync");
  }
  for (size_t done = 0; done < batch.rows.size();) {
    const size_t n = std::min(batch.rows.size() - done, static_cast<size_t>(st.rows_capacity));
    std::memcpy(st.rows_host.get(), batch.rows.data() + done, n * sizeof(backend::SampleRow));
    check_cuda(cudaMemcpyAsync(st.rows_device.data(), st.rows_host.get(), n * sizeof(backend::SampleRow),
                               cudaMemcpyHostToDevice, s),
               "cudaMemcpyAsync");
    SampleLaunch a;
    a.logits = static_cast<const float*>(logits.data);
    a.logits_stride = static_cast<int64_t>(logits.row_stride / sizeof(float));
    a.n_logit_rows = logits.n_rows();
    a.n_vocab = static_cast<int32_t>(st.n_vocab);
    a.rows = static_cast<const backend::SampleRow*>(st.rows_device.data());
    a.mods = static_cast<const backend::SampleMod*>(st.mods_device.data());
    a.n_rows = static_cast<int32_t>(n);
    a.work = static_cast<float*>(st.work.data());
    a.cand_p = static_cast<float*>(st.cand_p.data());
    a.cand_id = static_cast<int32_t*>(st.cand_id.data());
    a.out = static_cast<backend::SampledToken*>(st.out_device.data());
    launch_sample(a, s);
    check_cuda(cudaMemcpyAsync(st.out_host.get(), st.out_device.data(), n * sizeof(backend::SampledToken),
                               cudaMemcpyDeviceToHost, s),
               "cudaMemcpyAsync");
    wait_and_check();
    std::memcpy(out.data() + done, st.out_host.get(), n * sizeof(backend::SampledToken));
    done += n;
  }
  if (batch.rows.empty()) wait_and_check();
}

}  // namespace ingot::cuda
