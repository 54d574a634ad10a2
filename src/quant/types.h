// The GGUF tensor type ids (the ggml type enum, a public fact of the file format) and, for each,
// its name, elements per block and bytes per block. Every size computed from a file goes
// through row_bytes/tensor_bytes here, which are overflow-checked. Types we can read but not
// compute with are still listed so `inspect` can describe any file.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace ingot::quant {

enum class Type : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

struct TypeTraits {
  Type type;
  std::string_view name;     // as llama.cpp prints it: "Q4_K", "F16", ...
  uint32_t block_elements;   // elements per block (1 for plain types)
  uint32_t block_bytes;      // bytes per block
};

// Traits of a known type id, or nullopt for an id no GGUF writer uses.
std::optional<TypeTraits> traits_of(uint32_t type_id);
// Traits of a known Type (always present).
const TypeTraits& traits(Type type);
// Looks a type up by name, case-insensitively ("q4_k" -> Q4_K).
std::optional<Type> type_from_name(std::string_view name);
std::string_view name(Type type);
// Every known type, in id order.
std::span<const TypeTraits> all_types();

// Bytes of one row of n_elements; throws Error(invalid_file) when n_elements is not a multiple
// of the block size or the size overflows.
uint64_t row_bytes(Type type, uint64_t n_elements);

}  // namespace ingot::quant
