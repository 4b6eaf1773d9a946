#pragma once

// Whether the served root still exists.

#include "ferry/fs/fd.hpp"

namespace ferry::fs {

// True when the directory `root` refers to was removed (a root that was only renamed still
// exists). Every request inside a removed root fails; the server checks this to say why.
bool root_was_removed(const Fd& root);

}  // namespace ferry::fs
