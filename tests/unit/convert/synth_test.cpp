// `ingot synth` (convert::synthesize) on the tiny presets: the file opens and validates as a
// model, every tensor has the shape the architecture expects and the type the recipe gives it,
// the vocabulary has the preset's size, and the model generates (finite logits, a greedy
// continuation of in-vocabulary ids). Bad arguments (unknown preset or type, unwritable path)
// are Errors that name the problem. A few MB per file; a few seconds in all.
#include "backend/cpu/cpu_backend.h"
#include "convert/converter.h"
#include "convert/synth.h"
#include "core/error.h"
#include "gguf/file.h"
#include "model/arch.h"
#include "model/model.h"
#include "model/sequence_runner.h"
#include "quant/recipe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

namespace ingot::convert {
namespace {

namespace fs = std::filesystem;

fs::path work_dir() {
  const fs::path dir = fs::path(INGOT_BINARY_DIR) / "synth_test";
  fs::create_directories(dir);
  return dir;
}

SynthOptions options_for(const std::string& preset, const std::string& type) {
  SynthOptions o;
  o.preset = preset;
  o.type = type;
  o.out_path = (work_dir() / (preset + "-" + type + ".gguf")).string();
  o.n_threads = 2;
  o.progress = false;
  return o;
}

// The type the recipe gives each tensor of `specs` (what synthesize() should have written).
std::vector<quant::Type> planned_types(const HfConfig& cfg, const quant::Recipe& recipe,
                                       const std::vector<model::TensorSpec>& specs) {
  std::vector<quant::TensorShape> shapes;
  for (const auto& spec : specs) shapes.push_back({spec.name, quant::Type::F32, spec.dims});
  quant::ModelShape shape;
  shape.n_layer = static_cast<uint32_t>(cfg.n_layers);
  shape.n_head = static_cast<uint32_t>(cfg.n_heads);
  shape.n_head_kv = static_cast<uint32_t>(cfg.n_kv_heads);
  std::vector<quant::Type> types(specs.size(), quant::Type::F32);
  for (const quant::TensorPlan& plan : quant::plan_quantization(recipe, shapes, shape)) types[plan.index] = plan.target;
  return types;
}

class Synth : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(Synth, LoadsWithPresetShapesAndGenerates) {
  const auto& [preset_name, type] = GetParam();
  const SynthOptions o = options_for(preset_name, type);
  const SynthResult result = synthesize(o);
  const SynthPreset& preset = find_synth_preset(preset_name);
  const bool tied = preset.config.tie_word_embeddings;
  EXPECT_EQ(result.file_bytes, fs::file_size(o.out_path));

  // Shapes and types, against the architecture's table and the recipe.
  const gguf::File file = gguf::File::open(o.out_path);
  EXPECT_EQ(file.find_string("general.architecture"), preset.config.arch);
  const model::HyperParams hp = hparams_of(preset.config, tied);
  const std::vector<model::TensorSpec> specs = model::expected_tensors(hp);
  const std::vector<quant::Type> types = planned_types(preset.config, quant::find_recipe(type), specs);
  size_t n_expected = 0;
  uint64_t n_params = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    const model::TensorSpec& spec = specs[i];
    const gguf::Tensor* t = file.find_tensor(spec.name);
    if (spec.name == "output.weight" && tied) {
      EXPECT_EQ(t, nullptr) << "tied preset writes no output.weight";
      continue;
    }
    ASSERT_NE(t, nullptr) << spec.name;
    ++n_expected;
    n_params += t->n_elements;
    EXPECT_TRUE(std::equal(spec.dims.begin(), spec.dims.end(), t->shape().begin(), t->shape().end())) << spec.name;
    EXPECT_EQ(t->type, types[i]) << spec.name << " is " << quant::name(t->type);
    if (spec.is_vector) {
      EXPECT_EQ(t->type, quant::Type::F32) << spec.name;
    }
  }
  EXPECT_EQ(file.tensors().size(), n_expected);
  EXPECT_EQ(result.n_tensors, n_expected);
  EXPECT_EQ(result.n_params, n_params);
  if (type != "F32") {  // the recipe's main type is really used
    const quant::Type main = quant::find_recipe(type).default_type;
    EXPECT_EQ(file.tensor("blk.0.attn_q.weight").type, main);
  }

  // Loads (every tensor validated against the hyper-parameters) and generates.
  backend::cpu::CpuOptions cpu;
  cpu.n_threads = 2;
  backend::cpu::CpuBackend backend(cpu);
  auto m = model::Model::load(o.out_path, backend);
  EXPECT_EQ(m->hparams().n_vocab, preset.config.n_vocab);
  EXPECT_EQ(m->hparams().n_layers, preset.config.n_layers);
  const auto n_vocab = static_cast<size_t>(m->hparams().n_vocab);
  model::SequenceRunner runner(*m, {.n_ctx = 64, .max_chunk = 64, .kv_type = quant::Type::F16});
  std::vector<int32_t> tokens = {1, 17, 300, 999, 42};
  std::vector<float> logits = runner.feed(tokens);
  std::vector<int32_t> generated;
  for (int step = 0; step < 8; ++step) {
    ASSERT_EQ(logits.size(), n_vocab);
    float lo = logits[0], hi = logits[0];
    for (float x : logits) {
      ASSERT_TRUE(std::isfinite(x));
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
    EXPECT_GT(hi - lo, 1e-3f) << "logits are not all equal";
    const auto next = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    generated.push_back(next);
    logits = runner.feed(std::span<const int32_t>(&next, 1));
  }
  EXPECT_EQ(runner.position(), static_cast<int64_t>(tokens.size() + generated.size()));
  fs::remove(o.out_path);
}

std::string param_name(const ::testing::TestParamInfo<std::pair<std::string, std::string>>& info) {
  std::string name = info.param.first + "_" + info.param.second;
  std::replace(name.begin(), name.end(), '-', '_');
  std::replace(name.begin(), name.end(), '.', '_');
  return name;
}

using P = std::pair<std::string, std::string>;
INSTANTIATE_TEST_SUITE_P(Presets, Synth,
                         ::testing::Values(P{"tiny-llama", "F32"}, P{"tiny-llama", "Q8_0"}, P{"tiny-llama", "Q4_K_M"},
                                           P{"tiny-qwen2", "Q8_0"}, P{"tiny-qwen2", "Q4_K_M"},
                                           P{"tiny-qwen3", "BF16"}, P{"tiny-qwen3", "Q4_K_M"}),
                         param_name);

TEST(SynthPresets, RealPresetsHaveTheModelsShapes) {
  const HfConfig& l1b = find_synth_preset("llama3.2-1b").config;
  EXPECT_EQ(l1b.n_vocab, 128256);
  EXPECT_EQ(l1b.n_embd, 2048);
  EXPECT_EQ(l1b.n_layers, 16);
  EXPECT_EQ(l1b.n_ff, 8192);
  EXPECT_TRUE(l1b.tie_word_embeddings);
  const HfConfig& q7b = find_synth_preset("qwen2.5-7b").config;
  EXPECT_EQ(q7b.arch, "qwen2");
  EXPECT_EQ(q7b.n_vocab, 152064);
  EXPECT_EQ(q7b.n_kv_heads, 4);
  EXPECT_EQ(find_synth_preset("qwen3-8b").config.n_layers, 36);
  EXPECT_EQ(find_synth_preset("llama3.1-8b").config.n_ff, 14336);
}

TEST(SynthBadArguments, UnknownPresetListsThePresets) {
  SynthOptions o = options_for("llama9-1t", "Q8_0");
  try {
    synthesize(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("llama9-1t"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("llama3.2-1b"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.out_path));
}

TEST(SynthBadArguments, UnknownTypeNamesTheType) {
  SynthOptions o = options_for("tiny-llama", "Q7_Z");
  try {
    synthesize(o);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("Q7_Z"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(o.out_path));
}

TEST(SynthBadArguments, UnwritablePathIsAnError) {
  SynthOptions o = options_for("tiny-llama", "Q8_0");
  o.out_path = (work_dir() / "no-such-dir" / "x.gguf").string();
  EXPECT_THROW(synthesize(o), Error);
}

}  // namespace
}  // namespace ingot::convert
