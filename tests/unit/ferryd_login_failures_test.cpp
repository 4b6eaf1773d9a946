// LoginFailures (src/ferryd/login_failures.hpp): more than 5 failed logins within a minute
// lock an address out for a minute, once; other addresses are untouched; what is remembered
// is bounded. The clock is the test's.

#include "login_failures.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using ferryd::LoginFailures;
using namespace std::chrono_literals;

class LoginFailuresTest : public ::testing::Test {
 protected:
  LoginFailures::Clock::time_point now_{std::chrono::hours(1000)};
  LoginFailures::Now clock() {
    return [this] { return now_; };
  }
};

TEST_F(LoginFailuresTest, TheSixthFailureWithinAMinuteLocksTheAddressOutOnce) {
  LoginFailures failures({}, clock());
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(failures.record("10.0.0.1")) << i;
    EXPECT_FALSE(failures.refusal("10.0.0.1")) << i;
    now_ += 5s;
  }
  EXPECT_TRUE(failures.record("10.0.0.1"));
  const auto refusal = failures.refusal("10.0.0.1");
  ASSERT_TRUE(refusal);
  EXPECT_EQ(*refusal, "too many failed logins from 10.0.0.1: try again in 60 s");
  // Failures while locked out start no second lock-out (the caller logs and closes once).
  EXPECT_FALSE(failures.record("10.0.0.1"));
  now_ += 30s;
  EXPECT_EQ(*failures.refusal("10.0.0.1"),
            "too many failed logins from 10.0.0.1: try again in 30 s");
  EXPECT_FALSE(failures.refusal("10.0.0.2"));  // another address is not concerned
}

TEST_F(LoginFailuresTest, TheLockOutEndsAfterAMinuteAndCountingStartsAfresh) {
  LoginFailures failures({}, clock());
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(failures.record("10.0.0.1"));
  EXPECT_TRUE(failures.record("10.0.0.1"));
  now_ += 59s;
  EXPECT_TRUE(failures.refusal("10.0.0.1"));
  now_ += 1s;
  EXPECT_FALSE(failures.refusal("10.0.0.1"));
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(failures.record("10.0.0.1")) << i;
  EXPECT_TRUE(failures.record("10.0.0.1"));
}

TEST_F(LoginFailuresTest, FailuresOlderThanTheWindowDoNotCount) {
  LoginFailures failures({}, clock());
  // Five a minute, forever: never locked out (a sliding window, not a fixed minute).
  for (int i = 0; i < 30; ++i) {
    EXPECT_FALSE(failures.record("10.0.0.1")) << i;
    now_ += 12s;
  }
  EXPECT_FALSE(failures.refusal("10.0.0.1"));
  now_ += 60s;
  for (int i = 0; i < 5; ++i)
    EXPECT_FALSE(failures.record("10.0.0.1"));
  now_ += 1s;
  EXPECT_TRUE(failures.record("10.0.0.1"));  // six within 1 s
}

TEST_F(LoginFailuresTest, AddressesAreCountedApart) {
  LoginFailures failures({}, clock());
  for (int i = 0; i < 5; ++i) {
    EXPECT_FALSE(failures.record("10.0.0.1"));
    EXPECT_FALSE(failures.record("::1"));
  }
  EXPECT_TRUE(failures.record("::1"));
  EXPECT_FALSE(failures.refusal("10.0.0.1"));
  EXPECT_TRUE(failures.refusal("::1"));
}

TEST_F(LoginFailuresTest, OtherLimitsAreHonoured) {
  LoginFailures failures({.max_failures = 1, .window = 10s, .lockout = 5s, .max_addresses = 8},
                         clock());
  EXPECT_FALSE(failures.record("a"));
  EXPECT_TRUE(failures.record("a"));
  now_ += 5s;
  EXPECT_FALSE(failures.refusal("a"));
}

TEST_F(LoginFailuresTest, WhatIsRememberedIsBounded) {
  LoginFailures failures({.max_failures = 5, .window = 60s, .lockout = 60s, .max_addresses = 4},
                         clock());
  for (int i = 0; i < 6; ++i)
    failures.record("locked");
  ASSERT_TRUE(failures.refusal("locked"));
  for (int i = 0; i < 50; ++i) {
    failures.record("10.0.0." + std::to_string(i));
    now_ += 1s;
    EXPECT_LE(failures.addresses(), 4U);
  }
  // The locked-out address is never the one forgotten to make room.
  EXPECT_TRUE(failures.refusal("locked"));
  now_ += 70s;
  failures.record("new");
  EXPECT_LE(failures.addresses(), 2U);  // the stale ones went first
}

}  // namespace
