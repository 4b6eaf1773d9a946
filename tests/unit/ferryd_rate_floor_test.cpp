#include "rate_floor.hpp"

#include <gtest/gtest.h>

namespace ferryd {
namespace {

using std::chrono::seconds;

TEST(RateFloor, TheFloorIsTheRateTimesTheWindowAndNeverZero) {
  EXPECT_EQ(RateFloor(seconds(30), 1024).floor(), 30u * 1024);
  EXPECT_EQ(RateFloor(seconds(30), 0).floor(), 1u);
  EXPECT_EQ(RateFloor(seconds(2), 1024).slice(), std::chrono::milliseconds(500));
}

TEST(RateFloor, AStallIsCutAtTheEndOfTheFirstFullWindow) {
  RateFloor rate(seconds(2), 0);
  EXPECT_TRUE(rate.slice_ended());
  EXPECT_TRUE(rate.slice_ended());
  EXPECT_TRUE(rate.slice_ended());
  EXPECT_FALSE(rate.slice_ended());
  EXPECT_EQ(rate.last_window(), 0u);
}

TEST(RateFloor, ATrickleBelowTheFloorIsCut) {
  RateFloor rate(seconds(2), 1024);  // 2048 bytes per window
  for (int slice = 0; slice < 3; ++slice) {
    rate.moved(1);
    EXPECT_TRUE(rate.slice_ended());
  }
  rate.moved(1);
  EXPECT_FALSE(rate.slice_ended());
  EXPECT_EQ(rate.last_window(), 4u);
}

TEST(RateFloor, TheWindowSlides) {
  RateFloor rate(seconds(4), 1);  // 4 bytes per window
  rate.moved(4);
  for (int slice = 0; slice < 4; ++slice)
    EXPECT_TRUE(rate.slice_ended());
  // The 4 bytes were in the first slice: the window that follows it moved nothing.
  EXPECT_FALSE(rate.slice_ended());
}

TEST(RateFloor, AStallThatBeginsMidWindowIsCutWithinAQuarterMore) {
  RateFloor rate(seconds(4), 0);
  int slices = 0;
  rate.moved(100);
  while (rate.slice_ended())
    ++slices;
  EXPECT_EQ(slices, 4);  // the fifth slice end closes it: 1¼ windows after the last byte
}

TEST(RateFloor, PausedTimeDoesNotCountAgainstThePeer) {
  RateFloor rate(seconds(2), 1024);
  rate.pause();
  for (int slice = 0; slice < 10; ++slice)
    EXPECT_TRUE(rate.slice_ended());
  rate.resume();
  rate.moved(4096);
  for (int slice = 0; slice < 4; ++slice)
    EXPECT_TRUE(rate.slice_ended());
}

TEST(RateFloor, APauseAfterEveryByteDoesNotRestartTheWindow) {
  RateFloor rate(seconds(2), 1024);
  for (int slice = 0; slice < 3; ++slice) {
    rate.pause();
    rate.moved(1);
    rate.resume();
    EXPECT_TRUE(rate.slice_ended());
  }
  rate.pause();
  rate.resume();
  EXPECT_FALSE(rate.slice_ended());
}

TEST(RateFloor, RestartForgetsTheHeadsSlices) {
  RateFloor rate(seconds(2), 0);
  EXPECT_TRUE(rate.slice_ended());
  EXPECT_TRUE(rate.slice_ended());
  EXPECT_TRUE(rate.slice_ended());
  rate.restart();
  EXPECT_TRUE(rate.slice_ended());
}

}  // namespace
}  // namespace ferryd
