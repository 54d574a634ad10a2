// `ingot quantize IN OUT TYPE [--threads N]`: rewrites a GGUF with its tensors converted to a
// recipe's types (quant/recipe.h: llama.cpp's per-tensor rules), metadata copied, and
// general.file_type / general.quantization_version set as llama.cpp sets them. One tensor is
// in memory at a time; its rows are converted in parallel on a ThreadPool, each row
// dequantized to floats and quantized again with the bit-exact reference quantizers.
#include "cli/commands.h"
#include "core/checked_math.h"
#include "core/error.h"
#include "core/progress_bar.h"
#include "core/thread_pool.h"
#include "gguf/file.h"
#include "gguf/writer.h"
#include "quant/quant.h"
#include "quant/recipe.h"

#include <fmt/format.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace ingot::cli {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION: the current block layouts

struct Options {
  std::string input, output, type;
  size_t n_threads = 0;
};

uint32_t metadata_u32(const gguf::File& file, const std::string& key) {
  try {
    return file.find_u32(key).value_or(0);
  } catch (const Error&) {
    return 0;  // per-layer arrays (some models) carry no single value: treat as unknown
  }
}

quant::ModelShape model_shape(const gguf::File& file) {
  const std::string arch(file.get_string_or("general.architecture", ""));
  quant::ModelShape m;
  m.n_layer = metadata_u32(file, arch + ".block_count");
  m.n_head = metadata_u32(file, arch + ".attention.head_count");
  m.n_head_kv = metadata_u32(file, arch + ".attention.head_count_kv");
  if (m.n_head_kv == 0) m.n_head_kv = m.n_head;
  m.n_expert = metadata_u32(file, arch + ".expert_count");
  m.is_falcon = arch == "falcon";
  return m;
}

// Converts one tensor into `out`: rows dequantized to floats, then quantized to `target`.
void convert_tensor(const gguf::Tensor& tensor, quant::Type target, std::span<uint8_t> out, ThreadPool& pool,
                    ProgressBar& progress) {
  const auto n_per_row = static_cast<uint64_t>(tensor.dims[0]);
  const uint64_t n_rows = tensor.n_elements / n_per_row;
  const uint64_t in_row_bytes = quant::row_bytes(tensor.type, n_per_row);
  const uint64_t out_row_bytes = quant::row_bytes(target, n_per_row);
  if (checked_mul(out_row_bytes, n_rows, "quantized tensor size") != out.size()) {
    fail(ErrorCode::internal, "tensor {}: output size mismatch", tensor.name);
  }
  const quant::TypeOps& from = quant::ops(tensor.type);
  const quant::TypeOps& to = quant::reference_ops(target);
  if (to.quantize_row == nullptr) fail(ErrorCode::unsupported, "cannot quantize to {}", quant::name(target));
  const std::string label(tensor.name);
  pool.parallel_ranges(n_rows, 16, [&](size_t begin, size_t end, size_t) {
    std::vector<float> row(n_per_row);
    for (size_t r = begin; r < end; ++r) {
      from.dequantize_row(tensor.data_ptr + r * in_row_bytes, row.data(), static_cast<int64_t>(n_per_row));
      to.quantize_row(row.data(), out.data() + r * out_row_bytes, static_cast<int64_t>(n_per_row));
    }
    progress.advance((end - begin) * n_per_row, label);
  });
}

void run_quantize(const Options& options) {
  const quant::Recipe& recipe = quant::find_recipe(options.type);
  const gguf::File input = gguf::File::open(options.input);

  std::vector<quant::TensorShape> shapes;
  uint64_t total_elements = 0;
  for (const gguf::Tensor& t : input.tensors()) {
    shapes.push_back({std::string(t.name), t.type, std::vector<int64_t>(t.dims.begin(), t.dims.begin() + t.n_dims)});
    total_elements += t.n_elements;
  }
  const std::vector<quant::TensorPlan> plan = quant::plan_quantization(recipe, shapes, model_shape(input));
  for (const quant::TensorPlan& p : plan) {
    const gguf::Tensor& t = input.tensors()[p.index];
    if (p.target != t.type && !quant::is_supported(t.type)) {
      fail(ErrorCode::unsupported, "tensor {} is {}, which ingot cannot convert (dequantize) yet", t.name,
           quant::name(t.type));
    }
  }

  gguf::Writer writer;
  for (const gguf::KeyValue& kv : input.metadata()) {
    if (kv.key.starts_with("split.")) continue;
    writer.set_value(kv.key, kv.value);
  }
  writer.set_u32("general.quantization_version", kQuantizationVersion);
  writer.set_u32("general.file_type", recipe.file_type);

  ThreadPool pool(options.n_threads);
  ProgressBar progress(fmt::format("quantize {}", recipe.name), total_elements);
  uint64_t bytes_before = 0, bytes_after = 0;
  int n_fallback = 0;
  for (const quant::TensorPlan& p : plan) {
    const gguf::Tensor& t = input.tensors()[p.index];
    const std::span<const int64_t> dims = t.shape();
    bytes_before += t.n_bytes;
    n_fallback += p.fell_back ? 1 : 0;
    if (p.fell_back) {
      fmt::print(stderr, "warning: {}: row length {} does not fit the mix's block size, using {}\n", t.name,
                 t.dims[0], quant::name(p.target));
    }
    if (p.target == t.type) {
      bytes_after += t.n_bytes;
      writer.add_tensor(t.name, t.type, dims, [&t, &progress](std::span<uint8_t> out) {
        std::memcpy(out.data(), t.data_ptr, out.size());
        progress.advance(t.n_elements, std::string(t.name));
      });
    } else {
      bytes_after += checked_mul(quant::row_bytes(p.target, static_cast<uint64_t>(t.dims[0])),
                                 t.n_elements / static_cast<uint64_t>(t.dims[0]), "quantized tensor size");
      writer.add_tensor(t.name, p.target, dims, [&t, &pool, &progress, target = p.target](std::span<uint8_t> out) {
        convert_tensor(t, target, out, pool, progress);
      });
    }
  }
  writer.write(options.output);
  progress.finish();

  const auto mb = [](uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); };
  const auto bpw = [&](uint64_t bytes) {
    return total_elements ? static_cast<double>(bytes) * 8.0 / static_cast<double>(total_elements) : 0.0;
  };
  fmt::print("quantized {} tensors to {} ({} threads)\n", plan.size(), recipe.name, pool.n_threads());
  fmt::print("  size before: {:10.2f} MB ({:.2f} bits per weight)\n", mb(bytes_before), bpw(bytes_before));
  fmt::print("  size after:  {:10.2f} MB ({:.2f} bits per weight)\n", mb(bytes_after), bpw(bytes_after));
  if (n_fallback > 0) fmt::print("  {} tensor(s) used a fallback type\n", n_fallback);
  fmt::print("wrote {}\n", options.output);
}

}  // namespace

void register_quantize(CLI::App& app) {
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("quantize", "convert a GGUF's tensors to a quantization mix");
  cmd->add_option("input", options->input, "input GGUF file")->required();
  cmd->add_option("output", options->output, "output GGUF file")->required();
  cmd->add_option("type", options->type, "mix: " + quant::recipe_names())->required();
  cmd->add_option("-t,--threads", options->n_threads, "worker threads (0: one per core)")->capture_default_str();
  cmd->callback([options] { run_quantize(*options); });
}

}  // namespace ingot::cli
