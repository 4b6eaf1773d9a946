// The local family: lcd, lpwd, lls and `!command`, as ftp and sftp have them.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "entry_display.hpp"
#include "errors.hpp"
#include "ferry/client/glob.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/fs/fd.hpp"
#include "ferry/util/errno_text.hpp"
#include "local_paths.hpp"

namespace ferry::cli {
namespace {

struct DirCloser {
  void operator()(DIR* dir) const { ::closedir(dir); }
};

protocol::Entry entry_of(const struct stat& st, std::string name) {
  char type = 'o';
  if (S_ISDIR(st.st_mode)) type = 'd';
  if (S_ISREG(st.st_mode)) type = 'f';
  if (S_ISLNK(st.st_mode)) type = 'l';
  return {type, static_cast<std::uint64_t>(st.st_size), st.st_mtim.tv_sec, std::move(name)};
}

[[noreturn]] void throw_local(const std::string& what, const std::string& path) {
  throw LocalError("cannot " + what + " " + path + ": " + util::errno_text(errno));
}

// The entries of a local directory, or the one entry of anything else, as LS gives them.
std::vector<protocol::Entry> list_local(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) throw_local("list", path);
  if (!S_ISDIR(st.st_mode)) {
    const std::string base = client::base_name(path);
    return {entry_of(st, base.empty() ? path : base)};
  }
  const std::unique_ptr<DIR, DirCloser> dir(::opendir(path.c_str()));
  if (!dir) throw_local("list", path);
  std::vector<protocol::Entry> entries;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): readdir is thread-safe on a stream of one thread
  while (const dirent* item = ::readdir(dir.get())) {
    const std::string name = item->d_name;
    if (name == "." || name == "..") continue;
    struct stat entry_st {};
    if (::fstatat(::dirfd(dir.get()), item->d_name, &entry_st, AT_SYMLINK_NOFOLLOW) != 0) {
      continue;  // removed meanwhile
    }
    entries.push_back(entry_of(entry_st, name));
  }
  return entries;
}

}  // namespace

Outcome run_lcd(ClientContext&, const Call& call) {
  const std::string directory =
      call.operands().empty() ? home_directory() : expand_local(call.operands()[0]);
  if (::chdir(directory.c_str()) != 0) throw_local("change to", directory);
  return Outcome::ok;
}

Outcome run_lpwd(ClientContext&, const Call&) {
  std::error_code error;
  const auto here = std::filesystem::current_path(error);
  if (error) throw LocalError("cannot tell the local directory: " + error.message());
  fmt::print("{}\n", client::printable(here.string()));
  return Outcome::ok;
}

Outcome run_lls(ClientContext&, const Call& call) {
  const std::string argument = call.operands().empty() ? "." : expand_local(call.operands()[0]);
  std::vector<protocol::Entry> entries;
  if (client::has_glob(argument)) {
    const client::GlobParts parts = client::split_glob(argument);
    entries = client::match_glob(list_local(parts.directory.empty() ? "." : parts.directory),
                                 parts.pattern);
    if (entries.empty()) throw LocalError("no match: " + argument);
  } else {
    entries = list_local(argument);
  }
  print_entries(entries, call.args.has('l'), call.args.has('h'));
  return Outcome::ok;
}

Outcome run_shell(ClientContext& context, const Call& call) {
  static_cast<void>(std::fflush(stdout));
  static_cast<void>(std::fflush(stderr));
  const pid_t child = ::fork();
  if (child < 0) throw LocalError("cannot start a shell: " + util::errno_text(errno));
  if (child == 0) {
    // What the client ignores (SIGPIPE) must not stay ignored in `!yes | head`.
    static_cast<void>(std::signal(SIGPIPE, SIG_DFL));
    if (!context.interactive) {
      // A script's next lines are the client's, not the command's.
      const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null >= 0) ::dup2(null, STDIN_FILENO);
    }
    if (call.operands().empty()) {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): the child has one thread
      const char* shell = std::getenv("SHELL");
      if (shell == nullptr || *shell == '\0') shell = "/bin/sh";
      ::execl(shell, shell, static_cast<char*>(nullptr));
    } else {
      ::execl("/bin/sh", "sh", "-c", call.operands()[0].c_str(), static_cast<char*>(nullptr));
    }
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) throw LocalError("cannot wait for the shell: " + util::errno_text(errno));
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? Outcome::ok : Outcome::failed;
}

}  // namespace ferry::cli
