#pragma once

// Whether a file's bytes are in the page cache, so that sending them (sendfile) cannot
// block a worker on the disk; and reading them in when they are not, on a thread that may
// block.

#include <cstdint>

namespace ferryd {

// True when every page of [offset, offset + length) of `fd` is cached. cachestat(2) where
// the kernel has it (6.5 on), else mmap + mincore; false when it cannot be told.
bool is_cached(int fd, std::uint64_t offset, std::uint64_t length);

// False for a file on a memory-backed file system (tmpfs, ramfs), where reads and writes
// never wait for a disk; true for every other.
bool may_wait_for_disk(int fd);

// Reads [offset, offset + length) so that it is cached afterwards; blocks on the disk.
// Returns 0 or the errno of a failed read (the send then reports it).
int read_into_cache(int fd, std::uint64_t offset, std::uint64_t length);

}  // namespace ferryd
