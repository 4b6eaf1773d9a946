#pragma once

// How many of one kind of thing (control sessions, transfers) may be held at once: in all,
// and per client address. Shared by every worker.

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ferryd {

class AddressLimits {
 public:
  enum class Admission { admitted, over_total, over_address };

  // max_per_address 0: no limit per address.
  AddressLimits(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  // Takes a place for `address`, unless a limit is reached.
  Admission admit(const std::string& address);
  // Gives back a place admit() took.
  void release(const std::string& address);

  std::size_t max_total() const { return max_total_; }
  std::size_t max_per_address() const { return max_per_address_; }
  std::size_t held() const;

 private:
  const std::size_t max_total_;
  const std::size_t max_per_address_;
  mutable std::mutex mutex_;  // admitted on one thread, released on any worker
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace ferryd
