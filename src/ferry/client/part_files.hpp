#pragma once

// The client's download temporaries ("part files"): `.ferry-part-XXXXXX` beside the target,
// locked (flock) for as long as the client writes it. The name differs from the server's
// upload temporaries (`.ferry-tmp-`), which ferryd sweeps at start: a download in progress
// in a served folder is not the server's to remove.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "ferry/fs/fd.hpp"

namespace ferry::client {

inline constexpr std::string_view kPartFilePrefix = ".ferry-part-";

// A part file older than this, and locked by nobody, was left by a client that died.
inline constexpr std::chrono::seconds kStalePartFileAge{60};

// Exactly `.ferry-part-` and six of [A-Za-z0-9], as mkostemp(3) fills in `XXXXXX`.
bool is_part_file_name(std::string_view name);

// Creates a part file in `directory` (mkostemp, O_CLOEXEC) and locks it (LOCK_EX) for as
// long as the descriptor stays open; sets `path` to its path. An invalid Fd, with errno
// set, on failure.
fs::Fd create_part_file(const std::string& directory, std::string& path);

// Removes, from the directory open as `directory`, the part files that no running client
// holds: regular files with a part file's name, last modified before `modified_before`,
// that flock(LOCK_EX | LOCK_NB) can lock. Nothing else: no symbolic link is followed (each
// one is opened with O_NOFOLLOW, then checked and locked through that descriptor, and it is
// unlinked only while the name still refers to that same file). Errors are skipped. Returns
// how many it removed.
std::size_t remove_stale_part_files(int directory,
                                    std::chrono::system_clock::time_point modified_before);

}  // namespace ferry::client
