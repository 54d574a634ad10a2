// Writes small valid GGUF files as the fuzzer's seed corpus when INGOT_GGUF_SEED_DIR is set:
//   INGOT_GGUF_SEED_DIR=build/fuzz/seeds build/<dir>/tests/ingot_gguf_tests --gtest_filter='FuzzSeeds.*'
// Otherwise it skips. Each seed also reopens cleanly, so the corpus starts from valid files.
#include "gguf/file.h"
#include "gguf/writer.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace ingot::gguf {
namespace {

std::vector<std::pair<std::string, Writer>> seeds() {
  std::vector<std::pair<std::string, Writer>> out;
  {
    Writer w;
    w.set_string("general.architecture", "llama");
    w.set_u32("llama.block_count", 2);
    w.set_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.set_bool("tokenizer.ggml.add_bos_token", true);
    const std::vector<std::string> tokens{"<unk>", "<s>", "</s>", "▁hello", "ünï", ""};
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    const std::vector<float> scores{0, 0, 0, -1.5f, -2, -3};
    w.set_array("tokenizer.ggml.scores", Array::of<float>(scores));
    const std::vector<int32_t> types{2, 3, 3, 1, 1, 1};
    w.set_array("tokenizer.ggml.token_type", Array::of<int32_t>(types));
    const int64_t dims[] = {32, 2};
    w.add_tensor("blk.0.attn_q.weight", quant::Type::Q8_0, dims, std::vector<uint8_t>(2 * 34, 7));
    w.add_tensor("output_norm.weight", quant::Type::F32, dims, std::vector<uint8_t>(64 * 4, 1));
    out.emplace_back("model", std::move(w));
  }
  {
    Writer w;
    w.set_u8("u8", 1);
    w.set_i8("i8", -1);
    w.set_u16("u16", 2);
    w.set_i16("i16", -2);
    w.set_i32("i32", -3);
    w.set_u64("u64", 4);
    w.set_i64("i64", -4);
    w.set_f64("f64", 0.5);
    w.set_string("s", "");
    const std::vector<uint32_t> u32s{1, 2};
    const std::vector<Array> nested{Array::of<uint32_t>(u32s), Array::of_arrays(std::vector<Array>{Array::of<uint32_t>(u32s)})};
    w.set_array("nested", Array::of_arrays(nested));
    const bool bools[] = {true, false};
    w.set_array("bools", Array::of_bools(bools));
    out.emplace_back("every_type", std::move(w));
  }
  {
    Writer w;
    w.set_alignment(64);
    for (const auto& t : quant::all_types()) {
      const int64_t dims[] = {static_cast<int64_t>(t.block_elements)};
      w.add_tensor(std::string(t.name), t.type, dims, std::vector<uint8_t>(t.block_bytes, 0x5a));
    }
    out.emplace_back("every_tensor_type", std::move(w));
  }
  out.emplace_back("empty", Writer{});
  return out;
}

TEST(FuzzSeeds, WriteWhenAsked) {
  const char* dir = std::getenv("INGOT_GGUF_SEED_DIR");
  if (dir == nullptr) GTEST_SKIP() << "set INGOT_GGUF_SEED_DIR to write the fuzz seed corpus";
  std::filesystem::create_directories(dir);
  for (const auto& [name, writer] : seeds()) {
    const std::string path = std::string(dir) + "/" + name + ".gguf";
    writer.write(path);
    EXPECT_NO_THROW(File::open(path)) << path;
  }
}

}  // namespace
}  // namespace ingot::gguf
