// ingot_gpu_tests: runs the CUDA-vs-CPU op tests, then prints one table row per comparison
// (op, type, shape, relative error, threshold, pass) and writes it to $INGOT_GPU_TABLE if set.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>

#include "backend/cuda/device_info.h"
#include "gpu_test_util.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (GTEST_FLAG_GET(list_tests)) return RUN_ALL_TESTS();
  if (ingot::cuda::device_count() == 0) {
    std::fprintf(stderr, "ingot_gpu_tests: no CUDA device visible; these tests need a GPU\n");
    return 1;
  }
  const int status = RUN_ALL_TESTS();
  const char* table_path = std::getenv("INGOT_GPU_TABLE");
  std::FILE* table = table_path != nullptr ? std::fopen(table_path, "w") : nullptr;
  for (std::FILE* f : {stdout, table}) {
    if (f == nullptr) continue;
    std::fprintf(f, "%-14s %-6s %-26s %12s %10s %s\n", "op", "type", "shape", "rel.error",
                 "threshold", "pass");
    for (const auto& r : ingot::gpu_test::results()) {
      std::fprintf(f, "%-14s %-6s %-26s %12.3e %10.1e %s\n", r.op.c_str(), r.type.c_str(),
                   r.shape.c_str(), r.error, r.threshold, r.pass ? "ok" : "FAIL");
    }
  }
  if (table != nullptr) std::fclose(table);
  return status;
}
