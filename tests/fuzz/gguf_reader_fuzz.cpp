// libFuzzer target for gguf::File: opens arbitrary bytes, then walks every metadata value
// (through the typed accessors too) and touches every byte of every tensor's data. The only
// exception allowed out of the reader is ingot::Error; anything else, and any sanitizer report,
// is a finding.
#include "core/error.h"
#include "gguf/file.h"

#include <cstddef>
#include <cstdint>
#include <span>

namespace {

uint64_t walk(const ingot::gguf::Value& v, int depth) {
  using ingot::gguf::ValueType;
  uint64_t sum = static_cast<uint64_t>(v.type()) + static_cast<uint64_t>(depth);
  if (!v.is_array()) {
    switch (v.type()) {
      case ValueType::string: return sum + v.as_string().size();
      case ValueType::boolean: return sum + v.as_bool();
      case ValueType::float32:
      case ValueType::float64: return sum + (v.as_f64() > 0 ? 1 : 0);
      default: {
        try {
          sum += v.as_u64();
        } catch (const ingot::Error&) {  // a negative signed value
          sum += static_cast<uint64_t>(v.as_i64());
        }
        return sum;
      }
    }
  }
  if (v.element_type() == ValueType::array) {
    for (const auto& item : v.arrays()) sum += walk(item, depth + 1);
  } else if (v.element_type() == ValueType::string) {
    for (auto s : v.strings()) sum += s.size() + (s.empty() ? 0 : static_cast<uint8_t>(s.back()));
  } else {
    for (uint8_t b : v.raw_items()) sum += b;
    for (uint64_t i = 0; i < v.size() && i < 64; ++i) sum += walk(v.element(i), depth + 1);
  }
  return sum;
}

template <typename F>
void swallow_error(F&& f) {
  try {
    f();
  } catch (const ingot::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  volatile uint64_t sink = 0;
  try {
    const auto file = ingot::gguf::File::from_bytes(std::span<const uint8_t>(data, size));
    for (const auto& kv : file.metadata()) {
      sink = sink + walk(kv.value, 0) + kv.key.size();
      const auto key = kv.key;
      swallow_error([&] { sink = sink + file.get_u32(key); });
      swallow_error([&] { sink = sink + static_cast<uint64_t>(file.get_i64(key)); });
      swallow_error([&] { sink = sink + (file.get_f32(key) > 0); });
      swallow_error([&] { sink = sink + file.get_string(key).size(); });
      swallow_error([&] { sink = sink + file.get_string_array(key).size(); });
      swallow_error([&] { sink = sink + file.get_i32_array(key).size(); });
      swallow_error([&] { sink = sink + file.get_u32_array(key).size(); });
      swallow_error([&] { sink = sink + file.get_f32_array(key).size(); });
    }
    for (const auto& t : file.tensors()) {
      if (file.find_tensor(t.name) != &t) __builtin_trap();
      for (uint8_t b : t.data()) sink = sink + b;
    }
  } catch (const ingot::Error&) {
  }
  return 0;
}
