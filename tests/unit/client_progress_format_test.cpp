#include "ferry/client/progress_format.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace client = ferry::client;

namespace {
std::size_t columns(const std::string& text) {
  std::size_t n = 0;
  for (const char c : text)
    n += (c & 0xc0) != 0x80 ? 1 : 0;
  return n;
}
}  // namespace

TEST(ProgressFormat, Bytes) {
  EXPECT_EQ(client::format_bytes(0), "0 B");
  EXPECT_EQ(client::format_bytes(999), "999 B");
  EXPECT_EQ(client::format_bytes(1500), "1.5 kB");
  EXPECT_EQ(client::format_bytes(12'345'678), "12.3 MB");
  EXPECT_EQ(client::format_bytes(999'999), "1.0 MB");
  EXPECT_EQ(client::format_bytes(1'000'000'000'000), "1.0 TB");
}

TEST(ProgressFormat, Eta) {
  EXPECT_EQ(client::format_eta(700, 100), "0:07");
  EXPECT_EQ(client::format_eta(701, 100), "0:08");
  EXPECT_EQ(client::format_eta(754, 1), "12:34");
  EXPECT_EQ(client::format_eta(3723, 1), "1:02:03");
  EXPECT_EQ(client::format_eta(0, 5), "0:00");
  EXPECT_EQ(client::format_eta(10, 0), "--:--");
  EXPECT_EQ(client::format_eta(std::uint64_t{100} * 3600, 1), "--:--");
}

TEST(ProgressFormat, WideLineHasEverything) {
  const std::string line = client::format_progress_line({"hello.txt", 420, 1000, 3'400'000}, 80);
  EXPECT_EQ(columns(line), 80U) << line;
  EXPECT_TRUE(line.starts_with("hello.txt [====")) << line;
  EXPECT_NE(line.find(" 42%  420 B  3.4 MB/s  ETA 0:01"), std::string::npos) << line;
}

TEST(ProgressFormat, NeverWiderThanTheWidth) {
  const std::string long_name(100, 'n');
  for (std::size_t width = 0; width <= 120; ++width) {
    for (const std::string& name :
         {std::string("a.bin"), long_name, std::string("\xc3\xa9t\xc3\xa9.txt")}) {
      const std::string line = client::format_progress_line({name, 5, 10, 1e6}, width);
      EXPECT_LE(columns(line), width) << width << ": " << line;
    }
  }
}

TEST(ProgressFormat, NarrowTerminalDropsInOrder) {
  // 39 columns: no bar, the name cut, ETA dropped.
  const std::string narrow =
      client::format_progress_line({"a-rather-long-file-name.iso", 500, 1000, 1000}, 39);
  EXPECT_EQ(narrow, "a-rather-long-fi~  50%  500 B  1.0 kB/s");
  const std::string wider =
      client::format_progress_line({"a-rather-long-file-name.iso", 500, 1000, 1000}, 60);
  EXPECT_EQ(wider, "a-rather-long-file-name.iso  50%  500 B  1.0 kB/s  ETA 0:01");
  const std::string tiny = client::format_progress_line({"file.bin", 500, 1000, 1000}, 12);
  EXPECT_EQ(tiny, " 50%  500 B") << tiny;
  EXPECT_EQ(client::format_progress_line({"file.bin", 500, 1000, 1000}, 4), " 50%");
  EXPECT_EQ(client::format_progress_line({"file.bin", 500, 1000, 1000}, 3), "");
}

TEST(ProgressFormat, UnknownRateAndEmptyFile) {
  const std::string line = client::format_progress_line({"x", 0, 10, 0}, 60);
  EXPECT_NE(line.find("ETA --:--"), std::string::npos) << line;
  EXPECT_NE(client::format_progress_line({"x", 0, 0, 0}, 60).find("100%"), std::string::npos);
}
