#pragma once

// The users of `ferryd --users FILE`, ready to log in: each with its password hash, its mode
// and its root, opened once at start through the one confinement function (open_in_root,
// O_DIRECTORY) and kept open for the server's life, so that every session and every transfer
// of a user (which may outlive its control session) resolves its paths against the same
// directory descriptor. Users with the same folder share one descriptor. No asio.

#include <atomic>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "ferry/fs/fd.hpp"
#include "users_file.hpp"

namespace ferryd {

// A user's folder, open.
struct UserRoot {
  ferry::fs::Fd directory;
  std::string path;                         // <--root>/<ROOT>, for the log
  std::atomic<bool> removal_logged{false};  // its removal is logged once (request_policy)
};

struct Account {
  std::string name;
  std::string password_hash;
  bool read_only = false;
  UserRoot* root = nullptr;  // owned by Accounts
};

class Accounts {
 public:
  // nullptr for a name no user has.
  const Account* find(std::string_view name) const;
  // What an unknown user's password is checked against: made at start, with the costs of
  // the first user's hash (dummy_hash_like).
  const std::string& dummy_hash() const { return dummy_hash_; }
  std::size_t users() const { return accounts_.size(); }
  std::size_t roots() const { return roots_.size(); }

 private:
  friend struct AccountsOpening;
  std::deque<UserRoot> roots_;                         // stable addresses
  std::unordered_map<std::string, Account> accounts_;  // by name
  std::string dummy_hash_;
};

struct AccountsOpen {
  std::unique_ptr<Accounts> accounts;  // null on failure
  std::string error;                   // `line N: ...`, or what else went wrong
};

// Opens every user's root inside `served_root` (`served_path` names it in messages) and
// makes the dummy hash. Fails on the first root that is not a directory inside the root.
AccountsOpen open_accounts(const ferry::fs::Fd& served_root, std::string_view served_path,
                           const std::vector<User>& users);

struct UsersFileRead {
  std::vector<User> users;
  std::string error;                // `line N: reason`, or why the file cannot be read
  bool readable_by_others = false;  // group or other may read it (the hashes)
  bool ok() const { return error.empty(); }
};

// Reads and parses a users file (users_file.hpp), at most 16 MiB.
UsersFileRead read_users_file(const std::string& path);

// The most descriptors open_accounts may keep: one per distinct ROOT text.
std::size_t user_root_bound(const std::vector<User>& users);

// The start's log line about who may do what: with users, how many and that logins are
// required; without, that anyone who reaches the port can read (and write) the root.
std::string access_summary(std::string_view served_path, bool read_only, const Accounts* accounts,
                           bool allow_plain_login);

}  // namespace ferryd
