// LS's side of the file system: DirectoryListing's batches and the sorted list_entries,
// on a temporary tree.

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/fs/listing.hpp"
#include "ferry/fs/sys_result.hpp"
#include "ferry/fs/upload.hpp"
#include "ferry/protocol/listing.hpp"
#include "temp_tree.hpp"

namespace ferry::fs {
namespace {

using namespace std::literals;
using ferry::testing::kInsideContent;

class ListingTest : public ferry::testing::TempTreeTest {
 protected:
  static std::vector<std::string> names_of(const std::vector<protocol::Entry>& entries) {
    std::vector<std::string> names;
    names.reserve(entries.size());
    for (const auto& e : entries)
      names.push_back(e.name);
    return names;
  }

  static const protocol::Entry* find(const std::vector<protocol::Entry>& entries,
                                     std::string_view name) {
    for (const auto& e : entries) {
      if (e.name == name) return &e;
    }
    return nullptr;
  }

  // Every line of every batch of `listing`, batches of at least `max_bytes`, each checked
  // to end within one line past it. Fails the test on an error.
  static std::vector<protocol::Entry> drain(DirectoryListing& listing, std::size_t max_bytes,
                                            int* batches = nullptr) {
    std::vector<protocol::Entry> entries;
    for (int round = 0; round < 1000000; ++round) {
      std::string batch;
      auto more = listing.next_batch(batch, max_bytes);
      EXPECT_TRUE(more.ok()) << describe(more.error());
      if (!more) break;
      if (batches != nullptr) ++*batches;
      std::size_t last_line = 0;
      std::size_t start = 0;
      while (start < batch.size()) {
        const std::size_t end = batch.find('\n', start);
        EXPECT_NE(end, std::string::npos);
        if (end == std::string::npos) break;
        auto entry = protocol::parse_entry(std::string_view(batch).substr(start, end - start));
        EXPECT_TRUE(entry.has_value()) << batch.substr(start, end - start);
        if (entry) entries.push_back(std::move(*entry));
        last_line = end + 1 - start;
        start = end + 1;
      }
      if (*more) {
        EXPECT_GE(batch.size(), max_bytes);
        EXPECT_LT(batch.size() - last_line, max_bytes) << "a whole line too many";
      } else {
        EXPECT_TRUE(batch.empty() || batch.size() - last_line < max_bytes);
        break;
      }
    }
    return entries;
  }
};

TEST_F(ListingTest, UploadInProgressIsHiddenFromListings) {
  auto upload = Upload::begin(root(), "a/b/incoming", 2);
  ASSERT_TRUE(upload.ok());
  auto entries = list_entries(root(), "a/b");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"file"}));
}

TEST_F(ListingTest, ListEntriesSortedByBytesWithTypes) {
  make_dir(in_root("dir"));
  write_file(in_root("B"), "12345");
  write_file(in_root("b"), "");
  write_file(in_root("a b"), "xy");
  write_file(in_root(".hidden"), "h");
  write_file(in_root("Z"), "z");
  write_file(in_root("\xc3\xa9"), "e");
  write_file(in_root("\xff"), "ff");
  make_symlink("a/b/file", in_root("link"));
  ASSERT_EQ(::mkfifo(in_root("fifo").c_str(), 0644), 0);
  set_mtime(in_root("B"), 1795463808);

  auto entries = list_entries(root(), "");
  ASSERT_TRUE(entries.ok()) << describe(entries.error());
  EXPECT_EQ(names_of(*entries),
            (std::vector<std::string>{".hidden", "B", "Z", "a", "a b", "b", "dir", "fifo", "link",
                                      "\xc3\xa9", "\xff"}));
  EXPECT_EQ(find(*entries, "a")->type, 'd');
  EXPECT_EQ(find(*entries, "dir")->type, 'd');
  EXPECT_EQ(find(*entries, "B")->type, 'f');
  EXPECT_EQ(find(*entries, "B")->size, 5u);
  EXPECT_EQ(find(*entries, "B")->mtime, 1795463808);
  EXPECT_EQ(find(*entries, "b")->size, 0u);
  EXPECT_EQ(find(*entries, "link")->type, 'l');
  EXPECT_EQ(find(*entries, "fifo")->type, 'o');
  EXPECT_EQ(protocol::format_entry(*find(*entries, "B")), "f 5 2026-11-23T19:56:48Z B\n");
}

TEST_F(ListingTest, ListEntriesOfTheRootByAnyName) {
  for (const std::string_view path : {""sv, "/"sv, "."sv, ".."sv, "a/.."sv, "../.."sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_TRUE(entries.ok()) << path;
    EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"a"})) << path;
  }
}

TEST_F(ListingTest, ListEntriesHidesTemporariesAndDots) {
  write_file(in_root("a/.ferry-tmp-0123456789abcdef"), "partial");
  write_file(in_root("a/.ferry-tmp-"), "partial");
  write_file(in_root("a/.ferry-tmpx"), "shown");
  write_file(in_root("a/..."), "shown");
  auto entries = list_entries(root(), "a");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"...", ".ferry-tmpx", "b"}));
}

TEST_F(ListingTest, ListEntriesOfAFile) {
  set_mtime(in_root("a/b/file"), 1795463808);
  for (const std::string_view path : {"a/b/file"sv, "/a/b/file"sv, "a/./b//file"sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_TRUE(entries.ok()) << path;
    ASSERT_EQ(entries->size(), 1u) << path;
    const protocol::Entry& e = entries->front();
    EXPECT_EQ(e.name, "file");
    EXPECT_EQ(e.type, 'f');
    EXPECT_EQ(e.size, kInsideContent.size());
    EXPECT_EQ(e.mtime, 1795463808);
  }
  auto with_slash = list_entries(root(), "a/b/file/");
  ASSERT_FALSE(with_slash.ok());
  EXPECT_EQ(with_slash.error().code, ENOTDIR);
}

TEST_F(ListingTest, ListEntriesOfAFifoDoesNotHang) {
  ASSERT_EQ(::mkfifo(in_root("a/fifo").c_str(), 0644), 0);
  auto entries = list_entries(root(), "a/fifo");
  ASSERT_TRUE(entries.ok()) << describe(entries.error());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().type, 'o');
  EXPECT_EQ(entries->front().name, "fifo");
}

TEST_F(ListingTest, ListEntriesShowsSymlinksAsLinks) {
  const std::string target = outside_path() + "/secret";
  make_symlink(target, in_root("a/to_secret"));
  make_symlink(outside_path(), in_root("a/to_outside"));
  make_symlink("b", in_root("a/to_b"));
  auto entries = list_entries(root(), "a");
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(names_of(*entries), (std::vector<std::string>{"b", "to_b", "to_outside", "to_secret"}));
  // The link itself, never what it points at: its size is the length of its target text.
  const protocol::Entry* secret = find(*entries, "to_secret");
  ASSERT_NE(secret, nullptr);
  EXPECT_EQ(secret->type, 'l');
  EXPECT_EQ(secret->size, target.size());
  EXPECT_EQ(find(*entries, "to_outside")->type, 'l');
  EXPECT_EQ(find(*entries, "to_b")->type, 'l');
}

TEST_F(ListingTest, ListEntriesThroughSymlinks) {
  make_symlink("/a/b", in_root("inside"));
  make_symlink(outside_path(), in_root("abs_out"));
  make_symlink("../outside", in_root("rel_out"));
  make_symlink(outside_path() + "/secret", in_root("secret_link"));
  auto inside = list_entries(root(), "inside");
  ASSERT_TRUE(inside.ok());
  EXPECT_EQ(names_of(*inside), (std::vector<std::string>{"file"}));
  for (const std::string_view path :
       {"abs_out"sv, "rel_out"sv, "secret_link"sv, "abs_out/dir"sv, "../outside"sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_FALSE(entries.ok()) << path;
    EXPECT_EQ(entries.error().code, ENOENT) << path;
  }
}

TEST_F(ListingTest, ListEntriesMissing) {
  for (const std::string_view path : {"nothing"sv, "a/nothing"sv, "/etc"sv}) {
    auto entries = list_entries(root(), path);
    ASSERT_FALSE(entries.ok()) << path;
    EXPECT_EQ(entries.error().code, ENOENT) << path;
  }
  auto nul = list_entries(root(), "a\0b"s);
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, EINVAL);
}

TEST_F(ListingTest, ListEntriesEmptyDirectory) {
  make_dir(in_root("empty"));
  auto entries = list_entries(root(), "empty");
  ASSERT_TRUE(entries.ok());
  EXPECT_TRUE(entries->empty());
}

// ---------------------------------------------------------------- DirectoryListing

TEST_F(ListingTest, BatchesOfALargeDirectoryCoverEveryNameOnce) {
  make_dir(in_root("big"));
  const Fd big(::open(in_root("big").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(big.valid());
  std::set<std::string> expected;
  for (int i = 0; i < 5000; ++i) {
    std::string name = "entry-" + std::to_string(i);
    const Fd file(::openat(big.get(), name.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    ASSERT_TRUE(file.valid()) << name;
    expected.insert(std::move(name));
  }
  auto listing = DirectoryListing::open(root(), "big");
  ASSERT_TRUE(listing.ok()) << describe(listing.error());
  int batches = 0;
  const std::vector<protocol::Entry> entries = drain(*listing, 4096, &batches);
  std::map<std::string, int> seen;
  for (const auto& entry : entries) {
    ++seen[entry.name];
    EXPECT_EQ(entry.type, 'f');
  }
  EXPECT_EQ(entries.size(), expected.size());
  for (const auto& name : expected)
    EXPECT_EQ(seen[name], 1) << name;
  EXPECT_GT(batches, 10);
  // Ended: more calls append nothing.
  std::string after;
  auto more = listing->next_batch(after, 4096);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_TRUE(after.empty());
}

TEST_F(ListingTest, EveryBatchSizeIsRespected) {
  for (int i = 0; i < 300; ++i)
    write_file(in_root("a/name-with-some-length-" + std::to_string(i)), "x");
  for (const std::size_t max_bytes : {1u, 40u, 100u, 1000u, 100000u}) {
    auto listing = DirectoryListing::open(root(), "a");
    ASSERT_TRUE(listing.ok());
    int batches = 0;
    EXPECT_EQ(drain(*listing, max_bytes, &batches).size(), 301u) << max_bytes;
    if (max_bytes == 1) {
      EXPECT_GE(batches, 301);  // one line each
    }
  }
}

TEST_F(ListingTest, ABatchAppendsToWhatIsThere) {
  auto listing = DirectoryListing::open(root(), "a/b");
  ASSERT_TRUE(listing.ok());
  std::string out = "OK\n\n";
  auto more = listing->next_batch(out, 4096);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_TRUE(out.starts_with("OK\n\nf 11 ")) << out;
  EXPECT_TRUE(out.ends_with(" file\n")) << out;
}

TEST_F(ListingTest, AFilePathGivesOneEntry) {
  set_mtime(in_root("a/b/file"), 1795463808);
  for (const std::string_view path : {"a/b/file"sv, "/a/b/file"sv, "a/./b//file"sv}) {
    auto listing = DirectoryListing::open(root(), path);
    ASSERT_TRUE(listing.ok()) << path;
    std::string out;
    auto more = listing->next_batch(out, 4096);
    ASSERT_TRUE(more.ok());
    EXPECT_FALSE(*more);
    EXPECT_EQ(out, "f 11 2026-11-23T19:56:48Z file\n") << path;
  }
  // With a tiny batch size too: the one line, then the end.
  auto listing = DirectoryListing::open(root(), "a/b/file");
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(drain(*listing, 1).size(), 1u);
}

TEST_F(ListingTest, TemporariesAndDotsAreHidden) {
  write_file(in_root("a/.ferry-tmp-0123456789abcdef"), "partial");
  write_file(in_root("a/.ferry-tmp-notes.txt"), "hidden from requests too");
  write_file(in_root("a/.ferry-tmp-"), "partial");
  write_file(in_root("a/.ferry-tmpx"), "shown");
  write_file(in_root("a/..."), "shown");
  auto upload = Upload::begin(root(), "a/incoming", 2);
  ASSERT_TRUE(upload.ok());
  auto listing = DirectoryListing::open(root(), "a");
  ASSERT_TRUE(listing.ok());
  std::set<std::string> names;
  for (const auto& entry : drain(*listing, 10))
    names.insert(entry.name);
  EXPECT_EQ(names, (std::set<std::string>{"...", ".ferry-tmpx", "b"}));
  for (const std::string_view path :
       {"a/.ferry-tmp-0123456789abcdef"sv, "a/.ferry-tmp-notes.txt"sv, "/a/.ferry-tmp-"sv}) {
    auto named = DirectoryListing::open(root(), path);
    ASSERT_FALSE(named.ok()) << path;
    EXPECT_EQ(named.error().code, ENOENT) << path;
  }
}

TEST_F(ListingTest, OpenErrorsAreThoseOfTheWholeListing) {
  make_symlink(outside_path(), in_root("abs_out"));
  for (const std::string_view path : {"nothing"sv, "a/nothing"sv, "/etc"sv, "abs_out"sv}) {
    auto listing = DirectoryListing::open(root(), path);
    ASSERT_FALSE(listing.ok()) << path;
    EXPECT_EQ(listing.error().code, ENOENT) << path;
  }
  auto nul = DirectoryListing::open(root(), "a\0b"s);
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().code, EINVAL);
  auto file_with_slash = DirectoryListing::open(root(), "a/b/file/");
  ASSERT_FALSE(file_with_slash.ok());
  EXPECT_EQ(file_with_slash.error().code, ENOTDIR);
}

TEST_F(ListingTest, AnEmptyDirectoryEndsAtOnce) {
  make_dir(in_root("empty"));
  auto listing = DirectoryListing::open(root(), "empty");
  ASSERT_TRUE(listing.ok());
  std::string out;
  auto more = listing->next_batch(out, 4096);
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
  EXPECT_TRUE(out.empty());
}

TEST_F(ListingTest, AMovedListingGoesOnWhereItWas) {
  for (int i = 0; i < 50; ++i)
    write_file(in_root("a/f" + std::to_string(i)), "");
  auto opened = DirectoryListing::open(root(), "a");
  ASSERT_TRUE(opened.ok());
  std::string first;
  auto more = opened->next_batch(first, 20);
  ASSERT_TRUE(more.ok());
  ASSERT_TRUE(*more);
  DirectoryListing moved(std::move(*opened));
  auto from_the_old = opened->next_batch(first, 1 << 20);  // NOLINT(bugprone-use-after-move)
  ASSERT_TRUE(from_the_old.ok());
  EXPECT_FALSE(*from_the_old);  // a moved-from listing is at its end
  auto other = DirectoryListing::open(root(), "a/b");
  ASSERT_TRUE(other.ok());
  DirectoryListing assigned = std::move(*other);
  assigned = std::move(moved);  // the listing of a/b is closed, a's taken over
  std::set<std::string> names;
  for (const auto& entry : drain(assigned, 100))
    names.insert(entry.name);
  auto first_entry = protocol::parse_entry(std::string_view(first).substr(0, first.size() - 1));
  ASSERT_TRUE(first_entry.has_value()) << first;
  names.insert(first_entry->name);
  EXPECT_EQ(names.size(), 51u);
}

}  // namespace
}  // namespace ferry::fs
