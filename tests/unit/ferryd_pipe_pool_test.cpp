// A worker's splice pipes (src/ferryd/pipe_pool.hpp): lent up to a bound, reused, woken on
// return, and a pipe that may hold bytes is never lent again.

#include <gtest/gtest.h>

#include <utility>

#include "pipe_pool.hpp"

namespace {

using ferryd::PipePool;

TEST(PipePool, LendsUpToTheBoundThenSaysAllAreLent) {
  PipePool pool(1 << 16, 2);
  auto first = pool.borrow();
  auto second = pool.borrow();
  ASSERT_TRUE(first.lease);
  ASSERT_TRUE(second.lease);
  EXPECT_EQ(pool.lent(), 2U);
  auto third = pool.borrow();
  EXPECT_FALSE(third.lease);
  EXPECT_EQ(third.refusal, PipePool::Refusal::all_lent);
}

TEST(PipePool, AReturnedPipeIsLentAgainAndWakesTheWaiters) {
  PipePool pool(1 << 16, 1);
  int woken = 0;
  pool.on_return([&woken] { ++woken; });
  {
    auto borrowed = pool.borrow();
    ASSERT_TRUE(borrowed.lease);
    EXPECT_GT(borrowed.lease->pipe().capacity(), 0U);
    EXPECT_FALSE(pool.borrow().lease);
  }
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(pool.lent(), 0U);
  EXPECT_EQ(pool.idle(), 1U);
  auto again = pool.borrow();
  ASSERT_TRUE(again.lease);
  EXPECT_EQ(pool.idle(), 0U);  // the same pipe, not a new one
}

TEST(PipePool, ADiscardedPipeIsClosedNotKept) {
  PipePool pool(1 << 16, 1);
  {
    auto borrowed = pool.borrow();
    ASSERT_TRUE(borrowed.lease);
    borrowed.lease->discard();
  }
  EXPECT_EQ(pool.lent(), 0U);
  EXPECT_EQ(pool.idle(), 0U);
  EXPECT_TRUE(pool.borrow().lease);  // a fresh one
}

TEST(PipePool, AMovedLeaseReturnsOnce) {
  PipePool pool(1 << 16, 1);
  int woken = 0;
  pool.on_return([&woken] { ++woken; });
  {
    auto borrowed = pool.borrow();
    ASSERT_TRUE(borrowed.lease);
    PipePool::Lease moved = std::move(*borrowed.lease);
    borrowed.lease.reset();
    EXPECT_EQ(woken, 0);
    EXPECT_EQ(pool.lent(), 1U);
  }
  EXPECT_EQ(woken, 1);
  EXPECT_EQ(pool.lent(), 0U);
}

}  // namespace
