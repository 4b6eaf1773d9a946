#pragma once

// Whether a GET may open its file on the worker. RESOLVE_CACHED (confine.hpp) keeps the
// lookup from waiting, but a FUSE or network file system also waits in its open, its
// attributes and its close; a mount of one inside the root is found by its device. So: the
// root's device when the root is on a local file system, and whether a path lies on it.

#include <sys/types.h>

#include <optional>
#include <string_view>

#include "ferry/fs/fd.hpp"

namespace ferryd {

// `root`'s device, or nullopt when it is a FUSE or network file system (then every GET
// opens on a file thread). Blocking: called once, at start.
std::optional<dev_t> local_device(int root);

// True when `path` resolves, from the kernel's lookup cache alone and without asking the
// file system for attributes, to something on `device`. Never waits on the file system.
bool cached_on_device(const ferry::fs::Fd& root, std::string_view path, dev_t device);

}  // namespace ferryd
