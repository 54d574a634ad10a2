// CudaBackend: construction, memory (buffers, the KV pool, the workspace), transfers and the
// device error word. Weights are in cuda_weights.cpp, ops in cuda_ops.cpp, matmul in
// cuda_matmul.cpp, the kernels in kernels/.
#include "backend/cuda/cuda_backend.h"

#include <algorithm>
#include <cstring>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/device_info.h"
#include "backend/cuda/kernels/launchers.h"
#include "core/checked_math.h"
#include "core/error.h"

namespace ingot::cuda {
namespace {

constexpr size_t kStepArenaMin = size_t{4} << 20;      // pinned bytes for per-step uploads
constexpr size_t kWeightChunkBytes = size_t{64} << 20;  // f16 dequantized weight rows per gemm

PinnedMemory alloc_pinned(size_t bytes) {
  void* p = nullptr;
  check_cuda(cudaMallocHost(&p, bytes), "cudaMallocHost");
  return PinnedMemory(p);
}

EventHandle make_event() {
  cudaEvent_t e = nullptr;
  check_cuda(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  return EventHandle(e);
}

const char* device_error_text(int32_t code) {
  switch (code) {
    case kDeviceErrorTokenId: return "embed: token id {} outside the vocabulary of {}";
    case kDeviceErrorKvSlot: return "write_kv: slot {} outside the pool of {} slots";
    case kDeviceErrorAttentionBatch:
      return "attention: sequence {} (query row {}) has inconsistent query starts, context length "
             "or block-table size";
    case kDeviceErrorAttentionBlock: return "attention: block id {} outside the pool of {} blocks";
    case kDeviceErrorCopyBlock: return "copy_blocks: block {} of {}";
    case kDeviceErrorLogitRow: return "logits: row {} outside the {} hidden rows";
    default: return "kernel error {} {}";
  }
}

}  // namespace

void StreamDeleter::operator()(cudaStream_t s) const noexcept { (void)cudaStreamDestroy(s); }
void EventDeleter::operator()(cudaEvent_t e) const noexcept { (void)cudaEventDestroy(e); }
void CublasDeleter::operator()(cublasHandle_t h) const noexcept { (void)cublasDestroy(h); }
void PinnedDeleter::operator()(void* p) const noexcept { (void)cudaFreeHost(p); }

CudaBackend::CudaBackend(int device) : device_(device) {
  (void)describe_device(device);  // validates the index, sets the device
  activate();
  cudaStream_t s = nullptr;
  check_cuda(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  stream_.reset(s);
  check_cuda(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  copy_stream_.reset(s);
  cublasHandle_t h = nullptr;
  check_cublas(cublasCreate(&h), "cublasCreate");
  cublas_.reset(h);
  check_cublas(cublasSetStream(h, stream_.get()), "cublasSetStream");
  // Plain f32 for F32 weights: no TF32 (the GEMM calls also ask for pedantic f32 compute).
  check_cublas(cublasSetMathMode(h, CUBLAS_DEFAULT_MATH), "cublasSetMathMode");
  weights_copied_ = make_event();
  step_arena_ = alloc_pinned(kStepArenaMin);
  step_arena_size_ = kStepArenaMin;
  error_device_ = alloc(sizeof(DeviceErrorWord));
  check_cuda(cudaMemsetAsync(error_device_.data(), 0, sizeof(DeviceErrorWord), stream_.get()),
             "cudaMemsetAsync");
  check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");
  error_host_ = alloc_pinned(sizeof(DeviceErrorWord));
  std::memset(error_host_.get(), 0, sizeof(DeviceErrorWord));
}

CudaBackend::~CudaBackend() {
  // Nothing may still read memory that is about to be freed.
  if (cudaSetDevice(device_) == cudaSuccess) {
    if (copy_stream_) (void)cudaStreamSynchronize(copy_stream_.get());
    if (stream_) (void)cudaStreamSynchronize(stream_.get());
  }
}

void CudaBackend::activate() const {
  ++ops_;
  int current = -1;
  check_cuda(cudaGetDevice(&current), "cudaGetDevice");
  if (current != device_) check_cuda(cudaSetDevice(device_), "cudaSetDevice");
}

Buffer CudaBackend::alloc(size_t bytes) {
  activate();
  void* p = nullptr;
  check_cuda(cudaMalloc(&p, std::max<size_t>(bytes, 1)), "cudaMalloc");
  const int device = device_;
  return Buffer(p, bytes, [device](void* ptr) {
    int current = -1;
    if (cudaGetDevice(&current) == cudaSuccess && current != device) (void)cudaSetDevice(device);
    (void)cudaFree(ptr);
    if (current >= 0 && current != device) (void)cudaSetDevice(current);
  });
}

KvPoolStorage CudaBackend::alloc_kv_pool(const KvPoolShape& shape) {
  if (shape.type != quant::Type::F16 && shape.type != quant::Type::F32) {
    fail(ErrorCode::unsupported, "kv pool: storage type {} (F16 or F32 only)",
         quant::name(shape.type));
  }
  if (shape.n_layers <= 0 || shape.n_blocks <= 0 || shape.block_size <= 0 ||
      shape.n_kv_heads <= 0 || shape.head_dim <= 0) {
    fail(ErrorCode::invalid_argument, "kv pool: every dimension must be positive");
  }
  uint64_t rows = checked_mul(static_cast<uint64_t>(shape.n_layers),
                              static_cast<uint64_t>(shape.n_blocks), "kv rows",
                              ErrorCode::out_of_range);
  rows = checked_mul(rows, static_cast<uint64_t>(shape.block_size), "kv rows",
                     ErrorCode::out_of_range);
  rows = checked_mul(rows, static_cast<uint64_t>(shape.n_kv_heads), "kv rows",
                     ErrorCode::out_of_range);
  const Shape s = Shape::of(shape.head_dim, static_cast<int64_t>(rows));
  KvPoolStorage storage;
  storage.pool.shape = shape;
  storage.pool.k = alloc_tensor(shape.type, s, storage.k_buffer);
  storage.pool.v = alloc_tensor(shape.type, s, storage.v_buffer);
  check_cuda(cudaMemsetAsync(storage.k_buffer.data(), 0, storage.k_buffer.size(), stream_.get()),
             "cudaMemsetAsync");
  check_cuda(cudaMemsetAsync(storage.v_buffer.data(), 0, storage.v_buffer.size(), stream_.get()),
             "cudaMemsetAsync");
  return storage;
}

void CudaBackend::reserve(const WorkspacePlan& plan) {
  activate();
  if (plan.max_tokens < 0 || plan.max_row_elements < 0 || plan.max_context < 0 ||
      plan.max_logit_rows < 0) {
    fail(ErrorCode::invalid_argument, "reserve: negative workspace bounds");
  }
  const auto elements = [](int64_t rows, int64_t width, uint64_t bytes_each) {
    return checked_mul(checked_mul(static_cast<uint64_t>(rows), static_cast<uint64_t>(width),
                                   "workspace", ErrorCode::out_of_range),
                       bytes_each, "workspace", ErrorCode::out_of_range);
  };
  const uint64_t act16 = elements(plan.max_tokens, plan.max_row_elements, 2);
  const uint64_t logits = elements(plan.max_logit_rows, plan.max_row_elements, 4);
  const uint64_t w16 = std::max<uint64_t>(kWeightChunkBytes, elements(1, plan.max_row_elements, 2));
  check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");  // old scratch idle
  if (activations_16_.size() < act16) activations_16_ = alloc(act16);
  if (logit_rows_.size() < logits) logit_rows_ = alloc(logits);
  if (weights_16_.size() < w16) weights_16_ = alloc(w16);
  // Per-step inputs: ids, positions, slots, rows (4 x max_tokens ints), query starts and
  // context lengths, and block tables of max_context / 16 entries for up to max_tokens
  // sequences are bounded generously; bigger uploads still work (they wait for the stream).
  const uint64_t step = std::max<uint64_t>(
      kStepArenaMin, std::min<uint64_t>(uint64_t{64} << 20, elements(plan.max_tokens, 64, 4)));
  if (step_arena_size_ < step) {
    step_arena_ = alloc_pinned(step);
    step_arena_size_ = step;
    step_arena_used_ = 0;
  }
  plan_ = plan;
  reserve_graphs_and_sampling(plan);
}

void CudaBackend::upload(const Tensor& dst, const void* host, size_t bytes) {
  activate();
  if (bytes > backend::dense_bytes(dst.type, dst.shape)) {
    fail(ErrorCode::invalid_argument, "upload: {} bytes into a tensor of {}", bytes,
         backend::dense_bytes(dst.type, dst.shape));
  }
  if (bytes == 0) return;
  if (bytes > step_arena_size_) {
    // Larger than the whole arena: copy synchronously (rare; load-time sized data).
    check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");
    check_cuda(cudaMemcpy(dst.data, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy");
    return;
  }
  size_t at = (step_arena_used_ + 255) / 256 * 256;
  if (at + bytes > step_arena_size_) {
    // The arena is full of copies that may not have run yet: wait, then reuse it from the start.
    wait_and_check();
    at = 0;
  }
  auto* staging = static_cast<uint8_t*>(step_arena_.get()) + at;
  std::memcpy(staging, host, bytes);
  check_cuda(cudaMemcpyAsync(dst.data, staging, bytes, cudaMemcpyHostToDevice, stream_.get()),
             "cudaMemcpyAsync");
  step_arena_used_ = at + bytes;
}

void CudaBackend::download(void* host, const Tensor& src, size_t bytes) {
  activate();
  if (bytes > backend::dense_bytes(src.type, src.shape)) {
    fail(ErrorCode::invalid_argument, "download: {} bytes from a tensor of {}", bytes,
         backend::dense_bytes(src.type, src.shape));
  }
  if (bytes > 0) {
    check_cuda(cudaMemcpyAsync(host, src.data, bytes, cudaMemcpyDeviceToHost, stream_.get()),
               "cudaMemcpyAsync");
  }
  wait_and_check();
}

void CudaBackend::synchronize() {
  activate();
  wait_and_check();
}

void CudaBackend::wait_and_check() {
  check_cuda(cudaMemcpyAsync(error_host_.get(), error_device_.data(), sizeof(DeviceErrorWord),
                             cudaMemcpyDeviceToHost, stream_.get()),
             "cudaMemcpyAsync");
  check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");
  step_arena_used_ = 0;  // every staged upload has been consumed
  DeviceErrorWord word;
  std::memcpy(&word, error_host_.get(), sizeof word);
  if (word.code == kDeviceErrorNone) return;
  check_cuda(cudaMemsetAsync(error_device_.data(), 0, sizeof(DeviceErrorWord), stream_.get()),
             "cudaMemsetAsync");
  std::memset(error_host_.get(), 0, sizeof(DeviceErrorWord));
  fail(ErrorCode::invalid_argument, fmt::runtime(device_error_text(word.code)), word.a, word.b);
}

std::unique_ptr<backend::Backend> make_cuda_backend(int device) {
  return std::make_unique<CudaBackend>(device);
}

}  // namespace ingot::cuda
