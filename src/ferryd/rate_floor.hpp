#pragma once

// The least a transfer must move: at least `min_rate` bytes per second over every window of
// the transfer timeout, and never nothing (a stall). A trickle of a byte every few seconds
// holds a connection, descriptors and a slot without being a transfer; it is cut like a
// stalled one. The window slides in quarters, so a stall is cut within 1¼ windows of its
// start. Time the server spends on its own work (a listing batch, an fsync, reading a cold
// file ahead) is paused out: it does not count against the peer.

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <numeric>

namespace ferryd {

class RateFloor {
 public:
  static constexpr int kSlices = 4;

  RateFloor(std::chrono::seconds window, std::uint64_t min_rate)
      : window_(window),
        floor_(std::max<std::uint64_t>(1, min_rate * static_cast<std::uint64_t>(window.count()))) {}

  std::chrono::seconds window() const { return window_; }
  std::chrono::milliseconds slice() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(window_) / kSlices;
  }
  std::uint64_t floor() const { return floor_; }

  void moved(std::uint64_t bytes) { slices_[current_] += bytes; }
  // While paused, the window stands still: a slice that ends meanwhile is not counted. A
  // pause keeps what the window had moved before it (a trickle that the server pauses for
  // after every byte must not start afresh each time).
  void pause() { paused_ = true; }
  void resume() { paused_ = false; }
  // A fresh window (when the request's data begin).
  void restart() {
    paused_ = false;
    slices_ = {};
    current_ = 0;
    completed_ = 0;
  }

  // At the end of a slice: false when the last full window moved less than the floor.
  bool slice_ended() {
    if (paused_) return true;
    bool passed = true;
    if (++completed_ >= kSlices) {
      last_window_ = std::accumulate(slices_.begin(), slices_.end(), std::uint64_t{0});
      passed = last_window_ >= floor_;
    }
    current_ = (current_ + 1) % kSlices;
    slices_[current_] = 0;
    return passed;
  }
  // What the window that failed had moved, for the log.
  std::uint64_t last_window() const { return last_window_; }

 private:
  std::chrono::seconds window_;
  std::uint64_t floor_;
  std::array<std::uint64_t, kSlices> slices_{};
  int current_ = 0;
  int completed_ = 0;
  std::uint64_t last_window_ = 0;
  bool paused_ = false;
};

}  // namespace ferryd
