#include <gtest/gtest.h>

#include "ferry/client/listing_table.hpp"

namespace client = ferry::client;

TEST(ListingTable, ParsesEveryLine) {
  const auto listing = client::parse_listing(
      "d 4096 2026-11-23T19:56:48Z docs\n"
      "f 12 2026-11-23T19:56:48Z my file.txt\r\n"
      "l 7 1970-01-01T00:00:00Z a\\nb\n");
  ASSERT_TRUE(listing.ok()) << listing.error;
  ASSERT_EQ(listing.entries.size(), 3u);
  EXPECT_EQ(listing.entries[0].type, 'd');
  EXPECT_EQ(listing.entries[1].name, "my file.txt");
  EXPECT_EQ(listing.entries[2].name, "a\nb");
}

TEST(ListingTable, EmptyBodyIsAnEmptyListing) {
  const auto listing = client::parse_listing("");
  EXPECT_TRUE(listing.ok());
  EXPECT_TRUE(listing.entries.empty());
}

TEST(ListingTable, MalformedLineIsNamed) {
  const auto listing = client::parse_listing(
      "f 1 2026-11-23T19:56:48Z ok\n"
      "x 1 2026-11-23T19:56:48Z bad\x1b\n");
  EXPECT_FALSE(listing.ok());
  EXPECT_NE(listing.error.find("line 2"), std::string::npos) << listing.error;
  EXPECT_EQ(listing.error.find('\x1b'), std::string::npos);
}

TEST(ListingTable, LastLineWithoutLineFeedIsMalformed) {
  const auto listing = client::parse_listing("f 1 2026-11-23T19:56:48Z a\nf 1 2026");
  EXPECT_FALSE(listing.ok());
  EXPECT_NE(listing.error.find("line 2"), std::string::npos);
}

TEST(ListingTable, FormatsAlignedRows) {
  std::vector<ferry::protocol::Entry> entries = {
      {'d', 4096, 1795463808, "docs"},
      {'f', 1048576, 0, "big file"},
      {'f', 7, 0, "../x"},
  };
  EXPECT_EQ(client::format_listing(entries),
            "d    4096 2026-11-23 19:56 docs/\n"
            "f 1048576 1970-01-01 00:00 big file\n"
            "f       7 1970-01-01 00:00 ../x\n");
}

TEST(ListingTable, NamesCannotDriveTheTerminal) {
  std::vector<ferry::protocol::Entry> entries = {
      {'f', 1, 0, "a\x1b[2Jb\nc"},
      {'f', 1, 0, "csi\xc2\x9b"},
  };
  const std::string out = client::format_listing(entries);
  EXPECT_EQ(out,
            "f 1 1970-01-01 00:00 a\\x1b[2Jb\\nc\n"
            "f 1 1970-01-01 00:00 csi\\xc2\\x9b\n");
}
