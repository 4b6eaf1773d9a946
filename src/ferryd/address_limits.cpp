#include "address_limits.hpp"

namespace ferryd {

AddressLimits::Admission AddressLimits::admit(const std::string& address) {
  const std::lock_guard lock(mutex_);
  if (total_ >= max_total_) return Admission::over_total;
  if (max_per_address_ != 0) {
    std::size_t& held = per_address_[address];
    if (held >= max_per_address_) {
      if (held == 0) per_address_.erase(address);
      return Admission::over_address;
    }
    ++held;
  }
  ++total_;
  return Admission::admitted;
}

void AddressLimits::release(const std::string& address) {
  const std::lock_guard lock(mutex_);
  --total_;
  if (max_per_address_ == 0) return;
  if (const auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

std::size_t AddressLimits::held() const {
  const std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace ferryd
