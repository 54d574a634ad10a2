// `ingot run` end to end on a small converted model, and its bad input: a missing file, a GGUF
// whose tensors do not match its hyper-parameters, an unknown architecture, an empty prompt,
// -n 0, and a prompt longer than the context — each a message and exit status 1, never a crash.
#include "gguf/file.h"
#include "gguf/writer.h"
#include "model_cli.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ingot::test {
namespace {

namespace fs = std::filesystem;

// Rewrites `src` with one metadata key changed.
std::string rewrite(const std::string& src, const std::string& out_name,
                    const std::function<void(gguf::Writer&)>& edit) {
  const gguf::File f = gguf::File::open(src);
  gguf::Writer w;
  for (const auto& kv : f.metadata()) {
    if (kv.key != "general.alignment") w.set_value(kv.key, kv.value);
  }
  for (const auto& t : f.tensors()) w.add_tensor(t.name, t.type, t.shape(), t.data());
  edit(w);
  const auto out = (cli_work_dir() / out_name).string();
  w.write(out);
  return out;
}

TEST(RunCli, GeneratesAndReportsSpeed) {
  const std::string model = small_model();
  const CliResult r = run_ingot("run -m " + model + " -p \"And God said\" -n 8 --temp 0");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos) << r.out;
  const CliResult ids = run_ingot("run -m " + model + " --prompt-ids \"5 6 7\" -n 4 --temp 0 --print-ids --ignore-eos");
  ASSERT_EQ(ids.status, 0) << ids.out;
}

TEST(RunCli, BadInput) {
  const std::string model = small_model();
  CliResult r = run_ingot("run -m /nonexistent.gguf -p hi");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("/nonexistent.gguf"), std::string::npos) << r.out;

  r = run_ingot("run -m " + model + " -p \"\" -n 4");
  EXPECT_EQ(r.status, 1) << r.out;
  r = run_ingot("run -m " + model + " -p hello -n 0");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("-n"), std::string::npos) << r.out;

  std::string long_ids;
  for (int i = 0; i < 300; ++i) long_ids += "5 ";
  r = run_ingot("run -m " + model + " --prompt-ids \"" + long_ids + "\" -n 4");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("context"), std::string::npos) << r.out;

  r = run_ingot("run -m " + model + " --prompt-ids \"5 99999\" -n 4");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("99999"), std::string::npos) << r.out;

  const std::string unknown = rewrite(model, "unknown-arch.gguf", [](gguf::Writer& w) {
    w.set_string("general.architecture", "mamba9");
  });
  r = run_ingot("run -m " + unknown + " -p hi");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("unknown architecture 'mamba9'"), std::string::npos) << r.out;

  const std::string mismatched = rewrite(model, "mismatched.gguf", [](gguf::Writer& w) {
    w.set_u32("llama.feed_forward_length", 320);
  });
  r = run_ingot("run -m " + mismatched + " -p hi");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("blk.0.ffn_gate.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expected [128, 320]"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ingot::test
