#include "ferry/util/word_quoting.hpp"

#include <gtest/gtest.h>

#include "ferry/util/words.hpp"

namespace util = ferry::util;

namespace {
// What the command line reads back from a quoted word.
std::string read_back(const std::string& word) {
  const auto split = util::split_words("get " + word);
  EXPECT_TRUE(split.ok()) << word;
  EXPECT_EQ(split.words.size(), 2U) << word;
  return split.words.size() == 2 ? split.words[1] : "";
}
}  // namespace

TEST(WordQuoting, Backslashes) {
  EXPECT_EQ(util::quote_word("doc with space.txt", '\0', true), "doc\\ with\\ space.txt");
  EXPECT_EQ(util::quote_word("plain.txt", '\0', true), "plain.txt");
}

TEST(WordQuoting, Quotes) {
  EXPECT_EQ(util::quote_word("a b", '"', true), "\"a b\"");
  EXPECT_EQ(util::quote_word("a b/", '"', false), "\"a b/");
  EXPECT_EQ(util::quote_word("it's", '\'', true), "'it'\\''s'");
  EXPECT_EQ(util::quote_word("a\"$`\\b", '"', true), "\"a\\\"\\$\\`\\\\b\"");
}

TEST(WordQuoting, EveryStyleReadsBack) {
  for (const std::string name : {"doc with space.txt", "it's", "a\"b", "$HOME;rm *", "x\\y",
                                 "(a)|&<>[]{}?#!`", "tab\there"}) {
    for (const char quote : {'\0', '"', '\''}) {
      EXPECT_EQ(read_back(util::quote_word(name, quote, true)), name) << quote << name;
    }
  }
}

TEST(WordQuoting, DequotePartial) {
  EXPECT_EQ(util::dequote_partial("doc\\ wi", '\0'), "doc wi");
  EXPECT_EQ(util::dequote_partial("doc wi", '"'), "doc wi");
  EXPECT_EQ(util::dequote_partial("it'\\''s", '\''), "it's");
  EXPECT_EQ(util::dequote_partial("\"my dir/\"su", '\0'), "my dir/su");
  EXPECT_EQ(util::dequote_partial("abc\\", '\0'), "abc");
  EXPECT_EQ(util::dequote_partial("", '\0'), "");
}

TEST(WordQuoting, IsQuotedAt) {
  const std::string line = "get a\\ b \"c d\" 'e f' g";
  EXPECT_TRUE(util::is_quoted_at(line, 6));    // the escaped space
  EXPECT_FALSE(util::is_quoted_at(line, 3));   // after get
  EXPECT_FALSE(util::is_quoted_at(line, 8));   // after a\ b
  EXPECT_TRUE(util::is_quoted_at(line, 11));   // inside "c d"
  EXPECT_TRUE(util::is_quoted_at(line, 17));   // inside 'e f'
  EXPECT_FALSE(util::is_quoted_at(line, 20));  // before g
}
