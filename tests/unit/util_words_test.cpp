#include <gtest/gtest.h>

#include "ferry/util/words.hpp"

using ferry::util::split_commands;
using ferry::util::split_words;
using Strings = std::vector<std::string>;
using namespace std::literals;

// U+202E RIGHT-TO-LEFT OVERRIDE, built from their bytes:
// in a string literal clang-tidy flags it (misc-misleading-bidirectional).
const std::string kRlo{'\xe2', '\x80', '\xae'};

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

TEST(SplitWordsAnsiC, SimpleEscapes) {
  EXPECT_EQ(split_words(R"($'a\nb' $'\\' $'\'' $'\"' $'\?')").words,
            (Strings{"a\nb", "\\", "'", "\"", "?"}));
  EXPECT_EQ(split_words(R"($'\a\b\e\E\f\n\r\t\v')").words, (Strings{"\a\b\x1b\x1b\f\n\r\t\v"}));
  EXPECT_EQ(split_words(R"($'' $'plain text')").words, (Strings{"", "plain text"}));
}

TEST(SplitWordsAnsiC, Octal) {
  EXPECT_EQ(split_words(R"($'\0' $'\101' $'\0101' $'\7x' $'\377' $'\777')").words,
            (Strings{"\0"s, "A", "\b1", "\ax", "\xff", "\xff"}));
}

TEST(SplitWordsAnsiC, Hex) {
  EXPECT_EQ(split_words(R"($'\xff' $'\x41BC' $'\x7' $'\xA' $'bad\xff.txt')").words,
            (Strings{"\xff", "ABC", "\x07", "\n", "bad\xff.txt"}));
  EXPECT_EQ(split_words(R"($'\x' $'\xg')").words, (Strings{"\\x", "\\xg"}));  // as bash
}

TEST(SplitWordsAnsiC, UnicodeAsUtf8) {
  EXPECT_EQ(split_words(R"($'evil\u202etxt.exe' $'\u00e9' $'\u41' $'\u00411')").words,
            (Strings{"evil" + kRlo + "txt.exe", "\xc3\xa9", "A", "A1"}));
  EXPECT_EQ(split_words(R"($'\U0001F4C1' $'\U10FFFF' $'\U7f' $'\u0000')").words,
            (Strings{"\xf0\x9f\x93\x81", "\xf4\x8f\xbf\xbf", "\x7f", "\0"s}));
  EXPECT_EQ(split_words(R"($'\u' $'\U')").words, (Strings{"\\u", "\\U"}));
  EXPECT_FALSE(split_words(R"($'\ud800')").ok());
  EXPECT_FALSE(split_words(R"($'\U00110000')").ok());
  EXPECT_EQ(split_words(R"(get $'\udfff')").error, "not a Unicode character: \\udfff");
}

TEST(SplitWordsAnsiC, UnknownEscapeKeepsItsBackslash) {
  EXPECT_EQ(split_words(R"($'\q\ \$')").words, (Strings{"\\q\\ \\$"}));
}

TEST(SplitWordsAnsiC, JoinsWithNeighbouringText) {
  EXPECT_EQ(split_words(R"(get pre$'\t'post"  x"'y' $'a b'/)").words,
            (Strings{"get", "pre\tpost  xy", "a b/"}));
}

TEST(SplitWordsAnsiC, DollarElsewhereIsLiteral) {
  EXPECT_EQ(split_words(R"($HOME a$ $ "$'x'" '$'x \$'y')").words,
            (Strings{"$HOME", "a$", "$", "$'x'", "$x", "$y"}));
}

TEST(SplitWordsAnsiC, UnterminatedIsAnError) {
  EXPECT_EQ(split_words("get $'abc").error, "unterminated $' quote");
  EXPECT_EQ(split_words(R"(get $'abc\')").error, "unterminated $' quote");
  EXPECT_EQ(split_words(R"(get $'abc\)").error, "unterminated $' quote");
}

TEST(SplitCommands, SplitsOnSemicolonsOutsideQuotes) {
  EXPECT_EQ(split_commands("ls; get a ;put b").commands, (Strings{"ls", "get a", "put b"}));
  EXPECT_EQ(split_commands(R"(get "a;b"; get 'c;d'; get e\;f)").commands,
            (Strings{R"(get "a;b")", "get 'c;d'", R"(get e\;f)"}));
}

TEST(SplitCommands, SemicolonsInsideAnsiCQuotes) {
  EXPECT_EQ(split_commands(R"(get $'a;b\';c'; ls)").commands, (Strings{R"(get $'a;b\';c')", "ls"}));
  EXPECT_EQ(split_commands(R"(get \$'a;b'; ls)").commands, (Strings{R"(get \$'a;b')", "ls"}));
  EXPECT_EQ(split_commands(R"(ls; get $'a\')").error, "unterminated $' quote");
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
