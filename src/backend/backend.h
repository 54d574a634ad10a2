// Backend: the op interface the model code is written against once, implemented by the CPU
// backend (the fallback and the reference) and the CUDA backend. Memory is allocated only at
// load/plan time (alloc, upload_weight, alloc_kv_pool, reserve); every op writes into views the
// caller planned, so a forward pass allocates nothing. Ops are enqueued in call order on the
// backend's one stream: on CUDA they return before the work is done and host memory given to
// `upload` must stay valid until `synchronize()`; on the CPU every op has finished on return.
// Shapes are written [ne0, ne1] = [row length, rows]; activations are F32, indices I32.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string_view>

#include "backend/buffer.h"
#include "backend/kv_pool.h"
#include "backend/rope.h"
#include "backend/sampling.h"
#include "backend/tensor.h"

namespace ingot::backend {

// Upper bounds of one forward step, given once after load so backends can size their scratch
// (the CUDA backend plans its workspace from it; the CPU backend pre-grows its scratch).
struct WorkspacePlan {
  int64_t max_tokens = 0;        // query rows per step
  int64_t max_row_elements = 0;  // the largest matmul inner dimension k (and embedding width)
  int64_t max_context = 0;       // the longest sequence attention will see
  int64_t max_logit_rows = 0;    // rows that need logits per step
  int64_t n_vocab = 0;           // logit row width (sizes the device sampler's scratch)
};

// A KV pool and the buffers that own its memory.
struct KvPoolStorage {
  Buffer k_buffer;
  Buffer v_buffer;
  KvPool pool;
};

// Bytes a weight takes in a GPU weight arena: its dense size rounded up to 256.
uint64_t weight_arena_bytes(quant::Type type, Shape shape);
inline constexpr uint64_t kWeightArenaAlignment = 256;

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const noexcept = 0;

  // --- memory (load / plan time) ---
  // Backend memory of `bytes` bytes, 64-byte aligned, contents unspecified.
  virtual Buffer alloc(size_t bytes) = 0;
  // A dense tensor view over a fresh buffer (the buffer is returned through `storage`).
  Tensor alloc_tensor(quant::Type type, Shape shape, Buffer& storage);
  // Makes a weight usable by ops. `host` holds dense rows of `type`; `keep_alive` owns it (the
  // mapped GGUF file). The CPU backend references the bytes in place and keeps `keep_alive`
  // for its own lifetime; a GPU backend copies them into device memory.
  virtual Tensor upload_weight(const void* host, quant::Type type, Shape shape,
                               std::shared_ptr<const void> keep_alive) = 0;
  // Optional bracket around a model's upload_weight calls. begin_weights gets the total of
  // weight_arena_bytes() over the tensors that follow; a GPU backend allocates them one arena
  // and streams the uploads into it (a weight is then usable once end_weights() returned), and
  // returns true: it copies, so the loader shows progress and the load time. The CPU backend
  // uses the mapped bytes in place and returns false. end_weights waits for every copy.
  virtual bool begin_weights(uint64_t total_bytes) {
    (void)total_bytes;
    return false;
  }
  virtual void end_weights() {}
  // Zero-filled K and V pools of the given layout.
  virtual KvPoolStorage alloc_kv_pool(const KvPoolShape& shape) = 0;
  // Sizes the scratch ops need for steps within `plan`.
  virtual void reserve(const WorkspacePlan& plan) = 0;

  // --- transfers ---
  // Copies `bytes` host bytes into dst (asynchronous on a GPU: keep `host` alive until
  // synchronize()). Used each step for token ids, positions, slot mapping, block tables.
  virtual void upload(const Tensor& dst, const void* host, size_t bytes) = 0;
  // Copies `bytes` of src to host after all enqueued work finished (waits).
  virtual void download(void* host, const Tensor& src, size_t bytes) = 0;
  // Waits for all enqueued work.
  virtual void synchronize() = 0;

  // --- ops (out may alias an input only where stated) ---
  // out[d, n] = dequantized rows ids[n] of weight[d, vocab] (weight of any computable type).
  virtual void embed(const Tensor& ids, const Tensor& weight, const Tensor& out) = 0;
  // out = x / rms(x) * weight, per row; weight F32 [d]. out may alias x.
  virtual void rms_norm(const Tensor& x, const Tensor& weight, float eps, const Tensor& out) = 0;
  // residual += x; out = rms_norm(residual) * weight. out may alias x.
  virtual void add_rms_norm(const Tensor& residual, const Tensor& x, const Tensor& weight,
                            float eps, const Tensor& out) = 0;
  // In place on x[n_heads * head_dim, n_tokens] (any row stride: a view into a fused QKV output),
  // positions I32 [n_tokens]. The table comes from make_rope_table once at load.
  virtual void rope(const Tensor& x, const Tensor& positions, const RopeTable& table) = 0;
  // out[n_out, n_tokens] = x[k, n_tokens] * w[k, n_out]^T (+ bias F32 [n_out]). Quantized w:
  // activations are quantized once per call to w's vec_dot_type and dotted in integers.
  virtual void matmul(const Tensor& x, const Tensor& w, const Tensor* bias, const Tensor& out) = 0;
  // Stores k, v [n_kv_heads * head_dim, n_tokens] of `layer` at slot_mapping I32 [n_tokens]
  // (slot = block * block_size + offset; a negative slot skips that token).
  virtual void write_kv(const KvPool& pool, int64_t layer, const Tensor& k, const Tensor& v,
                        const Tensor& slot_mapping) = 0;
  // out[n_heads * head_dim, n_tokens] = softmax(scale * q k^T) v over each query's sequence in
  // the pool, causal inside a chunk, GQA by n_heads / n_kv_heads. scale <= 0 means
  // 1/sqrt(head_dim). Prefill chunks and decodes of many sequences in one call.
  virtual void attention(const Tensor& q, const KvPool& pool, int64_t layer,
                         const AttentionBatch& batch, float scale, const Tensor& out) = 0;
  // Copies whole blocks (all layers, K and V): pairs I32 [2, n_pairs] rows of (src, dst).
  virtual void copy_blocks(const KvPool& pool, const Tensor& pairs) = 0;
  // out = silu(gate) * up. out may alias gate or up.
  virtual void swiglu(const Tensor& gate, const Tensor& up, const Tensor& out) = 0;
  // out = gelu(x) (tanh approximation). out may alias x.
  virtual void gelu(const Tensor& x, const Tensor& out) = 0;
  // out = a + b. out may alias a or b.
  virtual void add(const Tensor& a, const Tensor& b, const Tensor& out) = 0;
  // out = x * factor. out may alias x.
  virtual void scale(const Tensor& x, float factor, const Tensor& out) = 0;
  // out[vocab, n_rows] = matmul(rms_norm(hidden[rows[i]]) * norm_weight, output_weight) for
  // row ids rows I32 [n_rows]: the final norm and LM head on only the rows that need logits.
  virtual void logits(const Tensor& hidden, const Tensor& rows, const Tensor& norm_weight,
                      float eps, const Tensor& output_weight, const Tensor& out) = 0;

  // --- fused ops: each default runs the ops above; a backend may do the same in fewer passes
  //     (the CUDA backend: one activation quantization and one launch for a decode step) ---
  // outs[i] = matmul(x, ws[i], biases[i]) for every target (Q, K and V of one input).
  struct MatmulTarget {
    const Tensor* w;
    const Tensor* bias;  // or null
    const Tensor* out;
  };
  virtual void matmul_many(const Tensor& x, std::span<const MatmulTarget> targets);
  // The SwiGLU FFN's first half: gate = silu(matmul(x, w_gate)) * matmul(x, w_up). `up` is
  // scratch of gate's shape whose contents are unspecified afterwards.
  virtual void matmul_swiglu(const Tensor& x, const Tensor& w_gate, const Tensor& w_up,
                             const Tensor& gate, const Tensor& up);
  // rope(q), rope(k), then write_kv(pool, layer, k, v, slot_mapping).
  virtual void rope_write_kv(const Tensor& q, const Tensor& k, const Tensor& v,
                             const Tensor& positions, const RopeTable& table, const KvPool& pool,
                             int64_t layer, const Tensor& slot_mapping);

  // --- captured op sequences (decode steps; docs/CUDA.md "Graphs") ---
  // True when run_captured() records and replays (CUDA graphs, unless INGOT_CUDA_GRAPHS=0):
  // the model then pads decode steps to fixed batch buckets so one recording serves many steps.
  virtual bool captures_ops() const noexcept { return false; }
  // Runs `ops`, which may only enqueue ops (no upload, download or synchronize). A capturing
  // backend records them the first time it sees `key` and replays that recording for later
  // calls with the same key: every pointer, shape and scalar the ops pass must then be the
  // same, and values that change per step must be read by kernels from device memory uploaded
  // before the call. The CPU backend simply runs them.
  virtual void run_captured(uint64_t key, const std::function<void()>& ops) {
    (void)key;
    ops();
  }
  // Drops every recording (their pointers may be stale); reserve() does it too.
  virtual void forget_captured() {}

  // --- sampling on the device (backend/sampling.h) ---
  // True when sample() works: the engine then keeps logits on the device.
  virtual bool samples_on_device() const noexcept { return false; }
  // Picks one token for each batch row from logits [n_vocab, n_logit_rows] and writes out[i]
  // (out.size() == batch.rows.size()); waits for the result. Default: Error(unsupported).
  virtual void sample(const Tensor& logits, const SampleBatch& batch, std::span<SampledToken> out);
};

}  // namespace ingot::backend
