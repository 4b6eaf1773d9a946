#include "ferry/client/foreign_server.hpp"

#include <gtest/gtest.h>

namespace client = ferry::client;

TEST(ForeignServer, Ftp) {
  EXPECT_EQ(client::identify_foreign("220 ProFTPD ready\r\n"),
            "an FTP server (\"220 ProFTPD ready\")");
  EXPECT_EQ(client::identify_foreign("220-Welcome\r\n220 more\r\n"),
            "an FTP server (\"220-Welcome\")");
  EXPECT_EQ(client::identify_foreign("220 mail.example ESMTP Postfix\r\n"),
            "an SMTP server (\"220 mail.example ESMTP Postfix\")");
}

TEST(ForeignServer, HttpAndSsh) {
  EXPECT_EQ(client::identify_foreign("HTTP/1.1 400 Bad Request\r\nServer: x\r\n\r\n"),
            "an HTTP server (\"HTTP/1.1 400 Bad Request\")");
  EXPECT_EQ(client::identify_foreign("SSH-2.0-OpenSSH_9.2\r\n"),
            "an SSH server (\"SSH-2.0-OpenSSH_9.2\")");
}

TEST(ForeignServer, FerryAnswersAndIncompleteLines) {
  EXPECT_EQ(client::identify_foreign("OK\nVERSION: 2\n\n"), std::nullopt);
  EXPECT_EQ(client::identify_foreign("OPENED 40123\n\n"), std::nullopt);
  EXPECT_EQ(client::identify_foreign("ERROR unknown command\n\n"), std::nullopt);
  EXPECT_EQ(client::identify_foreign("220 ProFTPD"), std::nullopt);  // the line goes on
  EXPECT_EQ(client::identify_foreign(""), std::nullopt);
}

TEST(ForeignServer, QuotedLineIsCutAndPrintable) {
  const std::string what = *client::identify_foreign("220 \x1b[2J" + std::string(100, 'x') + "\n");
  EXPECT_EQ(what.find('\x1b'), std::string::npos);
  EXPECT_LT(what.size(), 100U);
}
