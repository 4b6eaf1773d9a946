#pragma once

#include <algorithm>
#include <cstdint>

#include "control_connection.hpp"
#include "ferry/net/data_copy.hpp"

namespace ferry::cli {

// Passes a transfer's progress on, and asks the control connection for the next command's
// port (ControlConnection::prefetch_next) as soon as at most kPrefetchDistance bytes are
// left to move.
class PrefetchTrigger : public net::ProgressSink {
 public:
  PrefetchTrigger(ControlConnection& control, std::uint64_t total, net::ProgressSink& next)
      : control_(control), total_(total), next_(next) {}

  void advance(std::uint64_t done) override {
    check(done);
    next_.advance(done);
  }

  // Prefetches when `done` bytes leave at most kPrefetchDistance to move (once).
  void check(std::uint64_t done) {
    if (fired_ || total_ - std::min(done, total_) > ControlConnection::kPrefetchDistance) return;
    fired_ = true;
    control_.prefetch_next();
  }

 private:
  ControlConnection& control_;
  std::uint64_t total_;
  net::ProgressSink& next_;
  bool fired_ = false;
};

}  // namespace ferry::cli
