#include "core/checked_math.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <limits>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace ingot {
namespace {

TEST(CheckedMath, DetectsOverflow) {
  EXPECT_EQ(checked_add(1, 2, "x"), 3u);
  EXPECT_EQ(checked_mul(1ull << 31, 1ull << 31, "x"), 1ull << 62);
  EXPECT_THROW(checked_add(std::numeric_limits<uint64_t>::max(), 1, "x"), Error);
  EXPECT_THROW(checked_mul(1ull << 32, 1ull << 32, "x"), Error);
  EXPECT_EQ(checked_align_up(33, 32, "x"), 64u);
  EXPECT_EQ(checked_align_up(64, 32, "x"), 64u);
  EXPECT_THROW(checked_align_up(std::numeric_limits<uint64_t>::max() - 3, 32, "x"), Error);
  EXPECT_THROW(checked_align_up(5, 0, "x"), Error);
  try {
    checked_mul(1ull << 40, 1ull << 40, "tensor size");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid_file);
    EXPECT_NE(std::string(e.what()).find("tensor size"), std::string::npos);
  }
}

TEST(MappedFile, MapsContentsAndReportsMissingFiles) {
  const std::string path = ::testing::TempDir() + "/mapped_file_test.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "hello, ingot";
  }
  MappedFile file = MappedFile::open(path);
  ASSERT_EQ(file.size(), 12u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.data()), file.size()), "hello, ingot");
  MappedFile moved = std::move(file);
  EXPECT_EQ(moved.size(), 12u);
  EXPECT_EQ(file.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  std::remove(path.c_str());
  try {
    MappedFile::open(path);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::not_found);
  }
  EXPECT_THROW(MappedFile::open("/"), Error);
}

TEST(ThreadPool, RunsEveryTaskOnceAcrossManyCalls) {
  ThreadPool pool(4);
  ASSERT_EQ(pool.n_threads(), 4u);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::atomic<int>> hits(1000);
    pool.parallel_for(hits.size(), [&](size_t i, size_t thread) {
      ASSERT_LT(thread, 4u);
      hits[i].fetch_add(1);
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
}

TEST(ThreadPool, RangesCoverExactlyOnce) {
  ThreadPool pool(3);
  std::vector<int> seen(1001, 0);
  pool.parallel_ranges(seen.size(), 10, [&](size_t b, size_t e, size_t) {
    for (size_t i = b; i < e; ++i) seen[i] += 1;
  });
  EXPECT_EQ(std::accumulate(seen.begin(), seen.end(), 0), 1001);
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int v) { return v == 1; }));
}

TEST(ThreadPool, RethrowsTheFirstErrorAndStaysUsable) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.parallel_for(50, [](size_t i, size_t) {
    if (i == 17) throw std::runtime_error("task 17");
  }), std::runtime_error);
  std::atomic<int> count{0};
  pool.parallel_for(50, [&](size_t, size_t) { count++; });
  EXPECT_EQ(count.load(), 50);
}

}  // namespace
}  // namespace ingot
