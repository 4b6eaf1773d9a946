#include "ferry/client/completion.hpp"

#include <gtest/gtest.h>

namespace client = ferry::client;
using ferry::protocol::Entry;

namespace {
std::vector<Entry> listing() {
  return {{'f', 1, 0, "doc with space.txt"}, {'d', 0, 0, "docs"},  {'f', 1, 0, ".hidden"},
          {'f', 1, 0, "bad\x1b[2Jname"},     {'l', 1, 0, "dlink"}, {'f', 1, 0, "zeta"}};
}
}  // namespace

TEST(Completion, Candidates) {
  EXPECT_EQ(client::completion_candidates("do", listing()),
            (std::vector<std::string>{"doc with space.txt", "docs/"}));
  EXPECT_EQ(client::completion_candidates("", listing()),
            (std::vector<std::string>{"dlink", "doc with space.txt", "docs/", "zeta"}));
  EXPECT_EQ(client::completion_candidates(".", listing()), (std::vector<std::string>{".hidden"}));
  EXPECT_EQ(client::completion_candidates("sub/dir/z", listing()),
            (std::vector<std::string>{"sub/dir/zeta"}));
  EXPECT_TRUE(client::completion_candidates("bad", listing()).empty());  // not printable
}

TEST(Completion, Directory) {
  EXPECT_EQ(client::completion_directory("docs/a"), "docs/");
  EXPECT_EQ(client::completion_directory("/a"), "/");
  EXPECT_EQ(client::completion_directory("a"), "");
}

TEST(Completion, CacheLifetime) {
  client::ListingCache cache;
  const auto t0 = client::ListingCache::Clock::now();
  EXPECT_EQ(cache.find("docs", t0), nullptr);
  cache.store("docs", listing(), t0);
  ASSERT_NE(cache.find("docs", t0 + std::chrono::seconds(4)), nullptr);
  EXPECT_EQ(cache.find("docs", t0 + std::chrono::seconds(4))->size(), listing().size());
  EXPECT_EQ(cache.find("", t0), nullptr);
  EXPECT_EQ(cache.find("docs", t0 + client::ListingCache::kLifetime), nullptr);
  cache.clear();
  EXPECT_EQ(cache.find("docs", t0), nullptr);
}
