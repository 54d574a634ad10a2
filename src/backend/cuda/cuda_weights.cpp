// CudaBackend's weights. begin_weights(total) allocates ONE device arena for a model's weights
// (the loader sums weight_arena_bytes over the GGUF tensor table first); each upload_weight then
// takes the next 256-byte-aligned piece of it. Bytes stream through two pinned staging halves (up
// to 64 MiB each, less for a small model) on the copy stream: the host copies from the mapped file
// into one half (up to 8 threads, so page faults of the mapping are served in parallel) while the
// copy engine drains the other, and a half is refilled only after its event completed. A half
// mirrors a window of device memory, so consecutive small weights share one cudaMemcpyAsync.
// end_weights() flushes, waits and frees the staging (pinned only while loading). Without
// begin_weights (tests), each weight gets its own cudaMalloc and is flushed before upload_weight
// returns.
#include "backend/cuda/cuda_backend.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <thread>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/kernels/launchers.h"
#include "core/error.h"
#include "core/thread_pool.h"

namespace ingot::cuda {
namespace {

constexpr size_t kStagingHalf = size_t{64} << 20;  // bytes per staging half, at most
constexpr size_t kStagingMin = size_t{1} << 20;    // and at least (small models pin little)
constexpr size_t kCopyGrain = size_t{4} << 20;     // bytes per host memcpy task
constexpr size_t kMaxCopyThreads = 8;

double gib(uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

// Asks the kernel to start reading a mapped range now (async readahead); a no-op for memory
// that is not a file mapping.
void prefetch(const void* p, size_t bytes) {
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  if (bytes == 0 || page == 0) return;
  const uintptr_t begin = reinterpret_cast<uintptr_t>(p) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p) + bytes;
  (void)::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_WILLNEED);
}

}  // namespace

struct CudaBackend::WeightUpload {
  size_t half_bytes = kStagingHalf;  // bytes per half
  PinnedMemory staging;          // 2 x half_bytes
  EventHandle done[2];           // recorded after the copy out of each half
  int half = 0;                  // the half being filled
  uintptr_t window = 0;          // device address the filled half mirrors (0: empty)
  size_t window_used = 0;        // bytes of the half in use, from `window`
  std::unique_ptr<ThreadPool> pool;

  uint8_t* half_data() const { return static_cast<uint8_t*>(staging.get()) + half * half_bytes; }

  void copy(uint8_t* dst, const uint8_t* src, size_t n) const {
    if (pool == nullptr || n < 2 * kCopyGrain) {
      std::memcpy(dst, src, n);
      return;
    }
    pool->parallel_ranges(n, kCopyGrain, [&](size_t begin, size_t end, size_t) {
      std::memcpy(dst + begin, src + begin, end - begin);
    });
  }
};

bool CudaBackend::begin_weights(uint64_t total_bytes) {
  activate();
  if (arena_ != nullptr) fail(ErrorCode::invalid_argument, "begin_weights: a weight upload is already open");
  if (total_bytes > 0) {
    size_t free_bytes = 0, device_bytes = 0;
    check_cuda(cudaMemGetInfo(&free_bytes, &device_bytes), "cudaMemGetInfo");
    if (total_bytes > free_bytes) {
      fail(ErrorCode::out_of_range,
           "the weights need {:.2f} GiB of device memory but device {} has {:.2f} GiB free (of {:.2f} GiB); "
           "use a smaller or more quantized model, or --backend cpu",
           gib(total_bytes), device_, gib(free_bytes), gib(device_bytes));
    }
    Buffer arena = alloc(total_bytes);
    arena_ = static_cast<uint8_t*>(arena.data());
    arena_size_ = total_bytes;
    arena_used_ = 0;
    weights_.push_back(std::move(arena));
  }
  return true;
}

void CudaBackend::end_weights() {
  activate();
  if (weight_upload_ != nullptr) {
    flush_weights();
    check_cuda(cudaStreamSynchronize(copy_stream_.get()), "cudaStreamSynchronize");
  }
  weight_upload_.reset();  // the pinned staging goes back
  arena_ = nullptr;
  arena_size_ = 0;
  arena_used_ = 0;
}

Tensor CudaBackend::upload_weight(const void* host, quant::Type type, Shape shape,
                                  std::shared_ptr<const void> keep_alive) {
  activate();
  if (host == nullptr) fail(ErrorCode::invalid_argument, "upload_weight: no data");
  if (!is_weight_type_supported(type)) {
    fail(ErrorCode::unsupported,
         "upload_weight: the CUDA backend cannot compute with {} weights (supported: {}); "
         "requantize the model or use --backend cpu",
         quant::name(type), supported_weight_types());
  }
  const size_t bytes = backend::dense_bytes(type, shape);
  uint8_t* dst = nullptr;
  if (arena_ != nullptr) {
    const uint64_t need = backend::weight_arena_bytes(type, shape);
    if (need > arena_size_ - arena_used_) {
      fail(ErrorCode::out_of_range,
           "upload_weight: the weight arena of {} bytes has {} left, this weight needs {} (begin_weights was "
           "given less than the weights' total)",
           arena_size_, arena_size_ - arena_used_, need);
    }
    dst = arena_ + arena_used_;
    arena_used_ += need;
  } else {
    Buffer buffer = alloc(bytes);
    dst = static_cast<uint8_t*>(buffer.data());
    weights_.push_back(std::move(buffer));
  }
  if (weight_upload_ == nullptr) {
    auto u = std::make_shared<WeightUpload>();
    // Halves sized for what is coming (the whole arena, or this one weight), 1 to 64 MiB.
    const uint64_t hint = arena_ != nullptr ? arena_size_ : bytes;
    u->half_bytes = static_cast<size_t>(
        std::clamp<uint64_t>((hint + kStagingMin - 1) / kStagingMin * kStagingMin, kStagingMin, kStagingHalf));
    void* p = nullptr;
    check_cuda(cudaMallocHost(&p, 2 * u->half_bytes), "cudaMallocHost");
    u->staging.reset(p);
    for (auto& e : u->done) {
      cudaEvent_t ev = nullptr;
      check_cuda(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming), "cudaEventCreateWithFlags");
      e.reset(ev);
    }
    const size_t n_threads = std::clamp<size_t>(std::thread::hardware_concurrency() / 2, 1, kMaxCopyThreads);
    if (n_threads > 1) u->pool = std::make_unique<ThreadPool>(n_threads);
    weight_upload_ = std::move(u);
  }
  prefetch(host, bytes);
  stage_weight(dst, static_cast<const uint8_t*>(host), bytes);
  if (arena_ == nullptr) flush_weights();  // a single weight is usable when this returns
  keep_alive.reset();  // every byte is in pinned staging or on the device already
  return backend::make_tensor(dst, type, shape);
}

void CudaBackend::stage_weight(uint8_t* dst, const uint8_t* src, size_t bytes) {
  WeightUpload& u = *weight_upload_;
  while (bytes > 0) {
    const uintptr_t to = reinterpret_cast<uintptr_t>(dst);
    if (u.window != 0) {
      // dst continues the window when it follows its end by less than the arena alignment
      // (the gap is padding of the arena, never another weight's bytes).
      const uintptr_t end = u.window + u.window_used;
      const bool continues = to >= end && to - end < backend::kWeightArenaAlignment && to - u.window < u.half_bytes;
      if (!continues) flush_weights();
    }
    if (u.window == 0) {
      // The half is refilled only after its previous copy to the device completed.
      check_cuda(cudaEventSynchronize(u.done[u.half].get()), "cudaEventSynchronize");
      u.window = to;
      u.window_used = 0;
    }
    const size_t at = static_cast<size_t>(to - u.window);
    const size_t n = std::min(bytes, u.half_bytes - at);
    u.copy(u.half_data() + at, src, n);
    u.window_used = at + n;
    dst += n;
    src += n;
    bytes -= n;
    if (u.window_used == u.half_bytes) flush_weights();
  }
}

void CudaBackend::flush_weights() {
  WeightUpload& u = *weight_upload_;
  if (u.window == 0) return;
  check_cuda(cudaMemcpyAsync(reinterpret_cast<void*>(u.window), u.half_data(), u.window_used,
                             cudaMemcpyHostToDevice, copy_stream_.get()),
             "cudaMemcpyAsync");
  check_cuda(cudaEventRecord(u.done[u.half].get(), copy_stream_.get()), "cudaEventRecord");
  u.half ^= 1;
  u.window = 0;
  u.window_used = 0;
  // Ops enqueued from now on see these bytes.
  check_cuda(cudaEventRecord(weights_copied_.get(), copy_stream_.get()), "cudaEventRecord");
  check_cuda(cudaStreamWaitEvent(stream_.get(), weights_copied_.get(), 0), "cudaStreamWaitEvent");
}

}  // namespace ingot::cuda
