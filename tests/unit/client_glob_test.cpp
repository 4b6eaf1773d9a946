#include <gtest/gtest.h>

#include "ferry/client/glob.hpp"

namespace ferry::client {
namespace {

std::vector<std::string> names(const std::vector<protocol::Entry>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const auto& entry : entries)
    out.push_back(entry.name);
  return out;
}

TEST(Glob, OnlyTheLastComponentCounts) {
  EXPECT_TRUE(has_glob("*.txt"));
  EXPECT_TRUE(has_glob("docs/a?.md"));
  EXPECT_TRUE(has_glob("x/[ab]"));
  EXPECT_FALSE(has_glob("d*/a.txt"));
  EXPECT_FALSE(has_glob("plain name"));
}

TEST(Glob, SplitsDirectoryAndPattern) {
  EXPECT_EQ(split_glob("*.txt").directory, "");
  EXPECT_EQ(split_glob("*.txt").pattern, "*.txt");
  EXPECT_EQ(split_glob("docs/sub/*.md").directory, "docs/sub");
  EXPECT_EQ(split_glob("docs/sub/*.md").pattern, "*.md");
  EXPECT_EQ(split_glob("/*").directory, "/");
}

TEST(Glob, MatchesAsAShellWord) {
  const std::vector<protocol::Entry> entries = {{'f', 1, 0, "a.txt"},
                                                {'f', 1, 0, "b.txt"},
                                                {'d', 1, 0, "c.md"},
                                                {'f', 1, 0, ".hidden.txt"},
                                                {'f', 1, 0, "a b.txt"}};
  EXPECT_EQ(names(match_glob(entries, "*.txt")),
            (std::vector<std::string>{"a.txt", "b.txt", "a b.txt"}));
  EXPECT_EQ(names(match_glob(entries, "?.txt")), (std::vector<std::string>{"a.txt", "b.txt"}));
  EXPECT_EQ(names(match_glob(entries, "[bc]*")), (std::vector<std::string>{"b.txt", "c.md"}));
  EXPECT_EQ(names(match_glob(entries, ".*")), (std::vector<std::string>{".hidden.txt"}));
  EXPECT_TRUE(match_glob(entries, "*.pdf").empty());
}

}  // namespace
}  // namespace ferry::client
