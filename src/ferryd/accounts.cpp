#include "accounts.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <unistd.h>

#include <cerrno>
#include <set>
#include <utility>

#include <fmt/format.h>

#include "ferry/fs/confine.hpp"
#include "ferry/protocol/escape.hpp"
#include "password_hash.hpp"

namespace ferryd {

constexpr std::size_t kMaxUsersFile = std::size_t{16} << 20;

// Builds what Accounts keeps (a friend, so that Accounts stays read-only once made).
struct AccountsOpening {
  static AccountsOpen open(const ferry::fs::Fd& served_root, std::string_view served_path,
                           const std::vector<User>& users) {
    auto accounts = std::make_unique<Accounts>();
    for (const User& user : users) {
      auto directory = ferry::fs::open_in_root(served_root, user.root, O_RDONLY | O_DIRECTORY);
      if (!directory) {
        return {nullptr,
                fmt::format("line {}: the root of {}, \"{}\", is no directory inside {}: {}",
                            user.line, user.name, ferry::protocol::escape_visible(user.root),
                            ferry::protocol::escape_visible(served_path),
                            ferry::fs::describe(directory.error()))};
      }
      Account account{user.name, user.password_hash, user.read_only,
                      root_for(*accounts, std::move(*directory), served_path, user.root)};
      accounts->accounts_.emplace(user.name, std::move(account));
    }
    auto dummy = dummy_hash_like(users.empty() ? std::string_view() : users.front().password_hash);
    if (!dummy) return {nullptr, "cannot make the hash for unknown users (libsodium)"};
    accounts->dummy_hash_ = std::move(*dummy);
    return {std::move(accounts), {}};
  }

 private:
  // The root already open for the same directory (device and inode), or this one.
  static UserRoot* root_for(Accounts& accounts, ferry::fs::Fd directory,
                            std::string_view served_path, std::string_view relative) {
    struct stat opened {};
    const bool known = ::fstat(directory.get(), &opened) == 0;
    for (UserRoot& root : accounts.roots_) {
      struct stat other {};
      if (known && ::fstat(root.directory.get(), &other) == 0 && other.st_dev == opened.st_dev &&
          other.st_ino == opened.st_ino) {
        return &root;
      }
    }
    UserRoot& root = accounts.roots_.emplace_back();
    root.directory = std::move(directory);
    root.path =
        relative == "." ? std::string(served_path) : fmt::format("{}/{}", served_path, relative);
    return &root;
  }
};

const Account* Accounts::find(std::string_view name) const {
  const auto found = accounts_.find(std::string(name));
  return found == accounts_.end() ? nullptr : &found->second;
}

AccountsOpen open_accounts(const ferry::fs::Fd& served_root, std::string_view served_path,
                           const std::vector<User>& users) {
  return AccountsOpening::open(served_root, served_path, users);
}

UsersFileRead read_users_file(const std::string& path) {
  UsersFileRead result;
  const ferry::fs::Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st {};
  if (!file.valid() || ::fstat(file.get(), &st) != 0) {
    result.error = fmt::format("cannot read it: {}", ferry::fs::describe({errno}));
    return result;
  }
  if (!S_ISREG(st.st_mode)) {
    result.error = "not a regular file";
    return result;
  }
  std::string text;
  char chunk[65536];
  for (;;) {
    const ssize_t n = ::read(file.get(), chunk, sizeof chunk);
    if (n == 0) break;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      result.error = fmt::format("cannot read it: {}", ferry::fs::describe({errno}));
      return result;
    }
    text.append(chunk, static_cast<std::size_t>(n));
    if (text.size() > kMaxUsersFile) {
      result.error = "larger than 16 MiB";
      return result;
    }
  }
  UsersParse parsed = parse_users(text);
  if (!parsed.ok()) {
    result.error = fmt::format("line {}: {}", parsed.bad_line, parsed.error);
    return result;
  }
  result.readable_by_others = (st.st_mode & 044) != 0;
  result.users = std::move(parsed.users);
  return result;
}

std::size_t user_root_bound(const std::vector<User>& users) {
  std::set<std::string_view> roots;
  for (const User& user : users)
    roots.insert(user.root);
  return roots.size();
}

std::string access_summary(std::string_view served_path, bool read_only, const Accounts* accounts,
                           bool allow_plain_login) {
  const std::string root = ferry::protocol::escape_visible(served_path);
  if (accounts == nullptr) {
    return fmt::format("no --users: anyone who can reach this port can read{} everything in {}",
                       read_only ? "" : " and write", root);
  }
  return fmt::format(
      "logins required: {} user(s), each confined to its own folder ({} folder(s) open){}{}",
      accounts->users(), accounts->roots(), read_only ? "; read-only for everyone" : "",
      allow_plain_login ? "; --allow-plain-login: passwords may cross the network in clear" : "");
}

}  // namespace ferryd
