#pragma once

#include <linux/sockios.h>
#include <sys/ioctl.h>

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
  // `sending_socket`: for an upload, the socket whose bytes not yet acknowledged by the peer
  // (SIOCOUTQ) are still to move too; a few MiB can wait there, and over a slow link they
  // take as long as the rest. -1 for a download, whose progress counts bytes received.
  PrefetchTrigger(ControlConnection& control, std::uint64_t total, net::ProgressSink& next,
                  int sending_socket = -1)
      : control_(control), total_(total), next_(next), sending_socket_(sending_socket) {}

  void advance(std::uint64_t done) override {
    check(done);
    next_.advance(done);
  }

  // Prefetches when `done` bytes leave at most kPrefetchDistance to move (once).
  void check(std::uint64_t done) {
    if (fired_) return;
    std::uint64_t remaining = total_ - std::min(done, total_);
    if (remaining > ControlConnection::kPrefetchDistance) return;
    int queued = 0;
    if (sending_socket_ >= 0 && ::ioctl(sending_socket_, SIOCOUTQ, &queued) == 0 && queued > 0) {
      remaining += static_cast<std::uint64_t>(queued);
      if (remaining > ControlConnection::kPrefetchDistance) return;
    }
    fired_ = true;
    control_.prefetch_next();
  }

 private:
  ControlConnection& control_;
  std::uint64_t total_;
  net::ProgressSink& next_;
  int sending_socket_;
  bool fired_ = false;
};

}  // namespace ferry::cli
