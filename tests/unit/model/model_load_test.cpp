// Model loading: hyper-parameters from metadata, and every tensor checked at load — a wrong
// shape, a missing tensor, a non-F32 norm or an unknown architecture is an Error naming it.
#include "backend/cpu/cpu_backend.h"
#include "core/error.h"
#include "model/model.h"
#include "tiny_gguf.h"

#include <gtest/gtest.h>

namespace ingot::model {
namespace {

using test::cpu_options;

using test::make_tiny_gguf;
using test::TinySpec;

std::string load_error(const TinySpec& spec) {
  backend::cpu::CpuBackend backend(cpu_options(1));
  try {
    Model::load(make_tiny_gguf(spec), backend);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelLoad, EveryFamilyLoads) {
  for (const char* arch : {"llama", "qwen2", "qwen3"}) {
    for (bool tied : {false, true}) {
      backend::cpu::CpuBackend backend(cpu_options(1));
      TinySpec spec;
      spec.arch = arch;
      spec.tied = tied;
      auto m = Model::load(make_tiny_gguf(spec), backend);
      EXPECT_EQ(m->hparams().arch, arch);
      EXPECT_EQ(m->hparams().n_layers, 2);
      EXPECT_EQ(m->hparams().tied_output, tied);
      EXPECT_EQ(m->weights().output.data, tied ? m->weights().token_embd.data : m->weights().output.data);
      EXPECT_EQ(m->hparams().rope.layout,
                std::string(arch) == "llama" ? backend::RopeLayout::normal : backend::RopeLayout::neox);
    }
  }
}

TEST(ModelLoad, WrongShapeNamesTheTensor) {
  TinySpec spec;
  spec.edit_tensor = [](const std::string& name, std::vector<int64_t>& dims) {
    if (name == "blk.1.attn_k.weight") dims[1] = 24;
    return true;
  };
  const std::string err = load_error(spec);
  EXPECT_NE(err.find("blk.1.attn_k.weight"), std::string::npos) << err;
  EXPECT_NE(err.find("[32, 24]"), std::string::npos) << err;
  EXPECT_NE(err.find("[32, 16]"), std::string::npos) << err;
}

TEST(ModelLoad, MissingTensorNamesIt) {
  TinySpec spec;
  spec.arch = "qwen3";
  spec.edit_tensor = [](const std::string& name, std::vector<int64_t>&) { return name != "blk.0.attn_q_norm.weight"; };
  const std::string err = load_error(spec);
  EXPECT_NE(err.find("blk.0.attn_q_norm.weight"), std::string::npos) << err;
  EXPECT_NE(err.find("missing"), std::string::npos) << err;
}

TEST(ModelLoad, UnknownArchitecture) {
  TinySpec spec;
  spec.arch = "mamba9";
  const std::string err = load_error(spec);
  EXPECT_NE(err.find("unknown architecture 'mamba9'"), std::string::npos) << err;
  EXPECT_NE(err.find("llama, qwen2, qwen3"), std::string::npos) << err;
}

TEST(ModelLoad, BadHyperParameters) {
  TinySpec spec;
  spec.edit_metadata = [](gguf::Writer& w) { w.set_u32("llama.attention.head_count_kv", 3); };
  EXPECT_NE(load_error(spec).find("not a multiple"), std::string::npos);
  spec.edit_metadata = [](gguf::Writer& w) { w.set_u32("llama.block_count", 0); };
  EXPECT_NE(load_error(spec).find("block_count"), std::string::npos);
  spec.edit_metadata = [](gguf::Writer& w) { w.remove("llama.embedding_length"); };
  EXPECT_NE(load_error(spec).find("embedding_length"), std::string::npos);
  spec.edit_metadata = [](gguf::Writer& w) { w.set_string("llama.rope.scaling.type", "wobble"); };
  EXPECT_NE(load_error(spec).find("wobble"), std::string::npos);
}

}  // namespace
}  // namespace ingot::model
