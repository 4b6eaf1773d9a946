#include <gtest/gtest.h>

#include "ferry/util/options.hpp"

namespace ferry::util {
namespace {

TEST(ParseOptions, LettersClusteredOrNotAnywhere) {
  const auto a = parse_options({"-lh", "docs"}, "lh");
  ASSERT_TRUE(a.ok());
  EXPECT_TRUE(a.has('l'));
  EXPECT_TRUE(a.has('h'));
  EXPECT_EQ(a.operands, std::vector<std::string>{"docs"});
  const auto b = parse_options({"docs", "-l", "-l"}, "lh");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.flags, "l");
  EXPECT_FALSE(b.has('h'));
  EXPECT_EQ(b.operands, std::vector<std::string>{"docs"});
}

TEST(ParseOptions, AnUnknownOptionIsAnErrorNeverAPath) {
  const auto a = parse_options({"-r", "tree"}, "");
  EXPECT_FALSE(a.ok());
  EXPECT_EQ(a.error, "unknown option -r");
  EXPECT_EQ(parse_options({"-lx"}, "lh").error, "unknown option -x");
  EXPECT_EQ(parse_options({"--recursive"}, "r").error, "unknown option --recursive");
}

TEST(ParseOptions, DoubleDashEndsOptionsAndDashAloneIsAnOperand) {
  const auto a = parse_options({"-f", "--", "-r", "--"}, "f");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a.flags, "f");
  EXPECT_EQ(a.operands, (std::vector<std::string>{"-r", "--"}));
  const auto b = parse_options({"x", "-"}, "");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b.operands, (std::vector<std::string>{"x", "-"}));
}

}  // namespace
}  // namespace ferry::util
