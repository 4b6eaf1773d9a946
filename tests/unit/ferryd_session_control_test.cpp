// The control session (control_session.cpp) over a loopback socket pair: the answers to
// FEATURES, STAT and the requests that change names, the read-only refusals, unknown verbs,
// pipelining, OPEN and its refusals, and how a session ends (QUIT, a head too long, the
// sweep's deadlines, the client leaving).

#include <fmt/format.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "ferry/protocol/message.hpp"
#include "ferryd_session_harness.hpp"
#include "manage_requests.hpp"

namespace ferryd::testing {
namespace {

namespace protocol = ferry::protocol;

using ControlSessionTest = SessionTest;

// The port of an `OPENED <port>` answer, or nullopt.
std::optional<std::uint16_t> opened_port(const std::string& answer) {
  static const std::regex opened("OPENED ([0-9]+)\n\n");
  std::smatch match;
  if (!std::regex_match(answer, match, opened)) return std::nullopt;
  return static_cast<std::uint16_t>(std::stoul(match[1].str()));
}

// A port of 127.0.0.1 that was free a moment ago.
std::uint16_t free_port() {
  ferry::fs::Fd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_in any = ipv4_address(kClientAddress, 0);
  EXPECT_EQ(::bind(probe.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
  return local_port(probe.get());
}

TEST_F(ControlSessionTest, FeaturesAnswersTheProtocolVersion) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("FEATURES\n\n"));
  const std::string answer = peer.read_head();
  EXPECT_TRUE(answer.starts_with("OK\nVERSION: 2\n")) << answer;
  EXPECT_EQ(answer, features_answer());  // the rest: manage_requests_test.cpp
  // Matched case-insensitively, CRLF accepted.
  ASSERT_TRUE(peer.send("features\r\n\r\n"));
  EXPECT_EQ(peer.read_head(), features_answer());
  EXPECT_FALSE(wait_for_log("session 1: started, client 127.0.0.1:").empty());
}

TEST_F(ControlSessionTest, StatOfAFileAndOfSomethingMissing) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("STAT a/b/file\n\n"));
  const std::string head = peer.read_head();
  const auto parsed = protocol::parse_head(head);
  ASSERT_TRUE(parsed.ok()) << parsed.error << ": " << head;
  EXPECT_EQ(parsed.message.verb, "OK");
  struct stat st {};
  ASSERT_EQ(::stat(in_root("a/b/file").c_str(), &st), 0);
  const auto header = [&](const char* name) {
    const std::string* value = parsed.message.header(name);
    return value != nullptr ? *value : std::string("(none)");
  };
  EXPECT_EQ(header("TYPE"), "f");
  EXPECT_EQ(header("SIZE"), std::to_string(kInsideContent.size()));
  EXPECT_EQ(header("MODE"), fmt::format("{:o}", st.st_mode & 07777));
  EXPECT_TRUE(std::regex_match(
      header("MTIME"), std::regex("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")))
      << header("MTIME");
  EXPECT_EQ(parsed.message.header("TARGET"), nullptr);

  ASSERT_TRUE(peer.send("STAT a\n\n"));
  EXPECT_EQ(protocol::parse_head(peer.read_head()).message.header("TYPE") != nullptr, true);
  ASSERT_TRUE(peer.send("STAT nope\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR no such file or directory: nope\n\n");
  // The session goes on after an error.
  ASSERT_TRUE(peer.send("FEATURES\n\n"));
  EXPECT_EQ(peer.read_head(), features_answer());
  EXPECT_FALSE(wait_for_log("session 1: STAT \"nope\": no such file or directory: nope").empty());
}

TEST_F(ControlSessionTest, MkdirRmdirDeleteRenameAndTheirErrors) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("MKDIR photos\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  EXPECT_TRUE(std::filesystem::is_directory(in_root("photos")));
  ASSERT_TRUE(peer.send("MKDIR photos\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR exists: photos\n\n");

  ASSERT_TRUE(peer.send("RENAME\nFROM: a/b/file\nTO: photos/f.txt\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  EXPECT_FALSE(exists(in_root("a/b/file")));
  EXPECT_EQ(read_file(in_root("photos/f.txt")), kInsideContent);
  write_file(in_root("g.txt"), "g");
  ASSERT_TRUE(peer.send("RENAME\nFROM: g.txt\nTO: photos/f.txt\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR exists: photos/f.txt\n\n");
  ASSERT_TRUE(peer.send("RENAME\nFROM: g.txt\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR RENAME needs FROM and TO headers\n\n");

  ASSERT_TRUE(peer.send("RMDIR photos\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR not empty: photos\n\n");
  ASSERT_TRUE(peer.send("DELETE photos\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR is a directory: photos\n\n");
  ASSERT_TRUE(peer.send("DELETE photos/f.txt\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  ASSERT_TRUE(peer.send("RMDIR photos/\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  EXPECT_FALSE(exists(in_root("photos")));
  ASSERT_TRUE(peer.send("RMDIR /\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR not allowed on the served directory\n\n");
  EXPECT_EQ(names_in(root_path()), (std::set<std::string>{"a", "g.txt"}));
  expect_outside_untouched();
  EXPECT_FALSE(wait_for_log("session 1: MKDIR \"photos\": ok").empty());
  EXPECT_FALSE(wait_for_log("session 1: RENAME \"a/b/file\" to \"photos/f.txt\": ok").empty());
}

TEST_F(ControlSessionTest, ReadOnlyRefusesWhatChangesFiles) {
  config().read_only = true;
  Peer peer = control_session();
  for (const char* request :
       {"MKDIR x\n\n", "RMDIR a/b\n\n", "DELETE a/b/file\n\n", "RENAME\nFROM: a\nTO: z\n\n"}) {
    ASSERT_TRUE(peer.send(request));
    EXPECT_EQ(peer.read_head(), "ERROR server is read-only\n\n") << request;
  }
  ASSERT_TRUE(peer.send("STAT a/b/file\n\n"));
  EXPECT_TRUE(peer.read_head().starts_with("OK\nTYPE: f\n"));
  EXPECT_EQ(names_in(root_path()), (std::set<std::string>{"a"}));
  EXPECT_EQ(read_file(in_root("a/b/file")), kInsideContent);
}

TEST_F(ControlSessionTest, AnUnknownVerbIsAnsweredAndTheSessionGoesOn) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("LIST\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR unknown command: LIST\n\n");
  // Transfer verbs are not control verbs.
  ASSERT_TRUE(peer.send("GET\nFILENAME: a/b/file\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR unknown command: GET\n\n");
  ASSERT_TRUE(peer.send("FEATURES\n\n"));
  EXPECT_EQ(peer.read_head(), features_answer());
}

TEST_F(ControlSessionTest, PipelinedRequestsAreAnsweredInOrder) {
  Peer peer = control_session();
  // One write: the version-2 requests go to the file threads one at a time, the others are
  // answered at once, and the answers still come in the order of the requests.
  std::string requests = "FEATURES\n\nMKDIR d\n\nSTAT d\n\nOPEN 80\n\nLIST\n\n";
  for (int i = 0; i < 50; ++i)
    requests += fmt::format("MKDIR d/{}\n\nFEATURES\n\n", i);
  requests += "RMDIR d\n\nDELETE d/7\n\nRMDIR d/7\n\nSTAT d/7\n\nQUIT\n\n";
  ASSERT_TRUE(peer.send(requests));

  EXPECT_EQ(peer.read_head(), features_answer());
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  EXPECT_TRUE(peer.read_head().starts_with("OK\nTYPE: d\n"));
  EXPECT_EQ(peer.read_head(), "ERROR port 80 refused: ports below 1024 are not allowed\n\n");
  EXPECT_EQ(peer.read_head(), "ERROR unknown command: LIST\n\n");
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(peer.read_head(), "OK\n\n") << i;
    EXPECT_EQ(peer.read_head(), features_answer()) << i;
  }
  EXPECT_EQ(peer.read_head(), "ERROR not empty: d\n\n");
  EXPECT_EQ(peer.read_head(), "ERROR is a directory: d/7\n\n");
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  EXPECT_EQ(peer.read_head(), "ERROR no such file or directory: d/7\n\n");
  EXPECT_EQ(peer.read_head(), "BYE\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  EXPECT_EQ(names_in(in_root("d")).size(), 49u);
}

TEST_F(ControlSessionTest, AClientThatDoesNotReadIsAnsweredInFullOnceItDoes) {
  Peer peer = control_session(/*small_buffers=*/true);
  const std::string pair = "FEATURES\n\nLIST\n\n";
  const std::string answers = features_answer() + "ERROR unknown command: LIST\n\n";
  constexpr std::size_t kPairs = 20000;  // 320 kB of requests, 620 kB of answers
  std::string requests;
  for (std::size_t i = 0; i < kPairs; ++i)
    requests += pair;
  // Nothing read: the answers fill the buffers, the session keeps what it cannot send and
  // stops reading, and then the requests fill the buffers the other way.
  const std::size_t taken = peer.send_until_stuck(requests, std::chrono::milliseconds(200));
  EXPECT_LT(taken, requests.size()) << "the session went on reading while it could not send";
  // Reading again: every answer, in order, and the rest of the requests answered too.
  const std::string received =
      peer.exchange(std::string_view(requests).substr(taken), kPairs * answers.size());
  ASSERT_EQ(received.size(), kPairs * answers.size());
  for (std::size_t i = 0; i < kPairs; ++i) {
    if (received.compare(i * answers.size(), answers.size(), answers) != 0) {
      ADD_FAILURE() << "answer pair " << i
                    << " differs: " << received.substr(i * answers.size(), answers.size());
      break;
    }
  }
  ASSERT_TRUE(peer.send("QUIT\n\n"));
  EXPECT_EQ(peer.read_head(), "BYE\n\n");
}

TEST_F(ControlSessionTest, OnceTheServedDirectoryIsRemovedOnlyFeaturesIsAnswered) {
  Peer peer = control_session();
  std::filesystem::remove_all(root_path());
  ASSERT_TRUE(peer.send("STAT a\n\nMKDIR x\n\nFEATURES\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR the served directory was removed\n\n");
  EXPECT_EQ(peer.read_head(), "ERROR the served directory was removed\n\n");
  EXPECT_EQ(peer.read_head(), features_answer());
  EXPECT_FALSE(exists(root_path()));
}

TEST_F(ControlSessionTest, OpenAnswersAPortThatTakesOneTransferFromTheClient) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("OPEN 0\n\n"));
  const std::string answer = peer.read_head();
  const auto port = opened_port(answer);
  ASSERT_TRUE(port) << answer;
  EXPECT_GE(*port, 32768);
  EXPECT_LE(*port, 60999);

  Peer transfer = connect_to(*port);
  ASSERT_TRUE(transfer.valid());
  ASSERT_TRUE(transfer.send("GET\nFILENAME: a/b/file\n\n"));
  EXPECT_EQ(transfer.read_head(), "OK\nFILESIZE: 11\n\n");
  EXPECT_EQ(transfer.read_to_end(), kInsideContent);
  EXPECT_FALSE(wait_for_log("session 1: GET \"a/b/file\" 11 bytes in").empty());
  // One connection only: the port is closed once its client came.
  EXPECT_FALSE(connect_to(*port).valid());

  // The transfer counted in the session: its end is logged with it.
  ASSERT_TRUE(peer.send("QUIT\n\n"));
  EXPECT_EQ(peer.read_head(), "BYE\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
  EXPECT_FALSE(wait_for_log("session 1: ended after").empty());
  EXPECT_NE(wait_for_log("session 1: ended after").find("1 transfer(s): client quit"),
            std::string::npos);
}

TEST_F(ControlSessionTest, OpenRefusesPortsItMayNotOpenAndTheSessionGoesOn) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("OPEN 80\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR port 80 refused: ports below 1024 are not allowed\n\n");
  ASSERT_TRUE(peer.send("OPEN 2000\n\n"));
  EXPECT_EQ(peer.read_head(),
            "ERROR port 2000 refused: outside the data port range 32768-60999\n\n");
  ASSERT_TRUE(peer.send("OPEN x\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR bad port: x (expected a number from 0 to 65535)\n\n");
  ASSERT_TRUE(peer.send("FEATURES\n\n"));
  EXPECT_EQ(peer.read_head(), features_answer());
  // Refused before anything was bound: no slot is held.
  EXPECT_EQ(state().transfer_slots.held(), 0u);
  EXPECT_FALSE(wait_for_log("session 1: OPEN refused: port 80 refused").empty());
}

TEST_F(ControlSessionTest, ANamedPortOfTheRangeIsOpenedOnceAndThenInUse) {
  const std::uint16_t port = free_port();
  config().data_port_min = port;
  config().data_port_max = port;
  Peer peer = control_session();
  ASSERT_TRUE(peer.send(fmt::format("OPEN {}\n\n", port)));
  EXPECT_EQ(peer.read_head(), fmt::format("OPENED {}\n\n", port));
  ASSERT_TRUE(peer.send(fmt::format("OPEN {}\n\nOPEN 0\n\n", port)));
  EXPECT_EQ(peer.read_head(), fmt::format("ERROR port {} is in use\n\n", port));
  EXPECT_EQ(peer.read_head(), fmt::format("ERROR no free port in the range {}-{}\n\n", port, port));
  // The refusals gave their slots back; the opened port holds one.
  EXPECT_TRUE(eventually([&] { return state().transfer_slots.held() == 1; }));
}

TEST_F(ControlSessionTest, OpenedPortsAreLimitedPerSession) {
  config().max_open_ports = 2;
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("OPEN 0\n\nOPEN 0\n\nOPEN 0\n\n"));
  EXPECT_TRUE(opened_port(peer.read_head()));
  EXPECT_TRUE(opened_port(peer.read_head()));
  EXPECT_EQ(peer.read_head(),
            "ERROR too many transfer ports open: at most 2 per session until they are "
            "connected\n\n");
}

TEST_F(ControlSessionTest, TheSessionsPortsCloseWithIt) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("OPEN 0\n\n"));
  const auto port = opened_port(peer.read_head());
  ASSERT_TRUE(port);
  EXPECT_EQ(state().transfer_slots.held(), 1u);
  peer.close();  // the client leaves: its unused port closes and gives its slot back
  EXPECT_FALSE(wait_for_log("session 1: ended after").empty());
  EXPECT_TRUE(eventually([&] { return state().transfer_slots.held() == 0; }));
  EXPECT_FALSE(connect_to(*port).valid());
  EXPECT_NE(wait_for_log("session 1: ended after").find("client closed the connection"),
            std::string::npos);
}

TEST_F(ControlSessionTest, QuitSaysByeAndCloses) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("QUIT\n\nFEATURES\n\n"));
  EXPECT_EQ(peer.read_head(), "BYE\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());  // nothing after QUIT is answered
  EXPECT_TRUE(eventually([&] { return state().sessions.held() == 0; }));
}

TEST_F(ControlSessionTest, AHeadOverTheLimitIsRefusedAndClosed) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("STAT a\n\nSTAT " + std::string(9000, 'x')));
  EXPECT_TRUE(peer.read_head().starts_with("OK\n"));
  EXPECT_EQ(peer.read_head(), "ERROR message head too long (limit 8192 bytes)\n\n");
  EXPECT_TRUE(peer.ends_without_more_data());
}

TEST_F(ControlSessionTest, AMalformedHeadIsRefusedAndClosed) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("FEATURES\nno colon here\n\n"));
  const std::string answer = peer.read_head();
  EXPECT_TRUE(answer.starts_with("ERROR malformed")) << answer;
  EXPECT_TRUE(peer.ends_without_more_data());
}

TEST_F(ControlSessionTest, TheSweepEndsAnIdleSessionAndAnUnfinishedHead) {
  Peer idle = control_session();
  Peer slow = control_session();
  ASSERT_TRUE(idle.send("FEATURES\n\n"));
  EXPECT_EQ(idle.read_head(), features_answer());
  ASSERT_TRUE(slow.send("FEATURES\n"));  // a head begun and never finished
  ASSERT_TRUE(slow.stays_quiet_for(std::chrono::milliseconds(100)));

  // Before either deadline the sweep ends nothing.
  on_worker([&] {
    for (Closable* control : std::vector(worker().controls.begin(), worker().controls.end())) {
      control->sweep(Clock::now() + std::chrono::seconds(1));
    }
  });
  EXPECT_TRUE(idle.stays_quiet_for(std::chrono::milliseconds(50)));
  EXPECT_TRUE(slow.stays_quiet_for(std::chrono::milliseconds(50)));

  // Past the head's deadline (2 s) only the slow one; past the idle deadline (10 s) both.
  on_worker([&] {
    for (Closable* control : std::vector(worker().controls.begin(), worker().controls.end())) {
      control->sweep(Clock::now() + std::chrono::seconds(3));
    }
  });
  EXPECT_TRUE(slow.ends_without_more_data());
  EXPECT_TRUE(idle.stays_quiet_for(std::chrono::milliseconds(50)));
  on_worker([&] {
    for (Closable* control : std::vector(worker().controls.begin(), worker().controls.end())) {
      control->sweep(Clock::now() + std::chrono::seconds(11));
    }
  });
  EXPECT_TRUE(idle.ends_without_more_data());
  EXPECT_FALSE(wait_for_log("session 2: ended after").empty());
  EXPECT_NE(wait_for_log("session 2: ended after").find("message not complete within 2 s"),
            std::string::npos);
  EXPECT_NE(wait_for_log("session 1: ended after").find("idle for 10 s"), std::string::npos);
  EXPECT_TRUE(eventually([&] { return state().sessions.held() == 0; }));
}

}  // namespace
}  // namespace ferryd::testing
