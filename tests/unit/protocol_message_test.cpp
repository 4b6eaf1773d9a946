// Message heads: framing (find_head_end), parsing (parse_head), FILESIZE, formatting.

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/message.hpp"

namespace ferry::protocol {
namespace {

using namespace std::literals;

// Parses `head`, failing the test with the parser's error when it is not well formed.
Message parse_ok(std::string_view head) {
  ParseResult result = parse_head(head);
  EXPECT_TRUE(result.ok()) << "error: " << result.error << "\nhead: " << escape(head);
  return result.message;
}

// Expects `head` to be rejected, and the error to mention `reason` when given.
void expect_malformed(std::string_view head, std::string_view reason = {}) {
  const ParseResult result = parse_head(head);
  EXPECT_FALSE(result.ok()) << "accepted: " << escape(head);
  if (!reason.empty()) {
    EXPECT_NE(result.error.find(reason), std::string::npos)
        << "error: " << result.error << "\nhead: " << escape(head);
  }
}

// A head with `count` header lines `Xn: v` after a GET start line.
std::string head_with_headers(std::size_t count) {
  std::string head = "GET\n";
  for (std::size_t i = 0; i < count; ++i)
    head.append("X").append(std::to_string(i)).append(": v\n");
  return head + "\n";
}

// ---------------------------------------------------------------- well-formed heads

TEST(ParseHead, SeedGet) {
  const Message m = parse_ok("GET\nFILENAME: somefile.txt\n\n");
  EXPECT_EQ(m.verb, "GET");
  EXPECT_TRUE(m.is("GET"));
  EXPECT_FALSE(m.argument.has_value());
  ASSERT_EQ(m.headers.size(), 1u);
  EXPECT_EQ(m.headers[0].name, "FILENAME");
  EXPECT_EQ(m.headers[0].value, "somefile.txt");
  ASSERT_NE(m.header("FILENAME"), nullptr);
  EXPECT_EQ(*m.header("FILENAME"), "somefile.txt");
  EXPECT_EQ(m.header("FILESIZE"), nullptr);
}

TEST(ParseHead, SeedPut) {
  const Message m = parse_ok("PUT\nFILENAME: clifile.txt\nFILESIZE: 102800\n\n");
  EXPECT_TRUE(m.is("PUT"));
  EXPECT_FALSE(m.argument.has_value());
  ASSERT_EQ(m.headers.size(), 2u);
  ASSERT_NE(m.header("FILENAME"), nullptr);
  EXPECT_EQ(*m.header("FILENAME"), "clifile.txt");
  ASSERT_NE(m.header("FILESIZE"), nullptr);
  EXPECT_EQ(*m.header("FILESIZE"), "102800");
  EXPECT_EQ(parse_file_size(*m.header("FILESIZE")), 102800u);
}

TEST(ParseHead, SeedLsWithDirectory) {
  const Message m = parse_ok("LS <directory>\n\n");
  EXPECT_TRUE(m.is("LS"));
  ASSERT_TRUE(m.argument.has_value());
  EXPECT_EQ(*m.argument, "<directory>");
  EXPECT_TRUE(m.headers.empty());
}

TEST(ParseHead, BareLsHasNoArgument) {
  const Message m = parse_ok("LS\n\n");
  EXPECT_TRUE(m.is("LS"));
  EXPECT_FALSE(m.argument.has_value());
  EXPECT_TRUE(m.headers.empty());
}

TEST(ParseHead, ArgumentIsEverythingAfterTheFirstSpace) {
  const Message m = parse_ok("LS my dir with spaces\n\n");
  ASSERT_TRUE(m.argument.has_value());
  EXPECT_EQ(*m.argument, "my dir with spaces");

  const Message two = parse_ok("LS  two leading \n\n");
  ASSERT_TRUE(two.argument.has_value());
  EXPECT_EQ(*two.argument, " two leading ");

  const Message empty = parse_ok("LS \n\n");
  ASSERT_TRUE(empty.argument.has_value());
  EXPECT_EQ(*empty.argument, "");
}

TEST(ParseHead, OpenOpenedError) {
  const Message open = parse_ok("OPEN 40123\n\n");
  EXPECT_TRUE(open.is("OPEN"));
  ASSERT_TRUE(open.argument.has_value());
  EXPECT_EQ(*open.argument, "40123");

  const Message opened = parse_ok("OPENED 40123\n\n");
  EXPECT_TRUE(opened.is("OPENED"));
  EXPECT_FALSE(opened.is("OPEN"));
  ASSERT_TRUE(opened.argument.has_value());
  EXPECT_EQ(*opened.argument, "40123");

  const Message error = parse_ok("ERROR no such file: a.txt\n\n");
  EXPECT_TRUE(error.is("ERROR"));
  ASSERT_TRUE(error.argument.has_value());
  EXPECT_EQ(*error.argument, "no such file: a.txt");

  const Message bye = parse_ok("BYE\n\n");
  EXPECT_TRUE(bye.is("BYE"));
}

TEST(ParseHead, CrlfLineEnds) {
  const Message m = parse_ok("PUT\r\nFILENAME: clifile.txt\r\nFILESIZE: 102800\r\n\r\n");
  EXPECT_TRUE(m.is("PUT"));
  ASSERT_NE(m.header("FILENAME"), nullptr);
  EXPECT_EQ(*m.header("FILENAME"), "clifile.txt");  // no CR left in the value
  ASSERT_NE(m.header("FILESIZE"), nullptr);
  EXPECT_EQ(*m.header("FILESIZE"), "102800");

  const Message ls = parse_ok("LS some dir\r\n\r\n");
  ASSERT_TRUE(ls.argument.has_value());
  EXPECT_EQ(*ls.argument, "some dir");
}

TEST(ParseHead, MixedLineEnds) {
  for (const std::string_view head : {"GET\r\nFILENAME: x\n\n"sv, "GET\nFILENAME: x\r\n\n"sv,
                                      "GET\nFILENAME: x\n\r\n"sv, "GET\r\nFILENAME: x\n\r\n"sv}) {
    const Message m = parse_ok(head);
    EXPECT_EQ(m.verb, "GET");
    ASSERT_NE(m.header("filename"), nullptr);
    EXPECT_EQ(*m.header("filename"), "x");
  }
}

TEST(ParseHead, VerbsAreCaseInsensitive) {
  const Message m = parse_ok("gEt\nFILENAME: a\n\n");
  EXPECT_EQ(m.verb, "gEt");  // kept as received
  EXPECT_TRUE(m.is("GET"));
  EXPECT_TRUE(m.is("get"));
  EXPECT_FALSE(m.is("GETX"));
  EXPECT_FALSE(m.is("GE"));
  EXPECT_TRUE(parse_ok("open 1\n\n").is("OPEN"));
  EXPECT_TRUE(parse_ok("Ls\n\n").is("LS"));
}

TEST(ParseHead, HeaderNamesAreCaseInsensitive) {
  const Message m = parse_ok("PUT\nfilename: a.txt\nFileSize: 7\n\n");
  ASSERT_NE(m.header("FILENAME"), nullptr);
  EXPECT_EQ(*m.header("FILENAME"), "a.txt");
  ASSERT_NE(m.header("filesize"), nullptr);
  EXPECT_EQ(*m.header("fILEsIZE"), "7");
  EXPECT_EQ(m.headers[0].name, "filename");  // kept as received
}

TEST(ParseHead, FileSizeInAnyCaseIsValidated) {
  expect_malformed("PUT\nFILENAME: a\nfilesize: -1\n\n", "FILESIZE");
  expect_malformed("PUT\nFILENAME: a\nFileSize: x\n\n", "FILESIZE");
}

TEST(ParseHead, LeadingSpacesOfValueRemovedTrailingKept) {
  const Message m = parse_ok("GET\nFILENAME:    a b.txt  \n\n");
  ASSERT_NE(m.header("FILENAME"), nullptr);
  EXPECT_EQ(*m.header("FILENAME"), "a b.txt  ");

  const Message no_space = parse_ok("GET\nFILENAME:x\n\n");
  EXPECT_EQ(*no_space.header("FILENAME"), "x");

  const Message empty = parse_ok("GET\nFILENAME:\n\n");
  ASSERT_NE(empty.header("FILENAME"), nullptr);
  EXPECT_EQ(*empty.header("FILENAME"), "");

  const Message only_spaces = parse_ok("GET\nFILENAME:   \n\n");
  EXPECT_EQ(*only_spaces.header("FILENAME"), "");

  // Only spaces are removed: a tab is part of the value.
  const Message tab = parse_ok("GET\nFILENAME: \tx\n\n");
  EXPECT_EQ(*tab.header("FILENAME"), "\tx");

  // A colon in the value is part of the value.
  const Message colon = parse_ok("GET\nFILENAME: a:b: c\n\n");
  EXPECT_EQ(*colon.header("FILENAME"), "a:b: c");
}

TEST(ParseHead, UnknownHeadersAreKept) {
  const Message m = parse_ok("GET\nX-Future: 1\nFILENAME: a\nresume_at: 12\n\n");
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(*m.header("x-future"), "1");
  EXPECT_EQ(*m.header("RESUME_AT"), "12");
  EXPECT_EQ(*m.header("FILENAME"), "a");
}

TEST(ParseHead, Utf8ValuesAccepted) {
  const Message m = parse_ok("GET\nFILENAME: caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x81.txt\n\n");
  EXPECT_EQ(*m.header("FILENAME"), "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\x81.txt");
  const Message ls = parse_ok("LS \xe6\x97\xa5\xe6\x9c\xac\n\n");
  EXPECT_EQ(*ls.argument, "\xe6\x97\xa5\xe6\x9c\xac");
}

// ---------------------------------------------------------------- malformed heads

TEST(ParseHeadMalformed, NoEmptyLine) {
  expect_malformed("", "no empty line");
  expect_malformed("GET", "no empty line");
  expect_malformed("GET\n", "no empty line");
  expect_malformed("GET\r\n", "no empty line");
  expect_malformed("GET\nFILENAME: a\n", "no empty line");
  expect_malformed("GET\nFILENAME: a", "no empty line");
  expect_malformed("GET\nFILENAME: a\n\nextra");
}

TEST(ParseHeadMalformed, EmptyLineWithoutLineFeed) {
  // The empty line that ends a head is LF or CRLF; a lone CR is not a line end.
  expect_malformed("GET\n\r");
  expect_malformed("GET\nFILENAME: a\n\r");
}

TEST(ParseHeadMalformed, EmptyStartLine) {
  expect_malformed("\n", "empty start line");
  expect_malformed("\r\n", "empty start line");
  expect_malformed("\n\n");
  expect_malformed("\nGET\n\n");
}

TEST(ParseHeadMalformed, BadVerbCharacters) {
  for (const std::string_view head : {" GET\n\n"sv, "GET1\n\n"sv, "G-T\n\n"sv, "GET:\n\n"sv,
                                      "GET\tx\n\n"sv, "GÉT\n\n"sv, "GET_\n\n"sv,
                                      "OPEN\xc2\xa0"
                                      "1\n\n"sv,
                                      "/GET\n\n"sv}) {
    expect_malformed(head, "bad verb");
  }
}

TEST(ParseHeadMalformed, HeaderWithoutColon) {
  expect_malformed("GET\nFILENAME somefile.txt\n\n", "bad header line");
  expect_malformed("GET\nFILENAME\n\n", "bad header line");
}

TEST(ParseHeadMalformed, EmptyLineInsideTheHead) {
  // A second empty line is not a header line.
  expect_malformed("GET\n\nFILENAME: a\n\n", "bad header line");
}

TEST(ParseHeadMalformed, BadHeaderName) {
  expect_malformed("GET\n: value\n\n", "bad header line");
  expect_malformed("GET\n  : value\n\n", "bad header line");
  expect_malformed("GET\n FILENAME: a\n\n", "bad header line");
  expect_malformed("GET\nFILENAME : a\n\n", "bad header line");
  expect_malformed("GET\nFILE NAME: a\n\n", "bad header line");
  expect_malformed("GET\nFILE.NAME: a\n\n", "bad header line");
  expect_malformed("GET\n\tFILENAME: a\n\n", "bad header line");
}

TEST(ParseHeadMalformed, RepeatedHeaderInAnyCase) {
  expect_malformed("GET\nFILENAME: a\nFILENAME: a\n\n", "repeated header");
  expect_malformed("GET\nFILENAME: a\nfilename: b\n\n", "repeated header");
  expect_malformed("PUT\nFILESIZE: 1\nFILENAME: a\nFileSize: 1\n\n", "repeated header");
  expect_malformed("GET\nX-New: 1\nx-new: 2\n\n", "repeated header");
}

TEST(ParseHeadMalformed, Nul) {
  expect_malformed("GET\nFILENAME: a\0b\n\n"s, "control character");
  expect_malformed("GE\0T\nFILENAME: a\n\n"s, "control character");
  expect_malformed("LS a\0\n\n"s, "control character");
  expect_malformed("GET\nFILENAME: a\n\0\n"s);
  expect_malformed("\0\n\n"s);
}

TEST(ParseHeadMalformed, StrayCarriageReturn) {
  expect_malformed("GET\nFILENAME: a\rb\n\n", "control character");
  expect_malformed("GET\rFILENAME: a\n\n", "control character");
  expect_malformed("GET\r\r\n\n", "control character");
  expect_malformed("GET\nFILENAME: a\r\r\n\r\n", "control character");
  expect_malformed("LS a\rb\n\n", "control character");
}

TEST(ParseHeadMalformed, OtherControlCharacters) {
  for (int c = 1; c < 0x20; ++c) {
    if (c == '\t' || c == '\n' || c == '\r') continue;
    std::string value = "a";
    value += static_cast<char>(c);
    value += 'b';
    expect_malformed("GET\nFILENAME: " + value + "\n\n", "control character");
    expect_malformed("LS " + value + "\n\n", "control character");
  }
  expect_malformed("GET\nFILENAME: a\x7f\n\n", "control character");
  expect_malformed("GET\nFILENAME: \x1b[31mred\n\n", "control character");
}

TEST(ParseHeadMalformed, InvalidUtf8) {
  for (const std::string_view bad :
       {"\xff"sv, "\xc3"sv, "\x80"sv, "\xc0\xaf"sv, "\xe0\x80\xaf"sv, "\xed\xa0\x80"sv,
        "\xf4\x90\x80\x80"sv, "\xf8\x88\x80\x80\x80"sv, "a\xe2\x82"sv}) {
    expect_malformed("GET\nFILENAME: " + std::string(bad) + "\n\n", "UTF-8");
    expect_malformed("LS " + std::string(bad) + "\n\n", "UTF-8");
  }
}

TEST(ParseHeadMalformed, FileSize) {
  const auto put = [](std::string_view size) {
    return "PUT\nFILENAME: a\nFILESIZE: " + std::string(size) + "\n\n";
  };
  for (const std::string_view bad : {"-1"sv,
                                     "-0"sv,
                                     "+1"sv,
                                     "+0"sv,
                                     "1 "sv,
                                     "1 2"sv,
                                     "1\t"sv,
                                     "abc"sv,
                                     "12a"sv,
                                     "0x10"sv,
                                     "1e3"sv,
                                     "1.0"sv,
                                     ""sv,
                                     "   "sv,
                                     "9223372036854775808"sv,
                                     "18446744073709551615"sv,
                                     "18446744073709551616"sv,
                                     "99999999999999999999"sv,
                                     "123456789012345678901234567890"sv,
                                     "\xef\xbc\x91"sv /* FULLWIDTH DIGIT ONE */}) {
    expect_malformed(put(bad), "FILESIZE");
  }
}

TEST(ParseHead, FileSizeLimits) {
  EXPECT_EQ(parse_file_size(*parse_ok("PUT\nFILENAME: a\nFILESIZE: 0\n\n").header("FILESIZE")), 0u);
  const Message max = parse_ok("PUT\nFILENAME: a\nFILESIZE: 9223372036854775807\n\n");
  EXPECT_EQ(parse_file_size(*max.header("FILESIZE")), kMaxFileSize);
  // The leading spaces before a value are not part of it.
  const Message spaced = parse_ok("PUT\nFILENAME: a\nFILESIZE:    12\n\n");
  EXPECT_EQ(parse_file_size(*spaced.header("FILESIZE")), 12u);
}

TEST(ParseFileSize, Values) {
  EXPECT_EQ(parse_file_size("0"), 0u);
  EXPECT_EQ(parse_file_size("7"), 7u);
  EXPECT_EQ(parse_file_size("007"), 7u);
  EXPECT_EQ(parse_file_size("102800"), 102800u);
  EXPECT_EQ(parse_file_size("9223372036854775807"), 9223372036854775807u);
  EXPECT_EQ(parse_file_size("9223372036854775807"), kMaxFileSize);
  EXPECT_EQ(parse_file_size("9223372036854775808"), std::nullopt);
  EXPECT_EQ(parse_file_size("9999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_file_size("10000000000000000000"), std::nullopt);
  EXPECT_EQ(parse_file_size("99999999999999999999"), std::nullopt);
  EXPECT_EQ(parse_file_size(""), std::nullopt);
  EXPECT_EQ(parse_file_size(" 1"), std::nullopt);
  EXPECT_EQ(parse_file_size("1 "), std::nullopt);
  EXPECT_EQ(parse_file_size("+1"), std::nullopt);
  EXPECT_EQ(parse_file_size("-1"), std::nullopt);
  EXPECT_EQ(parse_file_size("1_000"), std::nullopt);
  EXPECT_EQ(parse_file_size("1\0"s), std::nullopt);
}

// ---------------------------------------------------------------- limits

TEST(ParseHeadLimits, ExactlyMaxHeadBytesAccepted) {
  const std::string prefix = "GET\nFILENAME: ";
  const std::string head = prefix + std::string(kMaxHeadBytes - prefix.size() - 2, 'a') + "\n\n";
  ASSERT_EQ(head.size(), 8192u);
  const Message m = parse_ok(head);
  EXPECT_EQ(m.header("FILENAME")->size(), kMaxHeadBytes - prefix.size() - 2);
}

TEST(ParseHeadLimits, OneByteOverMaxHeadBytesRejected) {
  const std::string prefix = "GET\nFILENAME: ";
  const std::string head = prefix + std::string(kMaxHeadBytes - prefix.size() - 1, 'a') + "\n\n";
  ASSERT_EQ(head.size(), 8193u);
  expect_malformed(head, "too long");
}

TEST(ParseHeadLimits, CrlfCountsTowardsTheLimit) {
  const std::string prefix = "GET\r\nFILENAME: ";
  std::string head = prefix + std::string(kMaxHeadBytes - prefix.size() - 4, 'a') + "\r\n\r\n";
  ASSERT_EQ(head.size(), kMaxHeadBytes);
  parse_ok(head);
  head.insert(head.begin() + static_cast<std::ptrdiff_t>(prefix.size()), 'a');
  expect_malformed(head, "too long");
}

TEST(ParseHeadLimits, HeaderLines) {
  ASSERT_EQ(kMaxHeaderLines, 64u);
  const Message m = parse_ok(head_with_headers(64));
  EXPECT_EQ(m.headers.size(), 64u);
  EXPECT_EQ(*m.header("X63"), "v");
  expect_malformed(head_with_headers(65), "too many header lines");
  expect_malformed(head_with_headers(200), "too many header lines");
}

// ---------------------------------------------------------------- find_head_end

TEST(FindHeadEnd, Incomplete) {
  for (const std::string_view buffer :
       {""sv, "G"sv, "GET"sv, "GET\n"sv, "GET\r\n"sv, "GET\nFILENAME: a\n"sv,
        "GET\nFILENAME: a\r\n\r"sv, "GET\n\r"sv, "GET\nFILENAME: a"sv}) {
    const HeadEnd end = find_head_end(buffer, kMaxHeadBytes);
    EXPECT_EQ(end.state, HeadEnd::State::incomplete) << escape(buffer);
  }
}

TEST(FindHeadEnd, CompleteWithLf) {
  const std::string_view head = "GET\nFILENAME: somefile.txt\n\n";
  const HeadEnd end = find_head_end(head, kMaxHeadBytes);
  ASSERT_EQ(end.state, HeadEnd::State::complete);
  EXPECT_EQ(end.length, head.size());
}

TEST(FindHeadEnd, CompleteWithCrlf) {
  const std::string_view head = "GET\r\nFILENAME: somefile.txt\r\n\r\n";
  const HeadEnd end = find_head_end(head, kMaxHeadBytes);
  ASSERT_EQ(end.state, HeadEnd::State::complete);
  EXPECT_EQ(end.length, head.size());

  const std::string_view mixed = "GET\r\nFILENAME: x\n\r\n";
  EXPECT_EQ(find_head_end(mixed, kMaxHeadBytes).length, mixed.size());
  const std::string_view mixed2 = "GET\r\nFILENAME: x\r\n\n";
  EXPECT_EQ(find_head_end(mixed2, kMaxHeadBytes).length, mixed2.size());
}

TEST(FindHeadEnd, LeftoverBytesAreNotPartOfTheHead) {
  const std::string head = "PUT\nFILENAME: clifile.txt\nFILESIZE: 10\n\n";
  const std::string buffer = head + "0123456789\n\nGET\n\n";
  const HeadEnd end = find_head_end(buffer, kMaxHeadBytes);
  ASSERT_EQ(end.state, HeadEnd::State::complete);
  EXPECT_EQ(end.length, head.size());
  EXPECT_EQ(buffer.substr(end.length), "0123456789\n\nGET\n\n");
  EXPECT_TRUE(parse_head(std::string_view(buffer).substr(0, end.length)).ok());

  // Leftover bytes that begin with a line end are data, not part of the empty line.
  const std::string crlf_head = "PUT\r\nFILESIZE: 2\r\n\r\n";
  const std::string crlf_buffer = crlf_head + "\r\n";
  EXPECT_EQ(find_head_end(crlf_buffer, kMaxHeadBytes).length, crlf_head.size());
  const std::string lf_buffer = "PUT\nFILESIZE: 2\n\n\n\n";
  EXPECT_EQ(find_head_end(lf_buffer, kMaxHeadBytes).length, 17u);
}

TEST(FindHeadEnd, EmptyLineAtTheStart) {
  // An empty first line ends an (empty) head at once; parse_head then rejects it.
  const HeadEnd lf = find_head_end("\nGET\n\n", kMaxHeadBytes);
  ASSERT_EQ(lf.state, HeadEnd::State::complete);
  EXPECT_EQ(lf.length, 1u);
  const HeadEnd crlf = find_head_end("\r\nGET\n\n", kMaxHeadBytes);
  ASSERT_EQ(crlf.state, HeadEnd::State::complete);
  EXPECT_EQ(crlf.length, 2u);
  EXPECT_FALSE(parse_head("\r\n").ok());
}

TEST(FindHeadEnd, LoneCrIsNotAnEmptyLine) {
  // "\r" followed by something other than LF does not end the head.
  const std::string_view buffer = "GET\n\rX\n\n";
  const HeadEnd end = find_head_end(buffer, kMaxHeadBytes);
  ASSERT_EQ(end.state, HeadEnd::State::complete);
  EXPECT_EQ(end.length, buffer.size());
  EXPECT_FALSE(parse_head(buffer).ok());  // the stray CR makes it malformed
}

TEST(FindHeadEnd, TooLongWhenTheBufferReachesTheLimitWithoutAnEnd) {
  const std::string full(kMaxHeadBytes, 'a');
  EXPECT_EQ(find_head_end(full, kMaxHeadBytes).state, HeadEnd::State::too_long);
  EXPECT_EQ(find_head_end(full + "\n\n", kMaxHeadBytes).state, HeadEnd::State::too_long);
  // One byte short of the limit, still waiting.
  EXPECT_EQ(find_head_end(full.substr(1), kMaxHeadBytes).state, HeadEnd::State::incomplete);

  std::string lines;
  while (lines.size() < kMaxHeadBytes)
    lines += "X: y\n";
  EXPECT_EQ(find_head_end(lines, kMaxHeadBytes).state, HeadEnd::State::too_long);
}

TEST(FindHeadEnd, LimitIsInclusive) {
  const std::string prefix = "GET\nFILENAME: ";
  const std::string exact = prefix + std::string(kMaxHeadBytes - prefix.size() - 2, 'a') + "\n\n";
  ASSERT_EQ(exact.size(), kMaxHeadBytes);
  const HeadEnd ok = find_head_end(exact + "trailing data", kMaxHeadBytes);
  ASSERT_EQ(ok.state, HeadEnd::State::complete);
  EXPECT_EQ(ok.length, kMaxHeadBytes);

  const std::string over = prefix + std::string(kMaxHeadBytes - prefix.size() - 1, 'a') + "\n\n";
  ASSERT_EQ(over.size(), kMaxHeadBytes + 1);
  EXPECT_EQ(find_head_end(over, kMaxHeadBytes).state, HeadEnd::State::too_long);
  EXPECT_EQ(find_head_end(over + "more", kMaxHeadBytes).state, HeadEnd::State::too_long);

  // The same with a CRLF empty line whose LF is byte limit+1.
  const std::string over_crlf =
      prefix + std::string(kMaxHeadBytes - prefix.size() - 2, 'a') + "\n\r\n";
  ASSERT_EQ(over_crlf.size(), kMaxHeadBytes + 1);
  EXPECT_EQ(find_head_end(over_crlf, kMaxHeadBytes).state, HeadEnd::State::too_long);
}

TEST(FindHeadEnd, SmallLimit) {
  EXPECT_EQ(find_head_end("LS\n\n", 4).state, HeadEnd::State::complete);
  EXPECT_EQ(find_head_end("LS\n\n", 4).length, 4u);
  EXPECT_EQ(find_head_end("LS\n\n", 3).state, HeadEnd::State::too_long);
  EXPECT_EQ(find_head_end("LS\n", 3).state, HeadEnd::State::too_long);
  EXPECT_EQ(find_head_end("LS\n", 4).state, HeadEnd::State::incomplete);
}

TEST(FindHeadEnd, ByteByByteArrival) {
  // Fed one byte at a time, the head is complete exactly when its last byte arrives.
  const std::string head = "PUT\r\nFILENAME: clifile.txt\nFILESIZE: 102800\r\n\r\n";
  for (std::size_t n = 0; n < head.size(); ++n) {
    EXPECT_EQ(find_head_end(std::string_view(head).substr(0, n), kMaxHeadBytes).state,
              HeadEnd::State::incomplete)
        << n;
  }
  const HeadEnd end = find_head_end(head, kMaxHeadBytes);
  ASSERT_EQ(end.state, HeadEnd::State::complete);
  EXPECT_EQ(end.length, head.size());
}

// ---------------------------------------------------------------- formatting

TEST(FormatMessage, ExactText) {
  EXPECT_EQ(format_message("OPENED 40123"), "OPENED 40123\n\n");
  EXPECT_EQ(format_message("BYE"), "BYE\n\n");
  EXPECT_EQ(format_message("OK", {{"FILESIZE", "102800"}}), "OK\nFILESIZE: 102800\n\n");
  EXPECT_EQ(format_message("PUT", {{"FILENAME", "clifile.txt"}, {"FILESIZE", "102800"}}),
            "PUT\nFILENAME: clifile.txt\nFILESIZE: 102800\n\n");
}

TEST(FormatMessage, RoundTripsThroughParseHead) {
  const std::string text =
      format_message("PUT", {{"FILENAME", "my file.txt"}, {"FILESIZE", "102800"}, {"X-A", ""}});
  const HeadEnd end = find_head_end(text, kMaxHeadBytes);
  ASSERT_EQ(end.state, HeadEnd::State::complete);
  EXPECT_EQ(end.length, text.size());
  const Message m = parse_ok(text);
  EXPECT_TRUE(m.is("PUT"));
  EXPECT_FALSE(m.argument.has_value());
  ASSERT_EQ(m.headers.size(), 3u);
  EXPECT_EQ(*m.header("FILENAME"), "my file.txt");
  EXPECT_EQ(*m.header("FILESIZE"), "102800");
  EXPECT_EQ(*m.header("X-A"), "");

  const Message ls = parse_ok(format_message("LS my dir with spaces"));
  EXPECT_EQ(*ls.argument, "my dir with spaces");
}

TEST(FormatError, ExactText) {
  EXPECT_EQ(format_error("no such file: a.txt"), "ERROR no such file: a.txt\n\n");
  EXPECT_EQ(format_error("a\nb"), "ERROR a\\nb\n\n");
  EXPECT_EQ(format_error("back\\slash"), "ERROR back\\\\slash\n\n");
}

TEST(FormatError, RoundTripsThroughParseHead) {
  for (const std::string& text :
       {"no such file: a.txt"s, "unknown command: FOO"s, "a\nb"s, "x\r\n\r\nGET\n\n"s,
        "nul \0 inside"s, "\n\n\n"s, "\r"s, "tab\there"s, "caf\xc3\xa9"s, "bad \xff\xfe utf-8"s,
        "esc \x1b[31m"s, "del \x7f"s, "\\x41 already escaped \\n"s, ""s}) {
    const std::string message = format_error(text);
    // Exactly one well-formed message: its head ends at the very end.
    const HeadEnd end = find_head_end(message, kMaxHeadBytes);
    ASSERT_EQ(end.state, HeadEnd::State::complete) << escape(text);
    EXPECT_EQ(end.length, message.size()) << escape(text);
    const ParseResult parsed = parse_head(message);
    ASSERT_TRUE(parsed.ok()) << parsed.error << " for " << escape(text);
    EXPECT_TRUE(parsed.message.is("ERROR"));
    EXPECT_TRUE(parsed.message.headers.empty());
    ASSERT_TRUE(parsed.message.argument.has_value());
    EXPECT_EQ(unescape(*parsed.message.argument), text);
  }
}

TEST(FormatError, EveryByteValueStaysOneMessage) {
  std::string text;
  for (int c = 0; c < 256; ++c)
    text += static_cast<char>(c);
  const std::string message = format_error(text);
  const HeadEnd end = find_head_end(message, kMaxHeadBytes);
  ASSERT_EQ(end.state, HeadEnd::State::complete);
  EXPECT_EQ(end.length, message.size());
  const ParseResult parsed = parse_head(message);
  ASSERT_TRUE(parsed.ok()) << parsed.error;
  EXPECT_EQ(unescape(*parsed.message.argument), text);
}

TEST(Iequals, Basics) {
  EXPECT_TRUE(iequals("FILENAME", "filename"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("FILENAME", "FILENAM"));
  EXPECT_FALSE(iequals("a", "b"));
  // ASCII only: '@' and '`' are not the upper/lower case of anything.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
}

}  // namespace
}  // namespace ferry::protocol
