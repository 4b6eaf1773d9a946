// LS entry lines and their UTC timestamps.

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "ferry/protocol/listing.hpp"

namespace ferry::protocol {
namespace {

using namespace std::literals;

constexpr std::int64_t k2026_11_23 = 1795463808;     // 2026-11-23T19:56:48Z
constexpr std::int64_t kYear0 = -62167219200;        // 0000-01-01T00:00:00Z
constexpr std::int64_t kYear9999End = 253402300799;  // 9999-12-31T23:59:59Z

Entry entry(char type, std::uint64_t size, std::int64_t mtime, std::string name) {
  Entry e;
  e.type = type;
  e.size = size;
  e.mtime = mtime;
  e.name = std::move(name);
  return e;
}

void expect_round_trip(const Entry& original) {
  const std::string line = format_entry(original);
  ASSERT_FALSE(line.empty());
  ASSERT_EQ(line.back(), '\n');
  // One line: the only LF is the one that ends it, and no CR anywhere.
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  const auto parsed = parse_entry(std::string_view(line).substr(0, line.size() - 1));
  ASSERT_TRUE(parsed.has_value()) << line;
  EXPECT_EQ(parsed->type, original.type);
  EXPECT_EQ(parsed->size, original.size);
  EXPECT_EQ(parsed->mtime, original.mtime);
  EXPECT_EQ(parsed->name, original.name);
}

// ---------------------------------------------------------------- format_entry

TEST(FormatEntry, ExactText) {
  EXPECT_EQ(format_entry(entry('f', 12, k2026_11_23, "name")), "f 12 2026-11-23T19:56:48Z name\n");
  EXPECT_EQ(format_entry(entry('d', 4096, 0, "dir")), "d 4096 1970-01-01T00:00:00Z dir\n");
  EXPECT_EQ(format_entry(entry('l', 7, k2026_11_23, "link")), "l 7 2026-11-23T19:56:48Z link\n");
  EXPECT_EQ(format_entry(entry('o', 0, k2026_11_23, "fifo")), "o 0 2026-11-23T19:56:48Z fifo\n");
  EXPECT_EQ(format_entry(entry('f', 9223372036854775807u, k2026_11_23, "big")),
            "f 9223372036854775807 2026-11-23T19:56:48Z big\n");
}

TEST(FormatEntry, NameWithSpacesKeptAsIs) {
  EXPECT_EQ(format_entry(entry('f', 1, k2026_11_23, "my file with spaces.txt")),
            "f 1 2026-11-23T19:56:48Z my file with spaces.txt\n");
  EXPECT_EQ(format_entry(entry('f', 1, k2026_11_23, " lead and trail ")),
            "f 1 2026-11-23T19:56:48Z  lead and trail \n");
}

TEST(FormatEntry, LineBreaksAndControlsEscaped) {
  EXPECT_EQ(format_entry(entry('f', 1, k2026_11_23, "two\nlines")),
            "f 1 2026-11-23T19:56:48Z two\\nlines\n");
  EXPECT_EQ(format_entry(entry('f', 1, k2026_11_23, "cr\r\nlf")),
            "f 1 2026-11-23T19:56:48Z cr\\r\\nlf\n");
  EXPECT_EQ(format_entry(entry('f', 1, k2026_11_23, "back\\slash")),
            "f 1 2026-11-23T19:56:48Z back\\\\slash\n");
  EXPECT_EQ(format_entry(entry('f', 1, k2026_11_23, "bad\xff")),
            "f 1 2026-11-23T19:56:48Z bad\\xff\n");
  EXPECT_EQ(format_entry(entry('f', 1, k2026_11_23, "caf\xc3\xa9")),
            "f 1 2026-11-23T19:56:48Z caf\xc3\xa9\n");
}

// ---------------------------------------------------------------- parse_entry

TEST(ParseEntry, ExactLine) {
  const auto e = parse_entry("f 12 2026-11-23T19:56:48Z name");
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, 'f');
  EXPECT_EQ(e->size, 12u);
  EXPECT_EQ(e->mtime, k2026_11_23);
  EXPECT_EQ(e->name, "name");

  const auto spaced = parse_entry("d 0 2026-11-23T19:56:48Z my dir  with spaces ");
  ASSERT_TRUE(spaced.has_value());
  EXPECT_EQ(spaced->type, 'd');
  EXPECT_EQ(spaced->name, "my dir  with spaces ");

  const auto escaped = parse_entry("f 1 2026-11-23T19:56:48Z a\\nb\\\\c\\x00");
  ASSERT_TRUE(escaped.has_value());
  EXPECT_EQ(escaped->name, "a\nb\\c\0"s);
}

TEST(ParseEntry, RoundTrip) {
  for (const char type : {'d', 'f', 'l', 'o'})
    expect_round_trip(entry(type, 3, k2026_11_23, "x"));
  for (const std::string& name :
       {"name"s, "my file.txt"s, " leading"s, "trailing "s, "  "s, "two\nlines"s, "\r\n\r\n"s,
        "back\\slash"s, "\\n"s, "nul\0inside"s, "tab\t"s, "\x1b[31mred"s, "caf\xc3\xa9"s,
        "\xff\xfe"s, "\xc0\xaf"s, "\xed\xa0\x80"s, "2026-11-23T19:56:48Z"s, "f 1 x"s, "-"s}) {
    expect_round_trip(entry('f', 42, k2026_11_23, name));
  }
  std::string all;
  for (int c = 1; c < 256; ++c)
    all += static_cast<char>(c);
  expect_round_trip(entry('f', 0, 0, all));
  expect_round_trip(entry('f', 9223372036854775807u, kYear9999End, "max"));
  expect_round_trip(entry('d', 0, kYear0, "min"));
  expect_round_trip(entry('f', 1, -1, "before the epoch"));
}

TEST(ParseEntry, MalformedRejected) {
  for (const std::string_view line : {
           ""sv,
           "f"sv,
           "f "sv,
           "f 12"sv,
           "f 12 "sv,
           "f 12 2026-11-23T19:56:48Z"sv,   // no name
           "f 12 2026-11-23T19:56:48Z "sv,  // empty name
           "x 12 2026-11-23T19:56:48Z name"sv,
           "F 12 2026-11-23T19:56:48Z name"sv,
           "- 12 2026-11-23T19:56:48Z name"sv,
           "ff 12 2026-11-23T19:56:48Z name"sv,
           "f12 2026-11-23T19:56:48Z name"sv,
           " f 12 2026-11-23T19:56:48Z name"sv,
           "f  12 2026-11-23T19:56:48Z name"sv,
           "f 12  2026-11-23T19:56:48Z name"sv,
           "f 2026-11-23T19:56:48Z name"sv,  // missing size
           "f 12 name"sv,                    // missing date
           "f -1 2026-11-23T19:56:48Z name"sv,
           "f +1 2026-11-23T19:56:48Z name"sv,
           "f 1a 2026-11-23T19:56:48Z name"sv,
           "f 0x1 2026-11-23T19:56:48Z name"sv,
           "f 9223372036854775808 2026-11-23T19:56:48Z name"sv,
           "f 12 2026-11-23 19:56:48Z name"sv,
           "f 12 2026-11-23T19:56:48 name"sv,
           "f 12 2026-11-23T19:56:48z name"sv,
           "f 12 2026-13-23T19:56:48Z name"sv,
           "f 12 2026-11-32T19:56:48Z name"sv,
           "f 12 2026-02-30T19:56:48Z name"sv,
           "f 12 2026-11-23T24:56:48Z name"sv,
           "f 12 26-11-23T19:56:48Z name"sv,
           "f 12 2026-11-23T19:56:48Zname"sv,
           "f 12 2026-11-23T19:56:48Z bad\\q"sv,  // malformed escape
           "f 12 2026-11-23T19:56:48Z trailing\\"sv,
           "f 12 2026-11-23T19:56:48Z \\x4"sv,
       }) {
    EXPECT_EQ(parse_entry(line), std::nullopt) << line;
  }
}

// ---------------------------------------------------------------- format_utc / parse_utc

TEST(Utc, Epoch) {
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(parse_utc("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(format_utc(-1), "1969-12-31T23:59:59Z");
  EXPECT_EQ(parse_utc("1969-12-31T23:59:59Z"), -1);
}

TEST(Utc, KnownInstants) {
  EXPECT_EQ(format_utc(k2026_11_23), "2026-11-23T19:56:48Z");
  EXPECT_EQ(parse_utc("2026-11-23T19:56:48Z"), k2026_11_23);
  EXPECT_EQ(format_utc(1000000000), "2001-09-09T01:46:40Z");
  EXPECT_EQ(parse_utc("2001-09-09T01:46:40Z"), 1000000000);
  EXPECT_EQ(format_utc(2147483648), "2038-01-19T03:14:08Z");  // past 32-bit time_t
  EXPECT_EQ(parse_utc("2038-01-19T03:14:08Z"), 2147483648);
}

TEST(Utc, LeapDay) {
  EXPECT_EQ(format_utc(1709210096), "2024-02-29T12:34:56Z");
  EXPECT_EQ(parse_utc("2024-02-29T12:34:56Z"), 1709210096);
  EXPECT_EQ(format_utc(951782400), "2000-02-29T00:00:00Z");  // divisible by 400: leap
  EXPECT_EQ(parse_utc("2000-02-29T00:00:00Z"), 951782400);
  EXPECT_EQ(format_utc(1709210096 + 86400), "2024-03-01T12:34:56Z");
}

TEST(Utc, DaysThatDoNotExistRejected) {
  EXPECT_EQ(parse_utc("2023-02-29T00:00:00Z"), std::nullopt);  // not a leap year
  EXPECT_EQ(parse_utc("1900-02-29T00:00:00Z"), std::nullopt);  // divisible by 100: not leap
  EXPECT_EQ(parse_utc("2024-02-30T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_utc("2026-04-31T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_utc("2026-06-31T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_utc("2026-09-31T00:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_utc("2026-11-31T00:00:00Z"), std::nullopt);
  EXPECT_TRUE(parse_utc("2026-12-31T00:00:00Z").has_value());
  EXPECT_TRUE(parse_utc("2026-01-31T00:00:00Z").has_value());
  EXPECT_TRUE(parse_utc("2026-02-28T00:00:00Z").has_value());
}

TEST(Utc, ClampedToYears0To9999) {
  EXPECT_EQ(format_utc(kYear0), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(kYear9999End), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_utc(kYear0 - 1), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(kYear9999End + 1), "9999-12-31T23:59:59Z");
  EXPECT_EQ(format_utc(std::numeric_limits<std::int64_t>::min()), "0000-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(std::numeric_limits<std::int64_t>::max()), "9999-12-31T23:59:59Z");
  EXPECT_EQ(parse_utc("0000-01-01T00:00:00Z"), kYear0);
  EXPECT_EQ(parse_utc("9999-12-31T23:59:59Z"), kYear9999End);
  EXPECT_EQ(parse_utc("0001-01-01T00:00:00Z"), -62135596800);
}

TEST(Utc, RoundTripAcrossTheRange) {
  // About every 32 years from year 0 to 9999, at varying times of day.
  for (std::int64_t t = kYear0; t <= kYear9999End; t += std::int64_t{997} * 1000003) {
    const std::string text = format_utc(t);
    ASSERT_EQ(text.size(), 20u) << t;
    ASSERT_EQ(parse_utc(text), t) << text;
  }
}

TEST(Utc, MalformedRejected) {
  for (const std::string_view text : {
           ""sv,
           "2026-11-23T19:56:48"sv,
           "2026-11-23T19:56:48z"sv,
           "2026-11-23t19:56:48Z"sv,
           "2026-11-23 19:56:48Z"sv,
           "2026/11/23T19:56:48Z"sv,
           "2026-11-23T19.56.48Z"sv,
           "2026-11-23T19:56:48Z "sv,
           " 2026-11-23T19:56:48Z"sv,
           "2026-11-23T19:56:48.0Z"sv,
           "2026-11-23T19:56:48+00:00"sv,
           "+026-11-23T19:56:48Z"sv,
           "-026-11-23T19:56:48Z"sv,
           "2026-+1-23T19:56:48Z"sv,
           "2026-1a-23T19:56:48Z"sv,
           "2026-11-2 T19:56:48Z"sv,
           "20261-1-23T19:56:48Z"sv,
           "2026-00-23T19:56:48Z"sv,
           "2026-13-23T19:56:48Z"sv,
           "2026-11-00T19:56:48Z"sv,
           "2026-11-32T19:56:48Z"sv,
           "2026-11-23T24:00:00Z"sv,
           "2026-11-23T19:60:48Z"sv,
           "2026-11-23T19:56:61Z"sv,
           "2026-11-23T19:56:99Z"sv,
       }) {
    EXPECT_EQ(parse_utc(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace ferry::protocol
