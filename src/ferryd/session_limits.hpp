#pragma once

// How many control sessions may be open at once, in all and per client address.

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace ferryd {

class SessionLimits {
 public:
  // max_per_address 0: no limit per address.
  SessionLimits(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // Takes a place for a session from `address`; when there is none, the reason to give.
  std::optional<std::string> admit(const std::string& address);
  // Gives back the place admit() took.
  void release(const std::string& address);

 private:
  const std::size_t max_total_;
  const std::size_t max_per_address_;
  std::mutex mutex_;  // admit runs on the accepting thread, release on any worker
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace ferryd
