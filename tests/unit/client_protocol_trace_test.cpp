#include "ferry/client/protocol_trace.hpp"

#include <gtest/gtest.h>

namespace client = ferry::client;

TEST(ProtocolTrace, EachLineOfEachHead) {
  EXPECT_EQ(client::format_trace("> ", "FEATURES\n\nOPEN 0\n\n"), "> FEATURES\n> OPEN 0\n");
  EXPECT_EQ(client::format_trace("< ", "OK\r\nFILESIZE: 6\r\n\r\n"), "< OK\n< FILESIZE: 6\n");
  EXPECT_EQ(client::format_trace("< ", ""), "");
}

TEST(ProtocolTrace, Printable) {
  EXPECT_EQ(client::format_trace("< ",
                                 "ERROR no such file: a\xe2\x80\xae"
                                 "b\n\n"),
            "< ERROR no such file: a\\u202eb\n");
}
