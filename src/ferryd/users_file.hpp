#pragma once

// The users file of `ferryd --users FILE` (issue 9): one user a line,
//
//     NAME:HASH:MODE:ROOT
//
// NAME is 1 to 32 of [A-Za-z0-9._-], not starting with '-' or '.'; HASH is an Argon2id
// string as libsodium's crypto_pwhash_str writes it (`$argon2id$v=19$m=...,t=...,p=1$...$...`,
// which holds no ':'); MODE is `rw` or `ro`; ROOT, last so that it may hold ':', is the
// user's folder relative to ferryd's --root (`.` for all of it; no leading '/', no `..`).
// Blank lines and lines starting with '#' are kept as they are. Pure functions: no I/O.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferryd {

struct User {
  std::string name;
  std::string password_hash;
  bool read_only = false;
  std::string root = ".";
  std::size_t line = 0;  // where parse_users found it (from 1), for the messages at start
};

struct UsersParse {
  std::vector<User> users;
  // When the file is malformed: the first bad line (from 1) and what is wrong with it.
  std::size_t bad_line = 0;
  std::string error;
  bool ok() const { return error.empty(); }
};

UsersParse parse_users(std::string_view text);

// Why `name` cannot be a user name, or nullopt.
std::optional<std::string> refuse_user_name(std::string_view name);
// Why `root` cannot be a user's root, or nullopt.
std::optional<std::string> refuse_user_root(std::string_view root);

// The line of `user`, without its line break.
std::string format_user(const User& user);

// `text` (a well-formed users file) with `user`'s line replacing the one of the same name,
// or added at the end; every other line as it was.
std::string with_user(std::string_view text, const User& user);

}  // namespace ferryd
