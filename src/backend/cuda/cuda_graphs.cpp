// CudaBackend's decode-step graphs: run_captured(key, ops) records the ops enqueued by `ops` on
// the compute stream into a CUDA graph the first time `key` is seen (stream capture, thread-
// local mode, so an unsafe call inside fails instead of hanging), instantiates it, and from then
// on launches the instantiated graph: one launch instead of hundreds. cuBLAS gets a fixed
// workspace so its calls capture without allocating. reserve() drops every graph (workspace
// pointers may have moved); INGOT_CUDA_GRAPHS=0 or set_graphs_enabled(false) turns graphs off
// (ops then run directly). Memory: one graph exec per key (at most kMaxGraphs; then all are
// dropped and re-recorded), a 32 MiB cuBLAS workspace.
#include <cstdlib>
#include <cstring>
#include <unordered_map>

#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"
#include "core/error.h"

namespace ingot::cuda {
namespace {

constexpr size_t kMaxGraphs = 64;
constexpr size_t kCublasWorkspace = size_t{32} << 20;

struct GraphExecDeleter {
  void operator()(cudaGraphExec_t g) const noexcept { (void)cudaGraphExecDestroy(g); }
};
using GraphExecHandle = std::unique_ptr<CUgraphExec_st, GraphExecDeleter>;

bool graphs_enabled_by_env() {
  const char* v = std::getenv("INGOT_CUDA_GRAPHS");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

}  // namespace

struct CudaBackend::GraphState {
  bool enabled = graphs_enabled_by_env();
  bool capturing = false;
  Buffer cublas_workspace;
  std::unordered_map<uint64_t, GraphExecHandle> graphs;
};

bool CudaBackend::captures_ops() const noexcept { return graphs_ != nullptr && graphs_->enabled; }

size_t CudaBackend::n_captured() const noexcept { return graphs_ != nullptr ? graphs_->graphs.size() : 0; }

void CudaBackend::forget_captured() {
  activate();
  if (graphs_ == nullptr) {
    auto state = std::make_shared<GraphState>();
    state->cublas_workspace = alloc(kCublasWorkspace);
    check_cublas(cublasSetWorkspace(cublas_.get(), state->cublas_workspace.data(), kCublasWorkspace),
                 "cublasSetWorkspace");
    graphs_ = std::move(state);
  }
  if (graphs_->capturing) fail(ErrorCode::internal, "cuda graphs: forget_captured() inside a capture");
  if (!graphs_->graphs.empty()) {
    // A graph may still be running: its exec must outlive the launch.
    check_cuda(cudaStreamSynchronize(stream_.get()), "cudaStreamSynchronize");
    graphs_->graphs.clear();
  }
}

void CudaBackend::set_graphs_enabled(bool on) {
  forget_captured();
  graphs_->enabled = on;
}

void CudaBackend::run_captured(uint64_t key, const std::function<void()>& ops) {
  activate();
  if (!captures_ops()) {
    ops();
    return;
  }
  GraphState& g = *graphs_;
  if (g.capturing) fail(ErrorCode::internal, "cuda graphs: run_captured() inside a capture");
  auto it = g.graphs.find(key);
  if (it == g.graphs.end()) {
    if (g.graphs.size() >= kMaxGraphs) forget_captured();
    cudaStream_t s = stream_.get();
    check_cuda(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), "cudaStreamBeginCapture");
    g.capturing = true;
    cudaGraph_t graph = nullptr;
    try {
      ops();
    } catch (...) {
      (void)cudaStreamEndCapture(s, &graph);
      if (graph != nullptr) (void)cudaGraphDestroy(graph);
      (void)cudaGetLastError();  // the failed capture's sticky status, if any
      g.capturing = false;
      throw;
    }
    g.capturing = false;
    check_cuda(cudaStreamEndCapture(s, &graph), "cudaStreamEndCapture");
    cudaGraphExec_t exec = nullptr;
    const cudaError_t status = cudaGraphInstantiate(&exec, graph, 0);
    (void)cudaGraphDestroy(graph);
    check_cuda(status, "cudaGraphInstantiate");
    it = g.graphs.emplace(key, GraphExecHandle(exec)).first;
  }
  check_cuda(cudaGraphLaunch(it->second.get(), stream_.get()), "cudaGraphLaunch");
}

}  // namespace ingot::cuda
