// Whether the served root still exists.

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/root_state.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

class RootStateTest : public ferry::testing::TempTreeTest {};

TEST_F(RootStateTest, ALiveRootWasNotRemoved) {
  EXPECT_FALSE(root_was_removed(root()));
}

TEST_F(RootStateTest, ARemovedRootIsSeenThroughItsDescriptor) {
  const std::string served = base() + "/served";
  make_dir(served);
  auto opened = open_root(served.c_str());
  ASSERT_TRUE(opened.ok()) << describe(opened.error());
  EXPECT_FALSE(root_was_removed(*opened));
  ASSERT_EQ(::rmdir(served.c_str()), 0) << std::strerror(errno);
  EXPECT_TRUE(root_was_removed(*opened));
}

TEST_F(RootStateTest, ARenamedRootStillExists) {
  const std::string served = base() + "/served";
  make_dir(served);
  auto opened = open_root(served.c_str());
  ASSERT_TRUE(opened.ok());
  ASSERT_EQ(::rename(served.c_str(), (base() + "/moved").c_str()), 0) << std::strerror(errno);
  EXPECT_FALSE(root_was_removed(*opened));
}

}  // namespace
}  // namespace ferry::fs
