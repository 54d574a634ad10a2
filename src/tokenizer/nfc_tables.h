// The Unicode data behind NFC (generated into nfc_tables.cpp by gen_nfc_tables.py): canonical
// decompositions (one step each; `composes` marks primary composites, i.e. not excluded from
// composition) and non-zero canonical combining classes, both sorted by code point.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ingot::tokenizer::nfc_data {

struct Decomposition {
  uint32_t cp;
  uint32_t first;
  uint32_t second;  // 0 for a singleton decomposition
  bool composes;
};

struct CombiningClass {
  uint32_t cp;
  uint8_t ccc;
};

extern const char* const unicode_version;
extern const Decomposition decompositions[];
extern const size_t n_decompositions;
extern const CombiningClass combining_classes[];
extern const size_t n_combining_classes;

}  // namespace ingot::tokenizer::nfc_data
