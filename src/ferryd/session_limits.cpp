#include "session_limits.hpp"

#include <fmt/format.h>

namespace ferryd {

std::optional<std::string> SessionLimits::admit(const std::string& address) {
  const std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return fmt::format("too many sessions (limit {})", max_total_);
  if (max_per_address_ != 0) {
    if (const auto it = per_address_.find(address);
        it != per_address_.end() && it->second >= max_per_address_) {
      return fmt::format("too many sessions from {} (limit {} per address)", address,
                         max_per_address_);
    }
    ++per_address_[address];
  }
  ++total_;
  return std::nullopt;
}

void SessionLimits::release(const std::string& address) {
  const std::lock_guard lock(mutex_);
  --total_;
  if (max_per_address_ == 0) return;
  if (const auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

}  // namespace ferryd
