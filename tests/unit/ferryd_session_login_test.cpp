// LOGIN on the control session (control_login.cpp) over a loopback socket pair: what a
// session may ask before it logged in, the answers that are the same whatever was wrong, the
// wait after a failure with the answers still in order, the user's folder and mode for every
// request after it, transfer tokens required, the lock-out of an address, a busy verifier,
// and a session that ends while its check runs. The password check is a fake here (the
// Argon2id check has its own tests): a hash "h:<password>" matches that password.

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "accounts.hpp"
#include "ferryd_session_harness.hpp"
#include "login_checks.hpp"
#include "manage_requests.hpp"

namespace ferryd::testing {
namespace {

User user(std::string name, std::string root, bool read_only = false) {
  User made;
  made.name = std::move(name);
  made.password_hash = "h:pw-" + made.name;
  made.read_only = read_only;
  made.root = std::move(root);
  made.line = 1;
  return made;
}

bool fake_verify(const std::string& hash, std::string_view password) {
  return hash == "h:" + std::string(password);
}

class LoginSessionTest : public SessionTest {
 protected:
  void SetUp() override {
    SessionTest::SetUp();
    config().allow_plain_login = true;
    config().users_file = "users";
  }

  // The server's users: alice (a), bob (a/b, read-only); checks by `verify`.
  void with_users(LoginChecks::Verify verify = fake_verify, std::size_t concurrency = 2,
                  std::size_t max_waiting = LoginChecks::kMaxWaiting) {
    auto opened =
        open_accounts(state().root, root_path(), {user("alice", "a"), user("bob", "a/b", true)});
    ASSERT_TRUE(opened.accounts) << opened.error;
    state().accounts = std::move(opened.accounts);
    state().login_checks =
        std::make_unique<LoginChecks>(concurrency, max_waiting, std::move(verify));
  }

  static std::string login(std::string_view name, std::string_view password) {
    return fmt::format("LOGIN\nUSER: {}\nPASSWORD: {}\n\n", name, password);
  }
};

TEST_F(LoginSessionTest, OnlyFeaturesQuitAndLoginBeforeALogin) {
  with_users();
  Peer peer = control_session();
  ASSERT_TRUE(peer.send("FEATURES\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\nVERSION: 2\nTOKENS: yes\nLOGIN: required\n\n");
  for (const char* request : {"STAT\n\n", "OPEN 0\nTOKEN: yes\n\n", "MKDIR x\n\n", "LIST\n\n",
                              "OPEN x\n\n", "RENAME\n\n", "GET\nFILENAME: a\n\n"}) {
    ASSERT_TRUE(peer.send(request));
    EXPECT_EQ(peer.read_head(), "ERROR login required\n\n") << request;
  }
  EXPECT_EQ(names_in(root_path()), (std::set<std::string>{"a"}));
  ASSERT_TRUE(peer.send(login("alice", "pw-alice")));
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  ASSERT_TRUE(peer.send(login("alice", "pw-alice")));
  EXPECT_EQ(peer.read_head(), "ERROR already logged in\n\n");
  // With users, a transfer must belong to its session.
  ASSERT_TRUE(peer.send("OPEN 0\n\n"));
  EXPECT_EQ(peer.read_head(),
            "ERROR this server requires transfer tokens (send TOKEN: yes with OPEN)\n\n");
  ASSERT_TRUE(peer.send("OPEN 0\nTOKEN: yes\n\n"));
  EXPECT_TRUE(
      std::regex_match(peer.read_head(), std::regex("OPENED [0-9]+\nTOKEN: [0-9a-f]{32}\n\n")));
  ASSERT_TRUE(peer.send("QUIT\n\n"));
  EXPECT_EQ(peer.read_head(), "BYE\n\n");
  EXPECT_FALSE(wait_for_log("session 1 (alice): logged in (read-write, root ").empty());
  EXPECT_FALSE(wait_for_log("session 1 (alice): ended after").empty());
}

TEST_F(LoginSessionTest, EveryFailureIsTheSameAnswerAndWaitsASecondInOrder) {
  with_users();
  for (const std::string& wrong :
       {login("alice", "nope"), login("carol", "pw-alice"), std::string("LOGIN\nUSER: alice\n\n"),
        std::string("LOGIN alice\nUSER: alice\nPASSWORD: pw-alice\n\n")}) {
    Peer peer = control_session();
    ASSERT_TRUE(peer.send(wrong));
    EXPECT_EQ(peer.read_head(), "ERROR login failed\n\n") << wrong;
  }
  // Pipelined: the failure at once, the next answer not before a second has passed.
  Peer peer = control_session();
  const auto sent = Clock::now();
  ASSERT_TRUE(peer.send(login("alice", "nope") + "FEATURES\n\n" + login("alice", "pw-alice")));
  EXPECT_EQ(peer.read_head(), "ERROR login failed\n\n");
  const auto failed = Clock::now();
  EXPECT_LT(failed - sent, 500ms);
  EXPECT_EQ(peer.read_head(), features_answer(true));
  EXPECT_GE(Clock::now() - failed, 900ms);
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  EXPECT_FALSE(wait_for_log("login failed: wrong password for \"alice\"").empty());
  EXPECT_FALSE(wait_for_log("login failed: unknown user \"carol\"").empty());
  EXPECT_FALSE(wait_for_log("login failed: malformed LOGIN").empty());
  for (const std::string& line : log_lines()) {
    EXPECT_EQ(line.find("pw-alice"), std::string::npos) << line;
    EXPECT_EQ(line.find("nope"), std::string::npos) << line;
  }
}

TEST_F(LoginSessionTest, TheUsersFolderAndModeForEveryRequestAfterIt) {
  with_users();
  Peer peer = control_session();
  ASSERT_TRUE(peer.send(login("bob", "pw-bob")));
  EXPECT_EQ(peer.read_head(), "OK\n\n");
  // bob's root is a/b: "file" is at its top, and nothing climbs above it.
  for (const char* path : {"file", "/file", "../../file", "/../file", "./../file"}) {
    ASSERT_TRUE(peer.send(fmt::format("STAT {}\n\n", path)));
    EXPECT_TRUE(peer.read_head().starts_with("OK\nTYPE: f\nSIZE: 11\n")) << path;
  }
  for (const char* path : {"a/b/file", "../b/file", "/a"}) {
    ASSERT_TRUE(peer.send(fmt::format("STAT {}\n\n", path)));
    EXPECT_EQ(peer.read_head(), fmt::format("ERROR no such file or directory: {}\n\n", path));
  }
  // Read-only: the user's refusal, not the server's.
  for (const char* request :
       {"MKDIR x\n\n", "RMDIR x\n\n", "DELETE file\n\n", "RENAME\nFROM: file\nTO: g\n\n"}) {
    ASSERT_TRUE(peer.send(request));
    EXPECT_EQ(peer.read_head(), "ERROR read-only\n\n") << request;
  }
  EXPECT_EQ(names_in(in_root("a/b")), (std::set<std::string>{"file"}));
  EXPECT_FALSE(wait_for_log("session 1 (bob): STAT \"../../file\": ok").empty());
  EXPECT_FALSE(wait_for_log("session 1 (bob): MKDIR \"x\": read-only").empty());
  expect_outside_untouched();
}

TEST_F(LoginSessionTest, MoreThanFiveFailuresCloseEverySessionOfTheAddress) {
  with_users();
  Peer logged_in = control_session();
  ASSERT_TRUE(logged_in.send(login("alice", "pw-alice")));
  EXPECT_EQ(logged_in.read_head(), "OK\n\n");
  std::vector<Peer> failing;
  for (int i = 0; i < 5; ++i) {
    failing.push_back(control_session());
    ASSERT_TRUE(failing.back().send(login("alice", "wrong")));
    EXPECT_EQ(failing.back().read_head(), "ERROR login failed\n\n") << i;
  }
  Peer last = control_session();
  ASSERT_TRUE(last.send(login("alice", "wrong")));
  EXPECT_EQ(last.read_head(), "ERROR login failed\n\n");
  EXPECT_TRUE(last.ends_without_more_data());
  EXPECT_TRUE(logged_in.ends_without_more_data());
  for (Peer& peer : failing)
    EXPECT_TRUE(peer.ends_without_more_data());
  EXPECT_FALSE(
      wait_for_log("more than 5 failed logins within 60 s from 127.0.0.1: its sessions are closed")
          .empty());
  EXPECT_FALSE(wait_for_log("(alice): ended after").empty());
  // A login from it is refused meanwhile (the accept loop refuses its new sessions too).
  Peer again = control_session();
  ASSERT_TRUE(again.send(login("alice", "pw-alice")));
  EXPECT_EQ(again.read_head(),
            "ERROR too many failed logins from 127.0.0.1: try again in 60 s\n\n");
  EXPECT_TRUE(again.ends_without_more_data());
}

// A check that waits until the test lets it go.
struct HeldChecks {
  std::mutex mutex;
  std::condition_variable changed;
  int entered = 0;
  bool released = false;

  LoginChecks::Verify verify() {
    return [this](const std::string& hash, std::string_view password) {
      std::unique_lock lock(mutex);
      ++entered;
      changed.notify_all();
      changed.wait(lock, [this] { return released; });
      return fake_verify(hash, password);
    };
  }
  bool wait_entered(int count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 2s, [&] { return entered >= count; });
  }
  void release() {
    const std::lock_guard lock(mutex);
    released = true;
    changed.notify_all();
  }
};

TEST_F(LoginSessionTest, ChecksBeyondTheQueueAreBusyAndASessionWaitsForItsOwn) {
  HeldChecks held;
  with_users(held.verify(), 1, 1);
  Peer running = control_session();
  ASSERT_TRUE(running.send(login("alice", "pw-alice") + "STAT\n\n"));
  ASSERT_TRUE(held.wait_entered(1));
  Peer waiting = control_session();
  ASSERT_TRUE(waiting.send(login("bob", "pw-bob")));
  ASSERT_TRUE(eventually([&] { return state().login_checks->waiting() == 1; }));
  Peer refused = control_session();
  ASSERT_TRUE(refused.send(login("alice", "pw-alice") + "FEATURES\n\n"));
  EXPECT_EQ(refused.read_head(), "ERROR server busy: too many logins in progress\n\n");
  EXPECT_EQ(refused.read_head(), features_answer(true));  // no failure: no wait
  // The session whose check runs answers nothing meanwhile, not even the STAT after it.
  EXPECT_TRUE(running.stays_quiet_for(100ms));
  held.release();
  EXPECT_EQ(running.read_head(), "OK\n\n");
  EXPECT_TRUE(running.read_head().starts_with("OK\nTYPE: d\n"));
  EXPECT_EQ(waiting.read_head(), "OK\n\n");
}

TEST_F(LoginSessionTest, SessionsClosedWhileTheirChecksWaitAreSkippedAndNotCounted) {
  HeldChecks held;
  with_users(held.verify(), 1, 8);
  Peer running = control_session();
  ASSERT_TRUE(running.send(login("alice", "wrong")));
  ASSERT_TRUE(held.wait_entered(1));
  std::vector<Peer> waiting;
  for (int i = 0; i < 6; ++i) {
    waiting.push_back(control_session());
    ASSERT_TRUE(waiting.back().send(login("alice", "wrong")));
    ASSERT_TRUE(eventually(
        [&] { return state().login_checks->waiting() == static_cast<std::size_t>(i) + 1; }));
  }
  // As a lock-out closes them (or a shutdown): every session of the address ends.
  on_worker([this] {
    for (Closable* control : std::vector(worker().controls.begin(), worker().controls.end())) {
      control->close_if_from(kClientAddress, "closed by the test");
    }
  });
  for (Peer& peer : waiting)
    EXPECT_TRUE(peer.ends_without_more_data());
  held.release();
  ASSERT_TRUE(eventually([&] { return state().login_checks->waiting() == 0; }));
  EXPECT_FALSE(
      wait_for_log("session 7: LOGIN of \"alice\" checked after the session ended").empty());
  {
    const std::lock_guard lock(held.mutex);
    EXPECT_EQ(held.entered, 1);  // the ended sessions' checks never ran
  }
  // Nobody read those answers: no failure counted, no lock-out.
  EXPECT_FALSE(state().login_failures.refusal(kClientAddress));
  EXPECT_TRUE(running.ends_without_more_data());
}

TEST_F(LoginSessionTest, WithoutUsersLoginIsRefusedAndFeaturesUnchanged) {
  Peer peer = control_session();
  ASSERT_TRUE(peer.send(login("alice", "pw-alice")));
  EXPECT_EQ(peer.read_head(), "ERROR no logins on this server: it serves everyone without one\n\n");
  ASSERT_TRUE(peer.send("FEATURES\n\nOPEN 0\n\n"));
  EXPECT_EQ(peer.read_head(), "OK\nVERSION: 2\nTOKENS: yes\n\n");
  EXPECT_TRUE(std::regex_match(peer.read_head(), std::regex("OPENED [0-9]+\n\n")));
}

TEST_F(LoginSessionTest, PlaintextLoginNeedsAllowPlainLogin) {
  config().allow_plain_login = false;
  with_users();
  Peer peer = control_session();
  ASSERT_TRUE(peer.send(login("alice", "pw-alice") + "STAT\n\n"));
  EXPECT_EQ(peer.read_head(), "ERROR login needs TLS (or ferryd --allow-plain-login)\n\n");
  EXPECT_EQ(peer.read_head(), "ERROR login required\n\n");
}
}  // namespace
}  // namespace ferryd::testing
