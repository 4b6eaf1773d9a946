// The transfer session (transfer_session.cpp and its actions transfer_get.cpp,
// transfer_put.cpp, transfer_list.cpp) over a loopback socket pair: one request head, its
// data, the answer and the close.

#include <fmt/format.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "ferryd_session_harness.hpp"

namespace ferryd::testing {
namespace {

using TransferSessionTest = SessionTest;

std::string random_bytes(std::size_t size) {
  std::mt19937_64 random(42);  // NOLINT(cert-msc32-c,cert-msc51-cpp): the same bytes every run
  std::string data(size, '\0');
  for (char& c : data)
    c = static_cast<char>(random());
  return data;
}

std::string put_head(const std::string& name, std::size_t size) {
  return fmt::format("PUT\nFILENAME: {}\nFILESIZE: {}\n\n", name, size);
}

TEST_F(TransferSessionTest, GetSendsTheHeadThenTheBytesThenCloses) {
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send("GET\nFILENAME: a/b/file\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\nFILESIZE: 11\n\n");
  EXPECT_EQ(peer.read_to_end(), kInsideContent);
  EXPECT_FALSE(peer.reset_seen());
  const std::string logged = wait_for_log("session 1: GET \"a/b/file\" 11 bytes in");
  EXPECT_TRUE(logged.starts_with("info ")) << logged;
  EXPECT_NE(logged.find(": ok"), std::string::npos) << logged;
}

TEST_F(TransferSessionTest, GetOfALargerFileSendsEveryByte) {
  const std::string data = random_bytes(std::size_t{3} * 1024 * 1024 + 17);
  write_file(in_root("big.bin"), data);
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send("GET\nFILENAME: /big.bin\n\n"));
  EXPECT_EQ(peer.read_head(), fmt::format("OK\nFILESIZE: {}\n\n", data.size()));
  EXPECT_TRUE(peer.read_to_end() == data);  // not EXPECT_EQ: no 3 MiB diff on failure
}

TEST_F(TransferSessionTest, GetOfSomethingMissingIsAnError) {
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send("GET\nFILENAME: nope.txt\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR no such file or directory: nope.txt\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  peer.close();  // else the server drains the connection for 2 s before its log line
  EXPECT_FALSE(wait_for_log("session 1: GET \"nope.txt\" 0 bytes").empty());

  Peer directory = transfer_session();
  ASSERT_TRUE(directory.send("GET\nFILENAME: a\n\n"));
  EXPECT_EQ(directory.read_head(), "ERROR is a directory: a\n\n");
  EXPECT_TRUE(directory.ends_without_more_data());
}

TEST_F(TransferSessionTest, GetStaysInsideTheRoot) {
  make_symlink("../outside/secret", in_root("escape"));
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send("GET\nFILENAME: ../outside/secret\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR no such file or directory: ../outside/secret\n\n");
  Peer link = transfer_session();
  ASSERT_TRUE(link.send("GET\nFILENAME: escape\n\n"));
  EXPECT_TRUE(link.read_head().starts_with("ERROR "));
  EXPECT_TRUE(link.ends_without_more_data());
}

TEST_F(TransferSessionTest, PutStoresTheFileAndLeavesNoTemporary) {
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send(put_head("new.txt", 5) + "12345"));
  EXPECT_EQ(peer.read_head(), "OK\nFILESIZE: 5\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  EXPECT_EQ(read_file(in_root("new.txt")), "12345");
  EXPECT_TRUE(temporaries_in(root_path()).empty());
  EXPECT_FALSE(wait_for_log("session 1: PUT \"new.txt\" 5 bytes in").empty());
}

TEST_F(TransferSessionTest, AnEmptyFileGoesBothWays) {
  Peer put = transfer_session();
  ASSERT_TRUE(put.send(put_head("empty", 0)));
  EXPECT_EQ(put.read_head(), "OK\nFILESIZE: 0\n\n");
  EXPECT_TRUE(put.ends_without_more_data());
  EXPECT_TRUE(exists(in_root("empty")));
  EXPECT_EQ(read_file(in_root("empty")), "");
  Peer get = transfer_session();
  ASSERT_TRUE(get.send("GET\nFILENAME: empty\n\n"));
  EXPECT_EQ(get.read_head(), "OK\nFILESIZE: 0\n\n");
  EXPECT_TRUE(get.ends_without_more_data());
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(TransferSessionTest, OnceTheServedDirectoryIsRemovedEveryRequestIsRefused) {
  static_cast<void>(state());  // the server opens the root before it is removed
  std::filesystem::remove_all(root_path());
  for (const std::string& request : {std::string("GET\nFILENAME: a/b/file\n\n"),
                                     std::string("LS\n\n"), put_head("x", 1) + "x"}) {
    Peer peer = transfer_session();
    ASSERT_TRUE(peer.send(request));
    EXPECT_EQ(peer.read_head(), "ERROR the served directory was removed\n\n") << request;
    EXPECT_TRUE(peer.ends_without_more_data());
  }
  EXPECT_FALSE(exists(root_path()));
  EXPECT_FALSE(wait_for_log("the served directory").empty());
}

TEST_F(TransferSessionTest, PutOfALargerFileInPiecesReplacesTheTarget) {
  const std::string data = random_bytes(std::size_t{2} * 1024 * 1024 + 3);
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send(put_head("a/b/file", data.size())));
  constexpr std::size_t kPiece = std::size_t{300} * 1024;
  for (std::size_t at = 0; at < data.size(); at += kPiece) {
    ASSERT_TRUE(peer.send(std::string_view(data).substr(at, kPiece)));
  }
  EXPECT_EQ(peer.read_head(), fmt::format("OK\nFILESIZE: {}\n\n", data.size()));
  EXPECT_TRUE(peer.ends_without_more_data());
  EXPECT_TRUE(read_file(in_root("a/b/file")) == data);
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
}

TEST_F(TransferSessionTest, PutOfMoreThanAnnouncedIsDiscarded) {
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send(put_head("over.txt", 3) + "12345"));
  // PROTOCOL.md shows the answer without the name; ferryd adds it, as to its other errors.
  EXPECT_EQ(peer.read_head(), "ERROR more data than FILESIZE announced: over.txt\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  peer.close();
  EXPECT_FALSE(wait_for_log("session 1: PUT \"over.txt\"").empty());
  EXPECT_FALSE(exists(in_root("over.txt")));
  EXPECT_TRUE(temporaries_in(root_path()).empty());
}

TEST_F(TransferSessionTest, APutCutShortLeavesNothingBehind) {
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send(put_head("a/b/file", 1000) + "only a part"));
  ASSERT_TRUE(peer.stays_quiet_for(std::chrono::milliseconds(100)));
  peer.close();
  const std::string logged = wait_for_log("session 1: PUT \"a/b/file\" 11 bytes in");
  EXPECT_TRUE(logged.starts_with("warning ")) << logged;
  EXPECT_TRUE(eventually([&] { return state().transfers.load() == 0; }));
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
  EXPECT_TRUE(temporaries_in(in_root("a/b")).empty());
}

TEST_F(TransferSessionTest, PutOfAReservedNameOrIntoAMissingDirectoryIsRefused) {
  Peer reserved = transfer_session();
  ASSERT_TRUE(reserved.send(put_head(".ferry-tmp-x", 1) + "x"));
  EXPECT_EQ(reserved.read_head(), "ERROR name reserved for uploads: .ferry-tmp-x\n\n");
  EXPECT_TRUE(reserved.ends_without_more_data());
  Peer missing = transfer_session();
  ASSERT_TRUE(missing.send(put_head("new/a.txt", 1) + "x"));
  EXPECT_EQ(missing.read_head(), "ERROR no such directory: new/a.txt\n\n");
  EXPECT_TRUE(missing.ends_without_more_data());
  Peer no_size = transfer_session();
  ASSERT_TRUE(no_size.send("PUT\nFILENAME: x\n\n"));
  EXPECT_EQ(no_size.read_head(), "ERROR PUT needs a FILESIZE header\n\n");
  EXPECT_EQ(names_in(root_path()), (std::set<std::string>{"a"}));
}

TEST_F(TransferSessionTest, ReadOnlyRefusesPutAndStillServesGet) {
  config().read_only = true;
  Peer put = transfer_session();
  ASSERT_TRUE(put.send(put_head("new.txt", 5) + "12345"));
  EXPECT_EQ(put.read_head(), "ERROR server is read-only\n\n");
  EXPECT_TRUE(put.ends_without_more_data());
  EXPECT_FALSE(exists(in_root("new.txt")));
  Peer get = transfer_session();
  ASSERT_TRUE(get.send("GET\nFILENAME: a/b/file\n\n"));
  EXPECT_EQ(get.read_head(), "OK\nFILESIZE: 11\n\n");
  EXPECT_EQ(get.read_to_end(), kInsideContent);
}

TEST_F(TransferSessionTest, LsListsADirectoryWithoutTheTemporaries) {
  write_file(in_root(".ferry-tmp-0123456789abcdef"), "unfinished");
  write_file(in_root("hello.txt"), "hello\n");
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send("LS\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  const std::string listing = peer.read_to_end();
  const std::regex line_pattern(
      "([dflo]) ([0-9]+) [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:"
      "[0-9]{2}Z (.*)");
  std::set<std::string> entries;
  std::size_t start = 0;
  for (std::size_t end = 0; (end = listing.find('\n', start)) != std::string::npos;
       start = end + 1) {
    const std::string line = listing.substr(start, end - start);
    std::smatch match;
    ASSERT_TRUE(std::regex_match(line, match, line_pattern)) << line;
    entries.insert(match[1].str() + " " + match[3].str());
    if (match[3].str() == "hello.txt") {
      EXPECT_EQ(match[2].str(), "6");
    }
  }
  EXPECT_EQ(start, listing.size()) << "the listing ends in a line feed";
  EXPECT_EQ(entries, (std::set<std::string>{"d a", "f hello.txt"}));

  Peer below = transfer_session();
  ASSERT_TRUE(below.send("LS a/b\n\n"));
  EXPECT_EQ(below.read_head(), "OK\n\n");
  const std::string file_line = below.read_to_end();
  EXPECT_TRUE(std::regex_match(file_line, std::regex("f 11 [0-9TZ:-]+ file\n"))) << file_line;
}

TEST_F(TransferSessionTest, LsOfSomethingMissingIsAnError) {
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send("LS nope\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR no such file or directory: nope\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  // The listing's place is held until the connection ends (the drain after the ERROR
  // included), then given back.
  EXPECT_EQ(state().listings.load(), 1u);
  peer.close();
  EXPECT_TRUE(eventually([&] { return state().listings.load() == 0; }));
}

TEST_F(TransferSessionTest, AHeadOverTheLimitIsRefused) {
  Peer peer = transfer_session();
  std::string head = "GET\n";
  while (head.size() <= 8192)
    head += "X-Padding: " + std::string(100, 'p') + "\n";
  ASSERT_TRUE(peer.send(head));
  EXPECT_EQ(peer.read_head(), "ERROR message head too long (limit 8192 bytes)\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  peer.close();
  EXPECT_FALSE(wait_for_log("message head too long").empty());
}

TEST_F(TransferSessionTest, AnUnknownVerbIsRefused) {
  Peer peer = transfer_session();
  ASSERT_TRUE(peer.send("FETCH\nFILENAME: a/b/file\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR unknown command: FETCH\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  Peer control_verb = transfer_session();
  ASSERT_TRUE(control_verb.send("OPEN 0\n\n"));
  EXPECT_EQ(control_verb.read_head(), "ERROR unknown command: OPEN\n\n");
}

TEST_F(TransferSessionTest, AHeadThatStopsIsCutByTheRateFloor) {
  config().transfer_timeout = std::chrono::seconds(1);
  config().head_timeout = std::chrono::seconds(1);
  Peer peer = transfer_session();
  const auto started = Clock::now();
  ASSERT_TRUE(peer.send("GET\n"));
  EXPECT_TRUE(peer.ends_without_more_data());
  const auto took = Clock::now() - started;
  EXPECT_GE(took, std::chrono::milliseconds(700));
  const std::string logged = wait_for_log("session 1: - \"\" 0 bytes in");
  EXPECT_NE(logged.find("closed before a complete request (no progress for 1 s)"),
            std::string::npos)
      << logged;
}

TEST_F(TransferSessionTest, ANewConnectionThatSaysNothingIsClosedWithoutAnAnswer) {
  Peer peer = transfer_session();
  peer.shutdown_send();
  EXPECT_TRUE(peer.ends_without_more_data());
  EXPECT_NE(wait_for_log("session 1: - \"\" 0 bytes in").find("closed before a complete request"),
            std::string::npos);
}

}  // namespace
}  // namespace ferryd::testing
