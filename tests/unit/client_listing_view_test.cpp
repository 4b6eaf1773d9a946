#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

#include "ferry/client/listing_table.hpp"
#include "ferry/client/listing_view.hpp"
#include "ferry/client/remote_stat.hpp"
#include "ferry/client/requests.hpp"

namespace ferry::client {
namespace {

protocol::Entry file(std::string name, char type = 'f') {
  return {type, 6, 0, std::move(name)};
}

TEST(ShortSize, AsLsDashH) {
  EXPECT_EQ(short_size(0), "0");
  EXPECT_EQ(short_size(1023), "1023");
  EXPECT_EQ(short_size(1024), "1.0K");
  EXPECT_EQ(short_size(1536), "1.5K");
  EXPECT_EQ(short_size(1025), "1.1K");  // rounded up, as ls
  EXPECT_EQ(short_size(std::uint64_t{20} * 1024), "20K");
  EXPECT_EQ(short_size(std::uint64_t{5} << 30), "5.0G");
}

TEST(HumanSize, StatsUnits) {
  EXPECT_EQ(human_size(6), "6 B");
  EXPECT_EQ(human_size(1048576), "1.0 MiB");
}

TEST(FormatColumns, FillsDownThenAcross) {
  const std::vector<protocol::Entry> entries = {file("e"), file("a"), file("b"), file("c"),
                                                file("d", 'd')};
  // Widths 1, and 2 for d/: three columns of two rows take 9 cells.
  EXPECT_EQ(format_columns(entries, 10), "a  c   e\nb  d/\n");
  EXPECT_EQ(format_columns(entries, 80), "a  b  c  d/  e\n");
  EXPECT_EQ(format_columns(entries, 1), "a\nb\nc\nd/\ne\n");
  EXPECT_EQ(format_columns({}, 80), "");
}

TEST(FormatColumns, QuotesHostileNamesAndCountsCodePoints) {
  EXPECT_EQ(format_columns({file("a\nb"), file("\xc3\xa9t\xc3\xa9")}, 80),
            "$'a\\nb'  \xc3\xa9t\xc3\xa9\n");
  EXPECT_EQ(text_width("\xc3\xa9t\xc3\xa9"), 3U);
}

TEST(FormatListing, HumanSizes) {
  const std::vector<protocol::Entry> entries = {{'f', 2048, 0, "a"}, {'f', 5, 0, "b"}};
  EXPECT_EQ(format_listing(entries, true),
            "f 2.0K 1970-01-01 00:00 a\nf    5 1970-01-01 00:00 b\n");
}

TEST(ModeText, AsLsShowsIt) {
  EXPECT_EQ(mode_text(0644), "rw-r--r--");
  EXPECT_EQ(mode_text(0755), "rwxr-xr-x");
  EXPECT_EQ(mode_text(04755), "rwsr-xr-x");
  EXPECT_EQ(mode_text(01777), "rwxrwxrwt");
  EXPECT_EQ(mode_text(02644), "rw-r-Sr--");
}

protocol::Message answer(const std::string& head) {
  return protocol::parse_head(head).message;
}

TEST(ParseStat, ReadsEveryHeaderAndTheLinkTarget) {
  const auto result = parse_stat(answer(
      "OK\nTYPE: l\nSIZE: 7\nMTIME: 2026-11-23T19:57:02Z\nMODE: 777\nTARGET: a\\\\b\\nc\n\n"));
  ASSERT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.stat.type, 'l');
  EXPECT_EQ(result.stat.size, 7U);
  EXPECT_EQ(result.stat.mode, 0777U);
  EXPECT_EQ(result.stat.target, "a\\b\nc");
  EXPECT_FALSE(parse_stat(answer("OK\nTYPE: f\nSIZE: 7\nMTIME: x\nMODE: 644\n\n")).ok());
  EXPECT_FALSE(parse_stat(answer("OK\nTYPE: f\nSIZE: 7\nMTIME: 2026-11-23T19:57:02Z\n\n")).ok());
  EXPECT_FALSE(
      parse_stat(answer("OK\nTYPE: q\nSIZE: 7\nMTIME: 2026-11-23T19:57:02Z\nMODE: 644\n\n")).ok());
  EXPECT_FALSE(
      parse_stat(answer("OK\nTYPE: f\nSIZE: 7\nMTIME: 2026-11-23T19:57:02Z\nMODE: 9\n\n")).ok());
}

TEST(FormatStat, LocalTimeAndUtc) {
  ::setenv("TZ", "UTC", 1);
  ::tzset();
  RemoteStat stat{'f', 1536, 1795464000, 0644, std::nullopt};
  const std::string text = format_stat("/docs/a.txt", stat);
  EXPECT_NE(text.find("path:     /docs/a.txt\n"), std::string::npos) << text;
  EXPECT_NE(text.find("size:     1536 bytes (1.5 KiB)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("modified: 2026-11-23 20:00:00 UTC (2026-11-23 20:00:00 UTC)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mode:     rw-r--r-- (0644)\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("target:"), std::string::npos);
}

TEST(Requests, Version2Heads) {
  EXPECT_EQ(features_request(), "FEATURES\n\n");
  EXPECT_EQ(path_request("STAT", ""), "STAT\n\n");
  EXPECT_EQ(path_request("DELETE", "my dir/a.txt"), "DELETE my dir/a.txt\n\n");
  EXPECT_EQ(path_request("MKDIR", "bad\xff"), "MKDIR bad\\xff\nESCAPED: yes\n\n");
  EXPECT_EQ(rename_request("a", "b", false), "RENAME\nFROM: a\nTO: b\n\n");
  EXPECT_EQ(rename_request("a\\x", "b\n", true),
            "RENAME\nFROM: a\\\\x\nTO: b\\n\nOVERWRITE: yes\nESCAPED: yes\n\n");
  EXPECT_EQ(protocol_version(answer("OK\nVERSION: 2\n\n")), 2);
  EXPECT_EQ(protocol_version(answer("ERROR unknown command: FEATURES\n\n")), 1);
}

}  // namespace
}  // namespace ferry::client
