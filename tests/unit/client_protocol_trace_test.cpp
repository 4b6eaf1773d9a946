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

TEST(ProtocolTrace, PasswordMasked) {
  EXPECT_EQ(client::format_trace("> ", "FEATURES\n\nLOGIN\nUSER: alice\nPASSWORD: s3cret pw\n\n"),
            "> FEATURES\n> LOGIN\n> USER: alice\n> PASSWORD: ********\n");
  // Any case, no space after the colon, an empty value: never shown, never its length.
  EXPECT_EQ(client::format_trace("> ", "LOGIN\npassword:x\n\n"), "> LOGIN\n> PASSWORD: ********\n");
  EXPECT_EQ(client::format_trace("> ", "LOGIN\nPassword: \n\n"), "> LOGIN\n> PASSWORD: ********\n");
  // Only that header: a name or a value that merely holds the word is shown.
  EXPECT_EQ(client::format_trace("> ", "LS PASSWORD: x\n\n"), "> LS PASSWORD: x\n");
  EXPECT_EQ(client::format_trace("> ", "GET\nFILENAME: PASSWORD: x\n\n"),
            "> GET\n> FILENAME: PASSWORD: x\n");
}
