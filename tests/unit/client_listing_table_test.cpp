#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "ferry/client/listing_table.hpp"
#include "ferry/util/words.hpp"

namespace client = ferry::client;
using namespace std::literals;

// U+202E RIGHT-TO-LEFT OVERRIDE, built from their bytes:
// in a string literal clang-tidy flags it (misc-misleading-bidirectional).
const std::string kRlo{'\xe2', '\x80', '\xae'};

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

TEST(ListingTable, FormatsAlignedRowsSortedByName) {
  std::vector<ferry::protocol::Entry> entries = {
      {'f', 7, 0, "../x"},
      {'d', 4096, 1795463808, "docs"},
      {'f', 1048576, 0, "big file"},
      {'f', 2, 0, "\xc3\xa9t\xc3\xa9"},  // sorted byte by byte: after every ASCII name
      {'f', 3, 0, "Zebra"},
  };
  EXPECT_EQ(client::format_listing(entries),
            "f       7 1970-01-01 00:00 ../x\n"
            "f       3 1970-01-01 00:00 Zebra\n"
            "f 1048576 1970-01-01 00:00 big file\n"
            "d    4096 2026-11-23 19:56 docs/\n"
            "f       2 1970-01-01 00:00 \xc3\xa9t\xc3\xa9\n");
}

TEST(ListingTable, NamesCannotDriveTheTerminal) {
  std::vector<ferry::protocol::Entry> entries = {
      {'f', 1, 0, "a\x1b[2Jb\nc"},
      {'f', 1, 0, "csi\xc2\x9b"},
      {'d', 1, 0, "dir\ttab"},
  };
  const std::string out = client::format_listing(entries);
  EXPECT_EQ(out,
            "f 1 1970-01-01 00:00 $'a\\x1b[2Jb\\nc'\n"
            "f 1 1970-01-01 00:00 $'csi\\u009b'\n"
            "d 1 1970-01-01 00:00 $'dir\\ttab'/\n");
}

TEST(DisplayName, PlainNamesAsToday) {
  EXPECT_EQ(client::display_name("a.txt"), "a.txt");
  EXPECT_EQ(client::display_name("my file.txt"), "my file.txt");
  EXPECT_EQ(client::display_name("it's \"quoted\""), "it's \"quoted\"");
  EXPECT_EQ(client::display_name("back\\slash"), "back\\\\slash");
  EXPECT_EQ(client::display_name("caf\xc3\xa9 \xf0\x9f\x93\x81"), "caf\xc3\xa9 \xf0\x9f\x93\x81");
  EXPECT_EQ(client::display_name("$'x'"), "$'x'");
}

TEST(DisplayName, HostileNamesInAnsiCQuotes) {
  EXPECT_EQ(client::display_name("bad\xff.txt"), "$'bad\\xff.txt'");
  EXPECT_EQ(client::display_name("evil" + kRlo + "txt.exe"), "$'evil\\u202etxt.exe'");
  EXPECT_EQ(client::display_name("a\nb"), "$'a\\nb'");
  EXPECT_EQ(client::display_name("it's\r"), "$'it\\'s\\r'");
  EXPECT_EQ(client::display_name("back\\slash\x7f"), "$'back\\\\slash\\x7f'");
  EXPECT_EQ(client::display_name("zw\xe2\x80\x8bsp"), "$'zw\\u200bsp'");
  EXPECT_EQ(client::display_name("\0"s), "$'\\x00'");
}

void expect_typed_back(const std::string& name) {
  const std::string shown = client::display_name(name);
  EXPECT_TRUE(shown.starts_with("$'")) << shown;
  const auto words = ferry::util::split_words("get " + shown);
  ASSERT_TRUE(words.ok()) << shown << ": " << words.error;
  ASSERT_EQ(words.words.size(), 2u) << shown;
  EXPECT_EQ(words.words[1], name) << shown;
}

TEST(DisplayName, HostileNamesTypeBackToTheirBytes) {
  for (const std::string& name : {"bad\xff.txt"s,
                                  "a\nb"s,
                                  "evil" + kRlo + "txt.exe"s,
                                  "\r\n\t\x01\x1b\x7f"s,
                                  "\0x"s,
                                  "'\n"s,
                                  "\\'\x01"s,
                                  "\\\n"s,
                                  "it's a\tname"s,
                                  "\xc2\x85next line"s,
                                  "$'\x01'"s,
                                  "\xff\xfe\x80\xc0\xaf\xed\xa0\x80"s,
                                  "x\xe2\x80\xa8y\xef\xbb\xbf"s,
                                  " lead\ttab "s,
                                  "semi;colon\n"s,
                                  "\"dq\"\x02"s,
                                  "\xe2\x81\xa6isolate\xe2\x81\xa9"s,
                                  "tail\x01\\"s,
                                  "\x1b"
                                  "a"s,
                                  "\xff"
                                  "ab"s,
                                  kRlo + "abcd"}) {
    expect_typed_back(name);
  }
}

TEST(DisplayName, RandomNamesTypeBackToTheirBytes) {
  std::mt19937 generator(7);
  const std::string interesting =
      "\\'\"$ \t\n\r\x01\x1b\x7f\x80\xbf\xc2\x85" + kRlo + "\xef\xbb\xbf\xff;ax0"s;
  std::uniform_int_distribution<std::size_t> pick(0, interesting.size() - 1);
  std::uniform_int_distribution<int> length(1, 24);
  for (int i = 0; i < 5000 && !::testing::Test::HasFailure(); ++i) {
    std::string name;
    for (int k = length(generator); k > 0; --k)
      name += interesting[pick(generator)];
    if (client::display_name(name).starts_with("$'")) expect_typed_back(name);
  }
}
