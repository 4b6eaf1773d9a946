// LoginChecks (src/ferryd/login_checks.hpp): at most `concurrency` checks at once, at most
// `max_waiting` more waiting (then submit() refuses), the results to each check's `done`,
// abandoned checks skipped, and what is still waiting dropped at stop(). The Argon2id check
// itself is replaced by a fake that waits for the test.

#include "login_checks.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "password_hash.hpp"

namespace {

using ferryd::LoginChecks;
using namespace std::chrono_literals;

// A fake check: "hash" matches "password" when they are equal; each check waits until the
// test opens the gate.
class Gate {
 public:
  LoginChecks::Verify verify() {
    return [this](const std::string& hash, std::string_view password) {
      std::unique_lock lock(mutex_);
      ++entered_;
      changed_.notify_all();
      changed_.wait(lock, [this] { return open_; });
      return hash == password;
    };
  }
  void open() {
    const std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_entered(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return entered_ >= count; });
  }
  int entered() {
    const std::lock_guard lock(mutex_);
    return entered_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int entered_ = 0;
  bool open_ = false;
};

struct Results {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<bool> matched;

  std::function<void(bool)> done() {
    return [this](bool result) {
      const std::lock_guard lock(mutex);
      matched.push_back(result);
      changed.notify_all();
    };
  }
  bool wait_for(std::size_t count) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, 5s, [&] { return matched.size() >= count; });
  }
};

LoginChecks::Check check(std::string hash, std::string password, std::function<void(bool)> done,
                         std::shared_ptr<const std::atomic<bool>> abandoned = nullptr) {
  return {std::move(hash), std::move(password), std::move(abandoned), std::move(done)};
}

TEST(LoginChecks, AtMostConcurrencyAtOnceAndABoundedQueue) {
  Gate gate;
  Results results;
  LoginChecks checks(2, 3, gate.verify());
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(checks.submit(check("pw", i % 2 == 0 ? "pw" : "no", results.done()))) << i;
    if (i == 1) {
      ASSERT_TRUE(gate.wait_entered(2));  // both threads busy, the rest wait
    }
  }
  EXPECT_FALSE(checks.submit(check("pw", "pw", results.done())));  // a 4th would wait
  EXPECT_EQ(checks.running(), 2U);
  EXPECT_EQ(checks.waiting(), 3U);
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(gate.entered(), 2);  // no third check started
  gate.open();
  ASSERT_TRUE(results.wait_for(5));
  EXPECT_EQ(checks.most_running(), 2U);
  const std::lock_guard lock(results.mutex);
  EXPECT_EQ(std::count(results.matched.begin(), results.matched.end(), true), 3);
}

TEST(LoginChecks, AnAbandonedCheckIsSkipped) {
  Gate gate;
  Results results;
  LoginChecks checks(1, 4, gate.verify());
  ASSERT_TRUE(checks.submit(check("pw", "pw", results.done())));
  ASSERT_TRUE(gate.wait_entered(1));
  auto abandoned = std::make_shared<std::atomic<bool>>(false);
  ASSERT_TRUE(checks.submit(check("pw", "pw", results.done(), abandoned)));
  abandoned->store(true);  // the session ended while its check waited
  gate.open();
  ASSERT_TRUE(results.wait_for(2));
  EXPECT_EQ(gate.entered(), 1);  // the second never ran the (costly) check
  const std::lock_guard lock(results.mutex);
  EXPECT_EQ(results.matched, (std::vector<bool>{true, false}));
}

TEST(LoginChecks, StopDropsWhatWaitsAndRefusesMore) {
  Gate gate;
  Results results;
  auto dropped = std::make_shared<int>(0);
  {
    LoginChecks checks(1, 4, gate.verify());
    ASSERT_TRUE(checks.submit(check("a", "a", results.done())));
    ASSERT_TRUE(gate.wait_entered(1));
    // Holds `dropped` until its `done` is destroyed.
    ASSERT_TRUE(checks.submit(check("a", "a", [dropped](bool) { ++*dropped; })));
    std::thread opener([&gate] {
      std::this_thread::sleep_for(50ms);
      gate.open();
    });
    checks.stop();
    opener.join();
    EXPECT_FALSE(checks.submit(check("a", "a", results.done())));
  }
  EXPECT_EQ(*dropped, 0);             // never called
  EXPECT_EQ(dropped.use_count(), 1);  // and destroyed
  ASSERT_TRUE(results.wait_for(1));   // the running one ended normally
}

TEST(LoginChecks, TheRealCheckAndTheDummyHash) {
  const auto hash = ferryd::hash_password("correct horse");
  ASSERT_TRUE(hash);
  Results results;
  LoginChecks checks(LoginChecks::default_concurrency(), LoginChecks::kMaxWaiting,
                     ferryd::verify_password);
  EXPECT_GE(LoginChecks::default_concurrency(), 1U);
  EXPECT_LE(LoginChecks::default_concurrency(), 2U);
  ASSERT_TRUE(checks.submit(check(*hash, "correct horse", results.done())));
  ASSERT_TRUE(checks.submit(check(*hash, "wrong", results.done())));
  const auto dummy = ferryd::dummy_hash_like(*hash);
  ASSERT_TRUE(dummy);
  // The dummy has the model's costs (so an unknown user's check takes as long) and a salt
  // of its own.
  EXPECT_TRUE(dummy->starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << *dummy;
  EXPECT_NE(*dummy, *hash);
  ASSERT_TRUE(checks.submit(check(*dummy, "correct horse", results.done())));
  ASSERT_TRUE(results.wait_for(3));
  const std::lock_guard lock(results.mutex);
  EXPECT_EQ(std::count(results.matched.begin(), results.matched.end(), true), 1);
}

TEST(DummyHash, TakesTheModelsCostsWithinReason) {
  const auto cheap = ferryd::dummy_hash_like("$argon2id$v=19$m=8192,t=3,p=1$c2FsdA$aGFzaA");
  ASSERT_TRUE(cheap);
  EXPECT_TRUE(cheap->starts_with("$argon2id$v=19$m=8192,t=3,p=1$")) << *cheap;
  // No model, a broken one, or costs out of reason: libsodium's interactive costs.
  for (const std::string_view model : {"", "$argon2id$", "$argon2id$v=19$m=999999999,t=2,p=1$x$y",
                                       "$argon2id$v=19$m=65536,t=0,p=1$x$y"}) {
    const auto dummy = ferryd::dummy_hash_like(model);
    ASSERT_TRUE(dummy) << model;
    EXPECT_TRUE(dummy->starts_with("$argon2id$v=19$m=65536,t=2,p=1$")) << model << ": " << *dummy;
  }
}

}  // namespace
