#pragma once

// Names in the served tree: splitting a peer's path, and the names of unfinished uploads.

#include <string>
#include <string_view>

namespace ferry::fs {

// Names of in-progress uploads start with this; LS hides them and PUT refuses them.
inline constexpr std::string_view kTemporaryPrefix = ".ferry-tmp-";
// Upload::begin names its temporary file kTemporaryPrefix + this many lower-case hex digits.
inline constexpr std::size_t kTemporaryHexDigits = 16;

// Every name with the prefix, as requests see it: hidden from LS and GET, refused by PUT.
bool is_temporary_name(std::string_view name);

// Exactly the names Upload::begin makes; the only ones the start-up sweep may delete, so
// that a user's `.ferry-tmp-notes.txt` survives it.
bool is_upload_temporary_name(std::string_view name);

// A fresh kTemporaryPrefix + 16 hex digits from getrandom.
std::string random_temporary_name();

// Empty, `.` or `..`: not a name a file can be created under.
bool is_special_name(std::string_view name);

// The directory part and the last component of a path: "a/b/c" -> {"a/b", "c"},
// "c" -> {"", "c"}, "/c" -> {"/", "c"}. Trailing slashes are not removed.
struct SplitPath {
  std::string_view parent;
  std::string_view name;
};
SplitPath split_path(std::string_view path);

}  // namespace ferry::fs
