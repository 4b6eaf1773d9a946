#include <gtest/gtest.h>

#include "ferry/client/terminal_text.hpp"

namespace client = ferry::client;

TEST(TerminalText, PrintableLeavesOrdinaryTextAlone) {
  EXPECT_EQ(client::printable("no such file: a\\nb été"), "no such file: a\\nb été");
}

TEST(TerminalText, PrintableEscapesControls) {
  EXPECT_EQ(client::printable("a\x1b[2J\tb\x7f"), "a\\x1b[2J\\x09b\\x7f");
  EXPECT_EQ(client::printable("c1 \xc2\x9b"), "c1 \\xc2\\x9b");
  EXPECT_EQ(client::printable("bad \xff\xfe"), "bad \\xff\\xfe");
  EXPECT_EQ(client::printable(std::string_view("nul\0x", 5)), "nul\\x00x");
}

TEST(TerminalText, Summary) {
  EXPECT_EQ(client::format_summary("received", 1048576, 0.012),
            "received 1048576 bytes in 0.012 s (87.4 MB/s)");
  EXPECT_EQ(client::format_summary("sent", 0, 0.0), "sent 0 bytes in 0.000 s (0.0 B/s)");
}

TEST(TerminalText, Rate) {
  EXPECT_EQ(client::format_rate(999), "999.0 B/s");
  EXPECT_EQ(client::format_rate(1500), "1.5 kB/s");
  EXPECT_EQ(client::format_rate(2.5e9), "2.5 GB/s");
}

TEST(TerminalText, Progress) {
  EXPECT_EQ(client::format_progress(50, 200, 1.0), "50 / 200 bytes   25.0%  50.0 B/s");
  EXPECT_EQ(client::format_progress(50, 0, 1.0), "50 bytes  50.0 B/s");
}
