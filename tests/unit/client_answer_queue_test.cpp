#include <gtest/gtest.h>

#include "ferry/client/answer_queue.hpp"

namespace ferry::client {
namespace {

using Kind = AnswerQueue::Kind;

TEST(AnswerQueue, AnswersGoToTheRequestsInOrder) {
  AnswerQueue queue;
  queue.sent(Kind::features);
  queue.sent(Kind::open);
  queue.sent(Kind::reply);
  queue.sent(Kind::reply);
  EXPECT_EQ(queue.awaited(), 4U);
  EXPECT_EQ(queue.arrived("OK\nVERSION: 2\n\n"), Kind::features);
  EXPECT_EQ(queue.arrived("OPENED 40000\n\n"), Kind::open);
  EXPECT_EQ(queue.arrived("OK\n\n"), Kind::reply);
  EXPECT_EQ(queue.arrived("ERROR exists: a\n\n"), Kind::reply);
  EXPECT_EQ(queue.awaited(), 0U);
  EXPECT_EQ(queue.take(Kind::reply), "OK\n\n");
  EXPECT_EQ(queue.take(Kind::reply), "ERROR exists: a\n\n");
  EXPECT_EQ(queue.take(Kind::reply), std::nullopt);
}

TEST(AnswerQueue, APrefetchedOpenReadBeforeAReplyWaitsForItsOwner) {
  AnswerQueue queue;
  queue.sent(Kind::open);   // prefetched by the previous transfer
  queue.sent(Kind::reply);  // then a STAT
  EXPECT_EQ(queue.pending(Kind::open), 1U);
  EXPECT_TRUE(queue.awaiting(Kind::reply));
  EXPECT_EQ(queue.arrived("OPENED 40001\n\n"), Kind::open);
  EXPECT_FALSE(queue.awaiting(Kind::open));
  EXPECT_EQ(queue.pending(Kind::open), 1U);  // arrived, not taken: the next transfer's
  EXPECT_EQ(queue.arrived("OK\n\n"), Kind::reply);
  EXPECT_EQ(queue.take(Kind::open), "OPENED 40001\n\n");
  EXPECT_EQ(queue.pending(Kind::open), 0U);
}

TEST(AnswerQueue, AnAnswerNobodyAskedForIsRefused) {
  AnswerQueue queue;
  EXPECT_EQ(queue.arrived("OK\n\n"), std::nullopt);
  queue.sent(Kind::open);
  queue.clear();
  EXPECT_EQ(queue.awaited(), 0U);
  EXPECT_EQ(queue.arrived("OPENED 1\n\n"), std::nullopt);
}

}  // namespace
}  // namespace ferry::client
