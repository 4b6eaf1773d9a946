#pragma once

// The start-up sweep: removes the temporary files of uploads that a killed server left.

#include <ctime>

#include <string_view>

#include "ferry/fs/fd.hpp"

namespace ferry::fs {

// Now, on the clock the kernel stamps file times with (CLOCK_REALTIME_COARSE). A precise
// CLOCK_REALTIME read runs ahead of it by up to a tick: a file created right after such a
// read gets an earlier mtime, so a sweep with that read as its cutoff took a fresh upload
// of the running server for a stale one and removed it.
timespec file_clock_now();

struct SweepReport {
  int removed = 0;
  // Leftover-looking files kept because a live server (this or another on the same root)
  // holds their upload lock.
  int in_use = 0;
  // Why the walk ended before the whole tree was seen; empty when it was complete.
  std::string_view stopped_because = {};
};

// Walks the whole tree below `root` and removes exactly the files Upload::begin creates
// (kTemporaryPrefix + 16 lower-case hex digits, regular files) that were last written
// before `cutoff` (file_clock_now() at the server's start) and whose upload lock nobody
// holds. Never follows a symbolic link or leaves the root; any depth, with at most two
// directory descriptors open at a time. Blocks on the disk: run it off the workers.
SweepReport sweep_stale_uploads(const Fd& root, const timespec& cutoff);

// sweep_stale_uploads, only the count of removed files.
int remove_stale_uploads(const Fd& root, const timespec& cutoff);

}  // namespace ferry::fs
