// Regressions found by the fuzz targets in fuzz/ (docs/RELIABILITY.md, "Fuzzing"). Each
// input is also kept in the target's seed corpus, fuzz/corpus/<target>/regress-*.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <optional>

#include "ferry/fs/file_ops.hpp"
#include "ferry/protocol/listing.hpp"
#include "temp_tree.hpp"

namespace ferry {
namespace {

using namespace std::literals;

// fuzz_listing: a leap second at the very end of year 9999 parsed to a time that
// format_utc cannot write (it clamps), so the entry did not survive a round trip.
// Input: fuzz/corpus/fuzz_listing/regress-leap-second-9999.
TEST(FuzzRegressions, LeapSecondPastYear9999IsRefused) {
  EXPECT_EQ(protocol::parse_utc("9999-12-31T23:59:60Z"), std::nullopt);
  EXPECT_FALSE(protocol::parse_entry("f 1 9999-12-31T23:59:60Z x").has_value());
  // The last representable second and ordinary leap seconds are still accepted.
  EXPECT_EQ(protocol::parse_utc("9999-12-31T23:59:59Z"), std::optional<std::int64_t>(253402300799));
  const auto leap = protocol::parse_utc("2016-12-31T23:59:60Z");
  ASSERT_TRUE(leap.has_value());
  EXPECT_EQ(protocol::format_utc(*leap), "2017-01-01T00:00:00Z");
  EXPECT_EQ(protocol::parse_utc(protocol::format_utc(*leap)), leap);
}

class FuzzRegressionsTree : public testing::TempTreeTest {};

// fuzz_path: `LS .ferry-tmp-<hex>` showed an unfinished upload, which a directory's
// listing hides (docs/PROTOCOL.md: "LS does not show them").
// Input: fuzz/corpus/fuzz_path/regress-ls-temporary-name.
TEST_F(FuzzRegressionsTree, ListingATemporaryUploadByNameFindsNothing) {
  write_file(in_root(".ferry-tmp-0123456789abcdef"), "partial");
  write_file(in_root("a/.ferry-tmp-0123456789abcdef"), "partial");
  for (const auto path :
       {".ferry-tmp-0123456789abcdef"sv, "/.ferry-tmp-0123456789abcdef"sv,
        "a/.ferry-tmp-0123456789abcdef"sv, "a/b/../.ferry-tmp-0123456789abcdef"sv}) {
    const auto entries = fs::list_entries(root(), path);
    ASSERT_FALSE(entries.ok()) << path;
    EXPECT_EQ(entries.error().code, ENOENT) << path;
  }
  // Names that only look alike are listed as before.
  write_file(in_root(".ferry-tmpx"), "shown");
  auto entries = fs::list_entries(root(), ".ferry-tmpx");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().name, ".ferry-tmpx");
}

}  // namespace
}  // namespace ferry
