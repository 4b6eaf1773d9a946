#include <gtest/gtest.h>

#include "ferry/client/terminal_text.hpp"
#include "ferry/protocol/escape.hpp"

namespace client = ferry::client;

// U+202E RIGHT-TO-LEFT OVERRIDE and U+2066 LEFT-TO-RIGHT ISOLATE, built from their bytes:
// in a string literal clang-tidy flags them (misc-misleading-bidirectional).
const std::string kRlo{'\xe2', '\x80', '\xae'};
const std::string kLri{'\xe2', '\x81', '\xa6'};

TEST(TerminalText, PrintableLeavesOrdinaryTextAlone) {
  EXPECT_EQ(client::printable("no such file: a\\nb été"), "no such file: a\\nb été");
  EXPECT_EQ(client::printable("back\\\\slash \\xff \\"), "back\\\\slash \\xff \\");
  EXPECT_EQ(client::printable(""), "");
}

TEST(TerminalText, PrintableEscapesControls) {
  EXPECT_EQ(client::printable("a\x1b[2J\tb\x7f"), "a\\x1b[2J\\tb\\x7f");
  EXPECT_EQ(client::printable("line\nbreak\r"), "line\\nbreak\\r");
  EXPECT_EQ(client::printable("bad \xff\xfe"), "bad \\xff\\xfe");
  EXPECT_EQ(client::printable(std::string_view("nul\0x", 5)), "nul\\x00x");
}

TEST(TerminalText, PrintableEscapesC1BidiAndInvisibleCharacters) {
  EXPECT_EQ(client::printable("c1 \xc2\x9b"), "c1 \\u009b");
  EXPECT_EQ(client::printable("no such file: evil" + kRlo + "txt.exe"),
            "no such file: evil\\u202etxt.exe");
  EXPECT_EQ(client::printable(kLri + "\xe2\x80\x8b\xc2\xad\xef\xbb\xbf\xe2\x80\xa8"),
            "\\u2066\\u200b\\u00ad\\ufeff\\u2028");
  // Next to a backslash of the server's own escaping.
  EXPECT_EQ(client::printable("a\\" + kRlo + "\\nb"), "a\\\\u202e\\nb");
}

TEST(TerminalText, PrintableInvalidUtf8AroundBackslashes) {
  EXPECT_EQ(client::printable("\xe2\\\x80\xae"), "\\xe2\\\\x80\\xae");
  EXPECT_EQ(client::printable("\xc2\\"), "\\xc2\\");
}

TEST(TerminalText, PrintableIsEscapeVisibleWhereThereIsNoBackslash) {
  std::string all;
  for (int c = 0; c < 256; ++c) {
    if (c != '\\') all += static_cast<char>(c);
  }
  all += kRlo + "\xc2\x85\xe2\x81\xa9";
  EXPECT_EQ(client::printable(all), ferry::protocol::escape_visible(all));
}

TEST(TerminalText, Summary) {
  EXPECT_EQ(client::format_summary("received", "", 1048576, 0.012),
            "received 1048576 bytes in 0.012 s (87.4 MB/s)");
  EXPECT_EQ(client::format_summary("sent", "", 0, 0.0), "sent 0 bytes in 0.000 s (0.0 B/s)");
  EXPECT_EQ(client::format_summary("received", "hello.txt", 18, 0.001),
            "received hello.txt: 18 bytes in 0.001 s (18.0 kB/s)");
  EXPECT_EQ(client::format_summary("sent", std::string("a\x1b") + "b", 1, 1.0),
            "sent a\\x1bb: 1 bytes in 1.000 s (1.0 B/s)");
}

TEST(TerminalText, Rate) {
  EXPECT_EQ(client::format_rate(999), "999.0 B/s");
  EXPECT_EQ(client::format_rate(1500), "1.5 kB/s");
  EXPECT_EQ(client::format_rate(2.5e9), "2.5 GB/s");
}
