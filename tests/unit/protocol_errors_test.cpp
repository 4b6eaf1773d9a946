#include "ferry/protocol/errors.hpp"

#include <gtest/gtest.h>

namespace ferry::protocol {
namespace {

TEST(Errors, RenderedAsAnErrorHead) {
  EXPECT_EQ(render(Error{ErrorKind::exists, "exists: photos/2026"}),
            "ERROR exists: photos/2026\n\n");
  EXPECT_EQ(render(Error{ErrorKind::served_root, "not allowed on the served directory"}),
            "ERROR not allowed on the served directory\n\n");
}

TEST(Errors, TheTextIsEscapedAtTheEdge) {
  EXPECT_EQ(render(error_about(ErrorKind::not_found, "no such file or directory", "a\nb\xff\\")),
            "ERROR no such file or directory: a\\nb\\xff\\\\\n\n");
}

TEST(Errors, AboutAPath) {
  const Error error = error_about(ErrorKind::not_empty, "not empty", "photos");
  EXPECT_EQ(error.kind, ErrorKind::not_empty);
  EXPECT_EQ(error.text, "not empty: photos");
}

TEST(Errors, KindNames) {
  EXPECT_EQ(kind_name(ErrorKind::not_found), "not_found");
  EXPECT_EQ(kind_name(ErrorKind::served_root), "served_root");
  EXPECT_EQ(kind_name(ErrorKind::login), "login");
  EXPECT_EQ(kind_name(ErrorKind::malformed), "malformed");
  EXPECT_EQ(kind_name(ErrorKind::unknown_command), "unknown_command");
  EXPECT_EQ(kind_name(ErrorKind::io), "io");
}

}  // namespace
}  // namespace ferry::protocol
