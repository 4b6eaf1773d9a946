// The password is read twice from the terminal without echo, or once (one line) from stdin
// when that is no terminal; it is never an argument, never written anywhere but as its hash.
// The file is replaced atomically: a temporary file of mode 0600 in its folder, fsync,
// rename, fsync of the folder, so a crash leaves the old file or the new one.

#include "adduser.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "ferry/fs/fd.hpp"
#include "ferry/net/mover.hpp"
#include "ferry/util/errno_text.hpp"
#include "password_hash.hpp"
#include "users_file.hpp"

namespace ferryd {
namespace {

constexpr std::size_t kMaxPassword = 1024;
constexpr std::size_t kMaxUsersFile = std::size_t{16} << 20;

int fail(const std::string& message) {
  fmt::print(stderr, "ferryd adduser: {}\n", message);
  return 1;
}

// One line from `in` without its line break; nullopt at end of input or past kMaxPassword.
std::optional<std::string> read_line(std::FILE* in) {
  std::string line;
  for (int c; (c = std::fgetc(in)) != EOF;) {
    if (c == '\n') return line;
    line.push_back(static_cast<char>(c));
    if (line.size() > kMaxPassword) return std::nullopt;
  }
  return line.empty() ? std::nullopt : std::optional(line);
}

// With echo off on the terminal, restored whatever happens.
class NoEcho {
 public:
  explicit NoEcho(int fd) : fd_(fd), saved_{} {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  NoEcho(const NoEcho&) = delete;
  NoEcho& operator=(const NoEcho&) = delete;
  ~NoEcho() {
    if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
  }

 private:
  int fd_;
  termios saved_;
  bool active_ = false;
};

// The password, or the reason there is none.
std::optional<std::string> read_password(const std::string& name, std::string& error) {
  if (::isatty(STDIN_FILENO) == 0) {
    auto line = read_line(stdin);
    if (!line) error = "no password on standard input (one line, at most 1024 bytes)";
    return line;
  }
  std::optional<std::string> first;
  std::optional<std::string> second;
  {
    const NoEcho quiet(STDIN_FILENO);
    fmt::print(stderr, "Password for {}: ", name);
    first = read_line(stdin);
    fmt::print(stderr, "\nAgain: ");
    second = read_line(stdin);
    fmt::print(stderr, "\n");
  }
  if (!first || !second) {
    error = "no password given";
    return std::nullopt;
  }
  if (*first != *second) {
    error = "the two passwords differ; nothing was changed";
    return std::nullopt;
  }
  return first;
}

// The file's text, "" when it does not exist yet.
std::optional<std::string> read_users_file(const std::string& path, std::string& error) {
  const ferry::fs::Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!file.valid()) {
    if (errno == ENOENT) return std::string();
    error = fmt::format("cannot read {}: {}", path, ferry::util::errno_text(errno));
    return std::nullopt;
  }
  std::string text;
  char buffer[65536];
  for (ssize_t n; (n = ::read(file.get(), buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || text.size() > kMaxUsersFile) {
      error = fmt::format("cannot read {}: {}", path,
                          n < 0 ? ferry::util::errno_text(errno) : "larger than 16 MiB");
      return std::nullopt;
    }
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

// `text` replaces the file at `path`, atomically; the error text, or empty.
std::string replace_file(const std::string& path, const std::string& text) {
  const std::filesystem::path target(path);
  const std::string folder = target.has_parent_path() ? target.parent_path().string() : ".";
  std::string temporary = folder + "/.ferryd-users-XXXXXX";
  const ferry::fs::Fd file(::mkostemp(temporary.data(), O_CLOEXEC));
  if (!file.valid()) {
    return fmt::format("cannot create a file in {}: {}", folder, ferry::util::errno_text(errno));
  }
  int error = ::fchmod(file.get(), 0600) != 0 ? errno : 0;
  // The file keeps its owner and group (a ferryd running as its own user must still read it
  // after `sudo ferryd adduser`).
  struct stat existing {};
  if (error == 0 && ::stat(path.c_str(), &existing) == 0 &&
      ::fchown(file.get(), existing.st_uid, existing.st_gid) != 0) {
    error = errno;
  }
  if (error == 0) error = ferry::net::write_all_to(file.get(), text);
  if (error == 0 && ::fsync(file.get()) != 0) error = errno;
  if (error == 0 && ::rename(temporary.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temporary.c_str());
    return fmt::format("cannot write {}: {}", path, ferry::util::errno_text(error));
  }
  const ferry::fs::Fd directory(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (directory.valid()) ::fsync(directory.get());
  return {};
}

}  // namespace

int adduser_main(int argc, char** argv) {
  std::string path;
  User user;
  CLI::App app{
      "ferryd adduser: adds a user to the users file of --users, or changes one (its "
      "password, root and mode).\nThe password is asked twice at the terminal, without echo, "
      "or read as one line from standard input.",
      "ferryd adduser"};
  app.add_option("FILE", path, "The users file (created, mode 0600, when missing)")->required();
  app.add_option("NAME", user.name, "The user's name")->required();
  app.add_option("--root", user.root,
                 "The user's folder, relative to ferryd's --root (default: . , all of it)");
  app.add_flag("--read-only", user.read_only, "The user may read, not change anything");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "ferryd adduser: {} (see ferryd adduser --help)\n", e.what());
    return 2;
  }
  if (auto refusal = refuse_user_name(user.name)) return fail(*refusal);
  if (auto refusal = refuse_user_root(user.root)) return fail("--root: " + *refusal);

  std::string error;
  const auto text = read_users_file(path, error);
  if (!text) return fail(error);
  const UsersParse existing = parse_users(*text);
  if (!existing.ok()) {
    return fail(fmt::format("{}, line {}: {}; nothing was changed", path, existing.bad_line,
                            existing.error));
  }
  const auto password = read_password(user.name, error);
  if (!password) return fail(error);
  if (password->empty()) return fail("an empty password is not allowed");
  auto hash = hash_password(*password);
  if (!hash) return fail("cannot hash the password (out of memory?)");
  user.password_hash = std::move(*hash);
  const bool known = std::any_of(existing.users.begin(), existing.users.end(),
                                 [&](const User& u) { return u.name == user.name; });
  if (std::string failed = replace_file(path, with_user(*text, user)); !failed.empty()) {
    return fail(failed);
  }
  fmt::print(stderr, "ferryd adduser: {} {} in {} ({}, root {})\n", known ? "changed" : "added",
             user.name, path, user.read_only ? "read-only" : "read-write", user.root);
  return 0;
}

}  // namespace ferryd
