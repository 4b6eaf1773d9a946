#pragma once

// The splice pipes of one worker, lent to its PUTs: instead of one pipe per PUT (at 1 MiB
// each, an unprivileged ferryd reached fs.pipe-user-pages-soft at the 65th concurrent PUT,
// and every later PUT got an 8 KiB pipe), a worker keeps a few and lends one for each fill
// and drain. A drain on the worker's thread gives it back before the next PUT runs, so on a
// memory-backed file system the worker uses one; a drain on a file thread keeps it until
// the disk is done, so a worker needs as many as its PUTs wait on the pool at once. Past
// `max_lent` a PUT waits for one to come back. Touched only on the worker's thread.

#include <cstddef>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "ferry/net/splice_pipe.hpp"

namespace ferryd {

class PipePool {
 public:
  PipePool(std::size_t pipe_bytes, std::size_t max_lent)
      : pipe_bytes_(pipe_bytes), max_lent_(max_lent) {}
  PipePool(const PipePool&) = delete;
  PipePool& operator=(const PipePool&) = delete;

  class Lease {
   public:
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), pipe_(std::move(other.pipe_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->give_back(std::move(pipe_));
    }

    ferry::net::SplicePipe& pipe() { return *pipe_; }
    // After a failed drain the pipe may still hold bytes: it is closed, never lent again.
    void discard() { pipe_.reset(); }

   private:
    friend class PipePool;
    Lease(PipePool* pool, ferry::net::SplicePipe pipe) : pool_(pool), pipe_(std::move(pipe)) {}
    PipePool* pool_;
    std::optional<ferry::net::SplicePipe> pipe_;
  };

  enum class Refusal {
    all_lent,     // wait for on_return, then ask again
    cannot_make,  // no pipe could be made (descriptors): do without one
  };
  struct Borrowed {
    std::optional<Lease> lease;
    Refusal refusal = Refusal::all_lent;  // when there is no lease
  };

  Borrowed borrow() {
    if (lent_ >= max_lent_) return {std::nullopt, Refusal::all_lent};
    std::optional<ferry::net::SplicePipe> pipe;
    if (!idle_.empty()) {
      pipe.emplace(std::move(idle_.back()));
      idle_.pop_back();
    } else {
      pipe = ferry::net::SplicePipe::open(pipe_bytes_);
      if (!pipe) return {std::nullopt, Refusal::cannot_make};
    }
    ++lent_;
    return {Lease(this, std::move(*pipe)), Refusal::all_lent};
  }

  // Called whenever a lease ends: wakes the PUTs that wait for a pipe.
  void on_return(std::function<void()> wake) { wake_ = std::move(wake); }

  std::size_t lent() const { return lent_; }
  std::size_t idle() const { return idle_.size(); }

 private:
  void give_back(std::optional<ferry::net::SplicePipe> pipe) {
    --lent_;
    if (pipe) idle_.push_back(std::move(*pipe));
    if (wake_) wake_();
  }

  std::size_t pipe_bytes_;
  std::size_t max_lent_;
  std::size_t lent_ = 0;
  std::vector<ferry::net::SplicePipe> idle_;
  std::function<void()> wake_;
};

}  // namespace ferryd
