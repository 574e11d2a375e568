// Replays every saved fuzz input (fuzz/corpus/<target>/ and the crashes kept
// as regressions) through the fuzz target in the normal build, so that a
// crash once found stays fixed.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "gtest/gtest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

TEST(FuzzReplay, EverySavedInputRunsCleanly) {
  int n = 0;
  for (const auto& entry :
       std::filesystem::directory_iterator(FUZZ_CORPUS_DIR)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    EXPECT_EQ(LLVMFuzzerTestOneInput(
                  reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()),
              0)
        << entry.path();
    ++n;
  }
  EXPECT_GT(n, 0) << "no saved inputs in " << FUZZ_CORPUS_DIR;
}
