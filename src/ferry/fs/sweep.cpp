#include "ferry/fs/sweep.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string_view>
#include <vector>

#include "ferry/fs/names.hpp"

namespace ferry::fs {
namespace {

bool is_before(const timespec& a, const timespec& b) {
  return a.tv_sec < b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec < b.tv_nsec);
}

bool same_inode(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

enum class Candidate { kept, removed, in_use };

// Removes `name` in `directory_fd` if it is an abandoned upload: a regular file, last
// written before the cutoff, whose lock nobody holds (a live Upload holds it).
Candidate remove_if_abandoned(int directory_fd, const char* name, const timespec& cutoff) {
  struct stat named {};
  if (::fstatat(directory_fd, name, &named, AT_SYMLINK_NOFOLLOW) != 0) return Candidate::kept;
  if (!S_ISREG(named.st_mode) || !is_before(named.st_mtim, cutoff)) return Candidate::kept;

  // O_NONBLOCK and O_NOFOLLOW: whatever replaced the name since the fstatat (a FIFO, a
  // link) is neither waited on nor followed. Write-only as a fallback: an upload over a
  // target of mode 0200 has that mode too.
  constexpr int kFlags = O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY;
  Fd file(::openat(directory_fd, name, O_RDONLY | kFlags));
  if (!file.valid() && errno == EACCES) file.reset(::openat(directory_fd, name, O_WRONLY | kFlags));
  if (!file.valid()) return Candidate::kept;
  if (::flock(file.get(), LOCK_EX | LOCK_NB) != 0) {
    return errno == EWOULDBLOCK ? Candidate::in_use : Candidate::kept;
  }
  // Under the lock: the name must still be this very file, and still be stale.
  struct stat opened {};
  if (::fstat(file.get(), &opened) != 0 || !S_ISREG(opened.st_mode) ||
      !is_before(opened.st_mtim, cutoff)) {
    return Candidate::kept;
  }
  if (::fstatat(directory_fd, name, &named, AT_SYMLINK_NOFOLLOW) != 0 ||
      !same_inode(named, opened)) {
    return Candidate::kept;
  }
  return ::unlinkat(directory_fd, name, 0) == 0 ? Candidate::removed : Candidate::kept;
}

// A directory above the one being walked: who it is, and where to go on in it. A stack of
// these instead of open descriptors keeps the descriptors at two for any depth.
struct Level {
  dev_t device = 0;
  ino_t inode = 0;
  long position = 0;  // telldir() of the entry after the subdirectory being walked
};

// The walk of one tree, by descriptors, never by paths: the tree belongs to users who may
// rename or replace anything in it while the sweep runs. Each directory is read twice: first its
// files (removing the abandoned uploads), then, from the start again, its subdirectories. The
// second pass removes nothing in that directory, so the telldir position kept while below stays
// valid even on file systems whose positions are entry counts.
class Sweep {
 public:
  explicit Sweep(const timespec& cutoff) : cutoff_(cutoff) {}

  SweepReport run(const Fd& root) {
    const int top = ::openat(root.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat top_stat {};
    if (top < 0 || ::fstat(top, &top_stat) != 0) {
      if (top >= 0) ::close(top);
      return stop("the root cannot be opened");
    }
    if (!enter(top, top_stat)) return report_;
    for (;;) {
      if (!walk_subdirectories()) return report_;
      if (above_.empty()) break;
      if (!return_to_parent()) return report_;
    }
    close_current();
    return report_;
  }

  Sweep(const Sweep&) = delete;
  Sweep& operator=(const Sweep&) = delete;
  ~Sweep() { close_current(); }

 private:
  SweepReport stop(std::string_view why) {
    report_.stopped_because = why;
    close_current();
    return report_;
  }

  void close_current() {
    if (current_ != nullptr) ::closedir(current_);
    current_ = nullptr;
  }

  // Makes `directory_fd` (owned from here on, `st` its fstat) the current directory and
  // sweeps its files.
  bool enter(int directory_fd, const struct stat& st) {
    close_current();
    current_ = ::fdopendir(directory_fd);
    if (current_ == nullptr) {
      ::close(directory_fd);
      stop("a directory cannot be read");
      return false;
    }
    current_stat_ = st;
    remove_files();
    ::rewinddir(current_);
    return true;
  }

  void remove_files() {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): readdir is thread-safe on a stream of one thread
    while (const dirent* item = ::readdir(current_)) {
      if (!is_upload_temporary_name(item->d_name)) continue;
      if (item->d_type != DT_REG && item->d_type != DT_UNKNOWN) continue;
      switch (remove_if_abandoned(::dirfd(current_), item->d_name, cutoff_)) {
        case Candidate::removed:
          ++report_.removed;
          break;
        case Candidate::in_use:
          ++report_.in_use;
          break;
        case Candidate::kept:
          break;
      }
    }
  }

  // Reads on in the current directory; at a subdirectory, goes down into it. True to go
  // on (the current directory ended), false when the walk stopped.
  bool walk_subdirectories() {
    for (;;) {
      // NOLINTNEXTLINE(concurrency-mt-unsafe): readdir is thread-safe on a stream of one thread
      const dirent* item = ::readdir(current_);
      if (item == nullptr) return true;
      const std::string_view name = item->d_name;
      if (name == "." || name == "..") continue;
      if (item->d_type != DT_DIR && item->d_type != DT_UNKNOWN) continue;
      // O_NOFOLLOW: a symbolic link is never a way down (ELOOP or ENOTDIR here).
      const int child = ::openat(::dirfd(current_), item->d_name,
                                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) continue;
      // Not into a directory that cannot be searched: nothing in it could be removed, and
      // its ".." could not be looked up to come back. Nor into an ancestor (a bind mount
      // of one would be a loop).
      struct stat child_stat {};
      if (::faccessat(child, ".", X_OK, AT_EACCESS) != 0 || ::fstat(child, &child_stat) != 0 ||
          is_on_the_way_down(child_stat)) {
        ::close(child);
        continue;
      }
      above_.push_back({current_stat_.st_dev, current_stat_.st_ino, ::telldir(current_)});
      if (!enter(child, child_stat)) return false;
    }
  }

  bool is_on_the_way_down(const struct stat& st) const {
    if (same_inode(st, current_stat_)) return true;
    for (const Level& level : above_) {
      if (level.device == st.st_dev && level.inode == st.st_ino) return true;
    }
    return false;
  }

  // Back up by "..", which must be the directory we came down from: if the current one was
  // moved meanwhile, ".." is somewhere else (perhaps outside the root), and the walk ends.
  bool return_to_parent() {
    const Level level = above_.back();
    above_.pop_back();
    const int parent = ::openat(::dirfd(current_), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (parent < 0) {
      stop("a directory's parent cannot be opened");
      return false;
    }
    struct stat parent_stat {};
    if (::fstat(parent, &parent_stat) != 0 || parent_stat.st_dev != level.device ||
        parent_stat.st_ino != level.inode) {
      ::close(parent);
      stop("a directory was moved while the sweep was in it");
      return false;
    }
    close_current();
    current_ = ::fdopendir(parent);
    if (current_ == nullptr) {
      ::close(parent);
      stop("a directory cannot be read");
      return false;
    }
    current_stat_ = parent_stat;
    ::seekdir(current_, level.position);
    return true;
  }

  timespec cutoff_;
  SweepReport report_;
  DIR* current_ = nullptr;
  struct stat current_stat_ {};
  std::vector<Level> above_;
};

}  // namespace

timespec file_clock_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return now;
}

SweepReport sweep_stale_uploads(const Fd& root, const timespec& cutoff) {
  Sweep sweep(cutoff);
  return sweep.run(root);
}

int remove_stale_uploads(const Fd& root, const timespec& cutoff) {
  return sweep_stale_uploads(root, cutoff).removed;
}

}  // namespace ferry::fs
