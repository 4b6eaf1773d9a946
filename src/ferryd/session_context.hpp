#pragma once

// What a request handler may know of its session: the served root, what the session may do,
// and (later) its user and TLS session. Handed to every handler, so that none reads the
// root or the permissions from the server's shared state. No asio.

#include <atomic>
#include <cstdint>
#include <string_view>

#include "ferry/fs/fd.hpp"

namespace ferryd {

struct SessionContext {
  std::uint64_t session_id = 0;
  const ferry::fs::Fd* root = nullptr;               // the served root, open for the server's life
  std::string_view root_path;                        // as configured, for the log
  bool read_only = false;                            // --read-only: nothing may change the tree
  std::atomic<bool>* root_removal_logged = nullptr;  // shared: the removal is logged once
};

}  // namespace ferryd
