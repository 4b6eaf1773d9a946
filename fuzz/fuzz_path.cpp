// Path confinement: open_in_root and the file operations built on it (GET's open, PUT's
// Upload, LS's list_entries, split_path).
//
// A small tree is made once, in LLVMFuzzerInitialize, under a fresh temporary directory:
//
//   <base>/root/                      the served root
//     a/b/file, a/up -> ../../outside/OUTSIDE-MARKER, a/abs -> <base>/outside/OUTSIDE-MARKER
//     dotdot -> ../.., etc -> /etc, proc -> /proc/self/root, fdlink -> /proc/self/fd/0,
//     loop -> loop, inner -> a/b, "name with space", "tab\tname", "\xff\xfe",
//     .ferry-tmp-0123456789abcdef (a stale upload)
//   <base>/outside/OUTSIDE-MARKER     must never be reached
//   <base>/outside/dir/
//
// Input: byte 0 picks the operation (and its flags), the rest is the path. Properties:
// - Every descriptor returned refers to an inode of the root tree (st_dev/st_ino in the set
//   collected at start), never to the marker or anything else outside, and
//   /proc/self/fd/N names a path under the root.
// - An Upload's temporary file lies in a directory under the root and is named
//   .ferry-tmp-<16 hex>; aborting it removes it.
// - list_entries never shows the marker, `.`, `..` or a temporary upload, and is sorted.
// - open_for_reading gives only regular files.
// - split_path(p) splits at the last `/`: the parent before it (`/` for the root), the name
//   after it.
// - Nothing under <base>/outside changes.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "ferry/fs/confine.hpp"
#include "ferry/fs/file_ops.hpp"
#include "fuzz_check.hpp"

namespace {

using ferry::fuzz::as_text;
namespace fs = ferry::fs;

constexpr std::string_view kMarkerName = "OUTSIDE-MARKER";

struct Tree {
  std::string base;
  std::string root_path;  // real path, no symbolic link in it
  std::string outside_path;
  fs::Fd root;
  std::set<std::pair<dev_t, ino_t>> inside;  // every inode of the root tree
  std::pair<dev_t, ino_t> marker{};
  std::pair<dev_t, ino_t> outside_dir{};
};

Tree* tree = nullptr;

void must(bool ok, const char* what) {
  if (!ok) {
    std::perror(what);
    std::abort();
  }
}

void write_file(const std::string& path, std::string_view content) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  must(f != nullptr, path.c_str());
  std::fwrite(content.data(), 1, content.size(), f);
  std::fclose(f);
}

std::pair<dev_t, ino_t> id_of(const struct stat& st) {
  return {st.st_dev, st.st_ino};
}

std::pair<dev_t, ino_t> lstat_id(const std::string& path) {
  struct stat st {};
  must(::lstat(path.c_str(), &st) == 0, path.c_str());
  return id_of(st);
}

void remove_tree() {
  if (tree == nullptr) return;
  std::error_code ignored;
  std::filesystem::remove_all(tree->base, ignored);
}

// The entries of a real directory (`.` and `..` left out).
std::set<std::string> names_in(const std::string& directory) {
  std::set<std::string> names;
  DIR* d = ::opendir(directory.c_str());
  must(d != nullptr, directory.c_str());
  while (const dirent* item = ::readdir(d)) {
    const std::string_view name = item->d_name;
    if (name != "." && name != "..") names.emplace(name);
  }
  ::closedir(d);
  return names;
}

void check_outside_untouched() {
  FUZZ_CHECK(names_in(tree->outside_path) ==
             (std::set<std::string>{std::string(kMarkerName), "dir"}));
  FUZZ_CHECK(names_in(tree->outside_path + "/dir").empty());
}

// The path the kernel gives for `fd` is under the root.
void check_path_inside(int fd) {
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(fd);
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  FUZZ_CHECK(n > 0);
  const std::string_view resolved(target, static_cast<std::size_t>(n));
  FUZZ_CHECK(resolved == tree->root_path || resolved.starts_with(tree->root_path + "/"));
}

// `fd` refers to an inode of the root tree as made at start.
void check_inside(int fd) {
  struct stat st {};
  FUZZ_CHECK(::fstat(fd, &st) == 0);
  const auto id = id_of(st);
  FUZZ_CHECK(id != tree->marker);
  FUZZ_CHECK(id != tree->outside_dir);
  FUZZ_CHECK(tree->inside.count(id) == 1);
  check_path_inside(fd);
}

void check_split(std::string_view path) {
  const fs::SplitPath split = fs::split_path(path);
  FUZZ_CHECK(split.name.find('/') == std::string_view::npos);
  const std::size_t slash = path.rfind('/');
  if (slash == std::string_view::npos) {
    FUZZ_CHECK(split.parent.empty() && split.name == path);
  } else {
    // The name is what follows the last `/`; the parent what precedes it, or `/` for the
    // root when nothing does.
    FUZZ_CHECK(split.name == path.substr(slash + 1));
    FUZZ_CHECK(split.parent == (slash == 0 ? path.substr(0, 1) : path.substr(0, slash)));
  }
}

bool is_hex16(std::string_view text) {
  if (text.size() != 16) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void check_upload(std::string_view path) {
  auto upload = fs::Upload::begin(tree->root, path, 0);
  if (!upload) return;
  check_path_inside(upload->fd());  // a new inode: not in the set
  const std::string& name = upload->temporary_name();
  FUZZ_CHECK(name.starts_with(fs::kTemporaryPrefix));
  FUZZ_CHECK(is_hex16(std::string_view(name).substr(fs::kTemporaryPrefix.size())));
  // The temporary file is in the directory the path names, under the root.
  char target[4096];
  const std::string link = "/proc/self/fd/" + std::to_string(upload->fd());
  const ssize_t n = ::readlink(link.c_str(), target, sizeof target);
  FUZZ_CHECK(n > 0);
  const std::string file(target, static_cast<std::size_t>(n));
  FUZZ_CHECK(file.ends_with("/" + name));
  upload->abort();
  struct stat st {};
  FUZZ_CHECK(::lstat(file.c_str(), &st) != 0);  // removed
}

void check_listing(std::string_view path) {
  auto entries = fs::list_entries(tree->root, path);
  if (!entries) return;
  const std::string* previous = nullptr;
  for (const auto& entry : *entries) {
    FUZZ_CHECK(entry.name != kMarkerName);
    FUZZ_CHECK(!entry.name.starts_with(fs::kTemporaryPrefix));
    FUZZ_CHECK(!entry.name.empty() && entry.name != "..");
    if (entries->size() > 1) FUZZ_CHECK(entry.name != ".");
    if (previous != nullptr) FUZZ_CHECK(*previous < entry.name);
    previous = &entry.name;
  }
}

void check_open(std::string_view path, int flags) {
  auto fd = fs::open_in_root(tree->root, path, flags);
  if (fd) check_inside(fd->get());
}

void check_reading(std::string_view path) {
  auto file = fs::open_for_reading(tree->root, path);
  if (!file) return;
  check_inside(file->fd.get());
  struct stat st {};
  FUZZ_CHECK(::fstat(file->fd.get(), &st) == 0 && S_ISREG(st.st_mode));
  FUZZ_CHECK(static_cast<std::uint64_t>(st.st_size) == file->size);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  char pattern[] = "/tmp/ferry-fuzz-path-XXXXXX";
  must(::mkdtemp(pattern) != nullptr, "mkdtemp");
  tree = new Tree;
  tree->base = std::filesystem::canonical(pattern).string();
  tree->root_path = tree->base + "/root";
  tree->outside_path = tree->base + "/outside";
  std::atexit(remove_tree);

  const std::string& r = tree->root_path;
  const std::string marker = tree->outside_path + "/" + std::string(kMarkerName);
  for (const std::string& dir :
       {r, r + "/a", r + "/a/b", tree->outside_path, tree->outside_path + "/dir"}) {
    must(::mkdir(dir.c_str(), 0755) == 0, dir.c_str());
  }
  write_file(r + "/a/b/file", "inside file");
  write_file(r + "/name with space", "space");
  write_file(r + "/tab\tname", "tab");
  write_file(r + "/\xff\xfe", "not utf-8");
  write_file(r + "/.ferry-tmp-0123456789abcdef", "stale upload");
  write_file(marker, "top secret");
  const std::pair<std::string, std::string> links[] = {
      {"../../outside/" + std::string(kMarkerName), r + "/a/up"},
      {marker, r + "/a/abs"},
      {"../..", r + "/dotdot"},
      {"/etc", r + "/etc"},
      {"/proc/self/root", r + "/proc"},
      {"/proc/self/fd/0", r + "/fdlink"},
      {"loop", r + "/loop"},
      {"a/b", r + "/inner"},
  };
  for (const auto& [target, link] : links) {
    must(::symlink(target.c_str(), link.c_str()) == 0, link.c_str());
  }

  for (const auto& item : std::filesystem::recursive_directory_iterator(r)) {
    tree->inside.insert(lstat_id(item.path().string()));
  }
  tree->inside.insert(lstat_id(r));
  tree->marker = lstat_id(marker);
  tree->outside_dir = lstat_id(tree->outside_path);

  auto root = fs::open_root(r.c_str());
  must(root.ok(), "open_root");
  tree->root = std::move(*root);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view path = as_text(data + 1, size - 1);
  check_split(path);

  static constexpr int kFlags[] = {
      O_RDONLY,
      O_PATH,
      O_RDONLY | O_DIRECTORY,
      O_PATH | O_NOFOLLOW,
      O_RDONLY | O_NOFOLLOW | O_NONBLOCK,
      O_RDONLY | O_NONBLOCK | O_NOCTTY,
      O_PATH | O_DIRECTORY,
  };
  constexpr unsigned kOperations = std::size(kFlags) + 3;
  const unsigned operation = data[0] % kOperations;
  if (operation < std::size(kFlags)) {
    check_open(path, kFlags[operation]);
  } else if (operation == std::size(kFlags)) {
    check_reading(path);
  } else if (operation == std::size(kFlags) + 1) {
    check_listing(path);
  } else {
    check_upload(path);
  }
  check_outside_untouched();
  return 0;
}
