#include "quant/types.h"

#include "core/checked_math.h"
#include "core/error.h"

#include <algorithm>
#include <array>
#include <cctype>

namespace ingot::quant {
namespace {

constexpr std::array kTypes = {
    TypeTraits{Type::F32, "F32", 1, 4},
    TypeTraits{Type::F16, "F16", 1, 2},
    TypeTraits{Type::Q4_0, "Q4_0", 32, 18},
    TypeTraits{Type::Q4_1, "Q4_1", 32, 20},
    TypeTraits{Type::Q5_0, "Q5_0", 32, 22},
    TypeTraits{Type::Q5_1, "Q5_1", 32, 24},
    TypeTraits{Type::Q8_0, "Q8_0", 32, 34},
    TypeTraits{Type::Q8_1, "Q8_1", 32, 36},
    TypeTraits{Type::Q2_K, "Q2_K", 256, 84},
    TypeTraits{Type::Q3_K, "Q3_K", 256, 110},
    TypeTraits{Type::Q4_K, "Q4_K", 256, 144},
    TypeTraits{Type::Q5_K, "Q5_K", 256, 176},
    TypeTraits{Type::Q6_K, "Q6_K", 256, 210},
    TypeTraits{Type::Q8_K, "Q8_K", 256, 292},
    TypeTraits{Type::IQ2_XXS, "IQ2_XXS", 256, 66},
    TypeTraits{Type::IQ2_XS, "IQ2_XS", 256, 74},
    TypeTraits{Type::IQ3_XXS, "IQ3_XXS", 256, 98},
    TypeTraits{Type::IQ1_S, "IQ1_S", 256, 50},
    TypeTraits{Type::IQ4_NL, "IQ4_NL", 32, 18},
    TypeTraits{Type::IQ3_S, "IQ3_S", 256, 110},
    TypeTraits{Type::IQ2_S, "IQ2_S", 256, 82},
    TypeTraits{Type::IQ4_XS, "IQ4_XS", 256, 136},
    TypeTraits{Type::I8, "I8", 1, 1},
    TypeTraits{Type::I16, "I16", 1, 2},
    TypeTraits{Type::I32, "I32", 1, 4},
    TypeTraits{Type::I64, "I64", 1, 8},
    TypeTraits{Type::F64, "F64", 1, 8},
    TypeTraits{Type::IQ1_M, "IQ1_M", 256, 56},
    TypeTraits{Type::BF16, "BF16", 1, 2},
    TypeTraits{Type::TQ1_0, "TQ1_0", 256, 54},
    TypeTraits{Type::TQ2_0, "TQ2_0", 256, 66},
    TypeTraits{Type::MXFP4, "MXFP4", 32, 17},
};

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) == std::toupper(static_cast<unsigned char>(y));
         });
}

}  // namespace

std::optional<TypeTraits> traits_of(uint32_t type_id) {
  for (const auto& t : kTypes) {
    if (static_cast<uint32_t>(t.type) == type_id) return t;
  }
  return std::nullopt;
}

const TypeTraits& traits(Type type) {
  for (const auto& t : kTypes) {
    if (t.type == type) return t;
  }
  fail(ErrorCode::internal, "type id {} missing from the type table", static_cast<uint32_t>(type));
}

std::optional<Type> type_from_name(std::string_view name) {
  for (const auto& t : kTypes) {
    if (iequals(t.name, name)) return t.type;
  }
  return std::nullopt;
}

std::string_view name(Type type) { return traits(type).name; }

std::span<const TypeTraits> all_types() { return kTypes; }

uint64_t row_bytes(Type type, uint64_t n_elements) {
  const TypeTraits& t = traits(type);
  if (n_elements % t.block_elements != 0) {
    fail(ErrorCode::invalid_file, "{} elements is not a multiple of the {} block size {}", n_elements,
         t.name, t.block_elements);
  }
  return checked_mul(n_elements / t.block_elements, t.block_bytes, "tensor row size");
}

}  // namespace ingot::quant
