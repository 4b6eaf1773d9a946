#pragma once

// The file operations behind GET, PUT and LS and the start-up sweep, one header each; this
// one includes them all for callers that use several. Every path goes through open_in_root.

#include "ferry/fs/listing.hpp"
#include "ferry/fs/names.hpp"
#include "ferry/fs/read.hpp"
#include "ferry/fs/root_state.hpp"
#include "ferry/fs/sweep.hpp"
#include "ferry/fs/upload.hpp"
