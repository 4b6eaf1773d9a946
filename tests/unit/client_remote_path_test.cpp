#include <gtest/gtest.h>

#include "ferry/client/history_path.hpp"
#include "ferry/client/remote_path.hpp"

namespace ferry::client {
namespace {

TEST(JoinRemote, RelativeToTheWorkingDirectory) {
  EXPECT_EQ(join_remote("", "a.txt"), "a.txt");
  EXPECT_EQ(join_remote("docs", "a.txt"), "docs/a.txt");
  EXPECT_EQ(join_remote("docs/sub", "../x"), "docs/x");
  EXPECT_EQ(join_remote("docs", "."), "docs");
  EXPECT_EQ(join_remote("docs", ""), "docs");
}

TEST(JoinRemote, DotDotBeyondTheRootStaysAtTheRoot) {
  EXPECT_EQ(join_remote("", ".."), "");
  EXPECT_EQ(join_remote("docs", "../../../etc/passwd"), "etc/passwd");
  EXPECT_EQ(join_remote("a/b", "../../.."), "");
}

TEST(JoinRemote, ALeadingSlashStartsFromTheRoot) {
  EXPECT_EQ(join_remote("docs/sub", "/x"), "x");
  EXPECT_EQ(join_remote("docs", "/"), "");
  EXPECT_EQ(join_remote("docs", "//x//y/"), "x/y");
}

TEST(JoinRemote, TrailingAndRepeatedSlashesAreDropped) {
  EXPECT_EQ(join_remote("docs/", "sub/"), "docs/sub");
  EXPECT_EQ(join_remote("", "a//b/./c/"), "a/b/c");
}

TEST(JoinRemote, NamesKeepTheirBytes) {
  EXPECT_EQ(join_remote("my dir", "a\\b \xff"), "my dir/a\\b \xff");
  EXPECT_EQ(join_remote("", "..."), "...");
}

TEST(AbsoluteRemote, AsPwdShowsIt) {
  EXPECT_EQ(absolute_remote(""), "/");
  EXPECT_EQ(absolute_remote("docs/sub"), "/docs/sub");
}

TEST(HistoryPath, XdgStateHomeThenHome) {
  EXPECT_EQ(history_path("/s", "/h"), "/s/ferry/history");
  EXPECT_EQ(history_path(nullptr, "/h"), "/h/.local/state/ferry/history");
  EXPECT_EQ(history_path("", "/h"), "/h/.local/state/ferry/history");
  EXPECT_EQ(history_path("relative", "/h"), "/h/.local/state/ferry/history");
  EXPECT_EQ(history_path(nullptr, nullptr), "");
}

}  // namespace
}  // namespace ferry::client
