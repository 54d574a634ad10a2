// `ingot inspect FILE [--json]`: what a GGUF file holds — metadata (long arrays and strings
// abbreviated in text mode), the tensor table (name, type, shape, bytes) and totals (tensors,
// parameters, bytes, bits per weight). --json prints one JSON object for scripts and tests:
// scalars and arrays up to --array-items in full, longer arrays as {count, items, truncated}.
#include "cli/commands.h"
#include "core/error.h"
#include "gguf/file.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>

namespace ingot::cli {
namespace {

using gguf::Value;
using gguf::ValueType;

std::string type_label(const Value& v) {
  if (!v.is_array()) return std::string(gguf::to_string(v.type()));
  return fmt::format("[{}; {}]", gguf::to_string(v.element_type()), v.size());
}

// Quotes and escapes text for a terminal, cutting it after max_chars bytes.
std::string quoted(std::string_view s, size_t max_chars) {
  std::string out = "\"";
  const size_t n = std::min(s.size(), max_chars);
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') out += fmt::format("\\{}", static_cast<char>(c));
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) out += fmt::format("\\x{:02x}", c);
    else out += static_cast<char>(c);
  }
  out += "\"";
  if (n < s.size()) out += fmt::format("... ({} bytes)", s.size());
  return out;
}

std::string scalar_text(const Value& v) {
  switch (v.type()) {
    case ValueType::float32: return fmt::format("{}", v.as_f32());
    case ValueType::float64: return fmt::format("{}", v.as_f64());
    case ValueType::boolean: return v.as_bool() ? "true" : "false";
    case ValueType::string: return quoted(v.as_string(), 72);
    case ValueType::uint64:
    case ValueType::uint32:
    case ValueType::uint16:
    case ValueType::uint8: return fmt::format("{}", v.as_u64());
    default: return fmt::format("{}", v.as_i64());
  }
}

std::string value_text(const Value& v, size_t max_items) {
  if (!v.is_array()) return scalar_text(v);
  const uint64_t shown = std::min<uint64_t>(v.size(), max_items);
  std::string out = "[";
  for (uint64_t i = 0; i < shown; ++i) {
    if (i > 0) out += ", ";
    if (v.element_type() == ValueType::array) out += value_text(v.arrays()[i], max_items);
    else if (v.element_type() == ValueType::string) out += quoted(v.strings()[i], 24);
    else out += scalar_text(v.element(i));
  }
  if (shown < v.size()) out += fmt::format(", ... ({} items)", v.size());
  return out + "]";
}

nlohmann::json scalar_json(const Value& v) {
  switch (v.type()) {
    case ValueType::float32:
    case ValueType::float64: return v.as_f64();
    case ValueType::boolean: return v.as_bool();
    case ValueType::string: return std::string(v.as_string());
    case ValueType::uint64:
    case ValueType::uint32:
    case ValueType::uint16:
    case ValueType::uint8: return v.as_u64();
    default: return v.as_i64();
  }
}

nlohmann::json value_json(const Value& v, uint64_t max_items) {
  if (!v.is_array()) return scalar_json(v);
  const uint64_t shown = max_items == 0 ? v.size() : std::min<uint64_t>(v.size(), max_items);
  nlohmann::json items = nlohmann::json::array();
  for (uint64_t i = 0; i < shown; ++i) {
    items.push_back(v.element_type() == ValueType::array ? value_json(v.arrays()[i], max_items)
                                                         : scalar_json(v.element(i)));
  }
  if (shown == v.size()) return items;
  return {{"count", v.size()}, {"items", std::move(items)}, {"truncated", true}};
}

std::string shape_text(const gguf::Tensor& t) {
  std::string out = "[";
  for (uint32_t d = 0; d < t.n_dims; ++d) out += fmt::format("{}{}", d ? ", " : "", t.dims[d]);
  return out + "]";
}

std::string human_bytes(uint64_t n) {
  if (n < 1024) return fmt::format("{} B", n);
  if (n < (1ull << 20)) return fmt::format("{:.1f} KiB", n / 1024.0);
  if (n < (1ull << 30)) return fmt::format("{:.1f} MiB", n / 1048576.0);
  return fmt::format("{:.2f} GiB", n / 1073741824.0);
}

struct Totals {
  uint64_t n_parameters = 0;
  uint64_t n_bytes = 0;
  double bits_per_weight() const { return n_parameters == 0 ? 0.0 : 8.0 * n_bytes / n_parameters; }
};

Totals totals_of(const gguf::File& file) {
  Totals t;
  for (const auto& tensor : file.tensors()) {  // both bounded by the file size: no overflow
    t.n_parameters += tensor.n_elements;
    t.n_bytes += tensor.n_bytes;
  }
  return t;
}

void print_text(const gguf::File& file, size_t max_items) {
  fmt::print("file: {}\n", file.path());
  fmt::print("GGUF v{}, {} ({} bytes), alignment {}, data section at offset {}\n", file.version(),
             human_bytes(file.bytes().size()), file.bytes().size(), file.alignment(), file.data_offset());
  size_t key_width = 0;
  for (const auto& kv : file.metadata()) key_width = std::max(key_width, kv.key.size());
  key_width = std::min<size_t>(key_width, 48);
  fmt::print("\nmetadata ({} keys):\n", file.metadata().size());
  for (const auto& kv : file.metadata()) {
    fmt::print("  {:<{}}  {:<16}  {}\n", kv.key, key_width, type_label(kv.value), value_text(kv.value, max_items));
  }
  size_t name_width = 4;
  for (const auto& t : file.tensors()) name_width = std::max(name_width, t.name.size());
  fmt::print("\ntensors ({}):\n", file.tensors().size());
  if (!file.tensors().empty()) {
    fmt::print("  {:<{}}  {:<8}  {:<28}  {:>14}\n", "name", name_width, "type", "shape", "bytes");
  }
  for (const auto& t : file.tensors()) {
    fmt::print("  {:<{}}  {:<8}  {:<28}  {:>14}\n", t.name, name_width, quant::name(t.type), shape_text(t), t.n_bytes);
  }
  const Totals totals = totals_of(file);
  fmt::print("\ntotals: {} tensors, {} parameters, {} bytes ({}), {:.3f} bits per weight\n", file.tensors().size(),
             totals.n_parameters, totals.n_bytes, human_bytes(totals.n_bytes), totals.bits_per_weight());
}

void print_json(const gguf::File& file, size_t max_items) {
  nlohmann::json metadata = nlohmann::json::object();
  nlohmann::json types = nlohmann::json::object();
  for (const auto& kv : file.metadata()) {
    const std::string key(kv.key);
    metadata[key] = value_json(kv.value, max_items);
    types[key] = kv.value.is_array() ? fmt::format("array[{}]", gguf::to_string(kv.value.element_type()))
                                     : std::string(gguf::to_string(kv.value.type()));
  }
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& t : file.tensors()) {
    tensors.push_back({{"name", std::string(t.name)},
                       {"type", std::string(quant::name(t.type))},
                       {"shape", std::vector<int64_t>(t.shape().begin(), t.shape().end())},
                       {"n_elements", t.n_elements},
                       {"bytes", t.n_bytes},
                       {"offset", t.offset}});
  }
  const Totals totals = totals_of(file);
  const nlohmann::json out = {
      {"file", file.path()},
      {"version", file.version()},
      {"size", file.bytes().size()},
      {"alignment", file.alignment()},
      {"data_offset", file.data_offset()},
      {"array_items_limit", max_items},
      {"metadata", std::move(metadata)},
      {"metadata_types", std::move(types)},
      {"tensors", std::move(tensors)},
      {"totals",
       {{"tensors", file.tensors().size()},
        {"parameters", totals.n_parameters},
        {"bytes", totals.n_bytes},
        {"bits_per_weight", totals.bits_per_weight()}}},
  };
  // Vocabularies may hold bytes that are not UTF-8: replace them rather than fail.
  fmt::print("{}\n", out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

void register_inspect(CLI::App& app) {
  struct Options {
    std::string path;
    bool json = false;
    size_t array_items = 0;
    bool array_items_set = false;
  };
  auto options = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand("inspect", "show a GGUF file's metadata, tensors, types and sizes");
  cmd->add_option("file", options->path, "GGUF file")->required();
  cmd->add_flag("--json", options->json, "print one JSON object");
  cmd->add_option("--array-items", options->array_items,
                  "array items to show before abbreviating (default: 8 in text, 64 in JSON; 0: all)")
      ->each([options](const std::string&) { options->array_items_set = true; });
  cmd->callback([options] {
    const gguf::File file = gguf::File::open(options->path);
    if (options->json) {
      print_json(file, options->array_items_set ? options->array_items : 64);
    } else {
      const size_t n = options->array_items_set ? options->array_items : 8;
      print_text(file, n == 0 ? SIZE_MAX : n);
    }
  });
}

}  // namespace ingot::cli
