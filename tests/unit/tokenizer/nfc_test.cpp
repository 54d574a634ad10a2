// NFC against known answers: composition, canonical ordering, Hangul, singletons, exclusions.
#include "tokenizer/nfc.h"

#include <gtest/gtest.h>

namespace ingot::tokenizer {
namespace {

TEST(Nfc, ComposesDecomposedLetters) {
  EXPECT_EQ(to_nfc("Cafe\u0301"), "Caf\u00e9");
  EXPECT_EQ(to_nfc("e\u0301\u0301"), "\u00e9\u0301");
  EXPECT_EQ(to_nfc("A\u030a"), "\u00c5");
}

TEST(Nfc, OrdersMarksByCombiningClass) {
  // q + dot above (230) + dot below (220) -> q + dot below + dot above
  EXPECT_EQ(to_nfc("q\u0307\u0323"), "q\u0323\u0307");
  // s + dot below + dot above composes fully to U+1E69
  EXPECT_EQ(to_nfc("s\u0307\u0323"), "\u1e69");
}

TEST(Nfc, HangulJamoCompose) {
  EXPECT_EQ(to_nfc("\u1100\u1161\u11a8"), "\uac01");
  EXPECT_EQ(to_nfc("\u1100\u1161"), "\uac00");
  EXPECT_EQ(to_nfc("\uac00\u11a8"), "\uac01");
}

TEST(Nfc, SingletonsAndExclusions) {
  EXPECT_EQ(to_nfc("\u2126"), "\u03a9");                // OHM SIGN -> GREEK CAPITAL OMEGA
  EXPECT_EQ(to_nfc("\u212b"), "\u00c5");                // ANGSTROM SIGN
  EXPECT_EQ(to_nfc("\u0958"), "\u0915\u093c");          // excluded from composition
  EXPECT_EQ(to_nfc("\ufb01"), "\ufb01");                // a compatibility ligature: NFC keeps it
}

TEST(Nfc, LeavesNormalizedTextAlone) {
  for (const char* s : {"plain ASCII", "\u00e9t\u00e9", "\u4e2d\u6587", "\U0001f999 \u0627\u0644\u0639\u0631\u0628\u064a\u0629", ""}) {
    EXPECT_EQ(to_nfc(s), s);
  }
  EXPECT_FALSE(may_need_nfc("abc \u00e9"));
  EXPECT_TRUE(may_need_nfc("e\u0301"));
}

}  // namespace
}  // namespace ingot::tokenizer
