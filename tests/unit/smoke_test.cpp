#include <gtest/gtest.h>

#include "ferry/protocol/message.hpp"

TEST(Smoke, ParsesOpen) {
  auto r = ferry::protocol::parse_head("OPEN 5\n\n");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.message.is("open"));
}
