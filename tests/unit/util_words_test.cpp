#include <gtest/gtest.h>

#include "ferry/util/words.hpp"

using ferry::util::split_commands;
using ferry::util::split_words;
using Strings = std::vector<std::string>;

TEST(SplitWords, SeparatesOnSpacesAndTabs) {
  EXPECT_EQ(split_words("get  a.txt\tb.txt ").words, (Strings{"get", "a.txt", "b.txt"}));
  EXPECT_TRUE(split_words("").words.empty());
  EXPECT_TRUE(split_words("   \t ").words.empty());
}

TEST(SplitWords, DoubleQuotesKeepSpaces) {
  EXPECT_EQ(split_words("get \"my file.txt\"").words, (Strings{"get", "my file.txt"}));
  EXPECT_EQ(split_words("a\"b c\"d").words, (Strings{"ab cd"}));
}

TEST(SplitWords, BackslashInDoubleQuotesEscapesOnlySpecialCharacters) {
  EXPECT_EQ(split_words(R"("a\"b" "c\\d" "e\$f" "g\nh")").words,
            (Strings{"a\"b", "c\\d", "e$f", "g\\nh"}));
}

TEST(SplitWords, SingleQuotesAreLiteral) {
  EXPECT_EQ(split_words(R"('it''s' 'a\b' '"q"')").words, (Strings{"its", "a\\b", "\"q\""}));
}

TEST(SplitWords, BackslashOutsideQuotesKeepsTheNextCharacter) {
  EXPECT_EQ(split_words(R"(my\ file \'x \\)").words, (Strings{"my file", "'x", "\\"}));
}

TEST(SplitWords, EmptyQuotesMakeAnEmptyWord) {
  EXPECT_EQ(split_words(R"(ls "" '')").words, (Strings{"ls", "", ""}));
}

TEST(SplitWords, UnterminatedQuotesAndTrailingBackslashAreErrors) {
  EXPECT_EQ(split_words("get \"abc").error, "unterminated double quote");
  EXPECT_EQ(split_words("get 'abc").error, "unterminated single quote");
  EXPECT_EQ(split_words(R"(get "abc\")").error, "unterminated double quote");
  EXPECT_EQ(split_words("get abc\\").error, "trailing backslash");
  EXPECT_FALSE(split_words("get abc\\").ok());
}

TEST(SplitWords, KeepsUtf8) {
  EXPECT_EQ(split_words("get été.txt").words, (Strings{"get", "été.txt"}));
}

TEST(SplitCommands, SplitsOnSemicolonsOutsideQuotes) {
  EXPECT_EQ(split_commands("ls; get a ;put b").commands, (Strings{"ls", "get a", "put b"}));
  EXPECT_EQ(split_commands(R"(get "a;b"; get 'c;d'; get e\;f)").commands,
            (Strings{R"(get "a;b")", "get 'c;d'", R"(get e\;f)"}));
}

TEST(SplitCommands, DropsEmptyPieces) {
  EXPECT_EQ(split_commands(";; ls ;  ; ").commands, (Strings{"ls"}));
  EXPECT_TRUE(split_commands("").commands.empty());
}

TEST(SplitCommands, EscapedQuoteInsideDoubleQuotes) {
  EXPECT_EQ(split_commands(R"(get "a\";b"; ls)").commands, (Strings{R"(get "a\";b")", "ls"}));
}

TEST(SplitCommands, UnterminatedQuoteIsAnError) {
  EXPECT_FALSE(split_commands("ls; get \"x").ok());
  EXPECT_FALSE(split_commands("ls; get 'x").ok());
}
