#include "login_failures.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace ferryd {

LoginFailures::LoginFailures(Limits limits, Now now) : limits_(limits), now_(std::move(now)) {}

bool LoginFailures::stale(const Entry& entry, Clock::time_point now) const {
  return entry.locked_until <= now &&
         (entry.failures.empty() || entry.failures.back() + limits_.window <= now);
}

// Forgets what no longer counts; when every remembered address still counts (a flood from
// more addresses than the password checks could have failed within a window), the one whose
// last failure is oldest and that is not locked out.
void LoginFailures::make_room(Clock::time_point now) {
  std::erase_if(entries_, [&](const auto& item) { return stale(item.second, now); });
  if (entries_.size() < limits_.max_addresses) return;
  auto oldest = entries_.end();
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->second.locked_until > now || it->second.failures.empty()) continue;
    if (oldest == entries_.end() || it->second.failures.back() < oldest->second.failures.back()) {
      oldest = it;
    }
  }
  if (oldest != entries_.end()) entries_.erase(oldest);
}

bool LoginFailures::record(const std::string& address) {
  const Clock::time_point now = now_();
  const std::lock_guard lock(mutex_);
  auto found = entries_.find(address);
  if (found == entries_.end()) {
    if (entries_.size() >= limits_.max_addresses) make_room(now);
    if (entries_.size() >= limits_.max_addresses) return false;  // every one locked out
    found = entries_.emplace(address, Entry{}).first;
  }
  Entry& entry = found->second;
  if (entry.locked_until > now) return false;  // already locked out: counted once
  while (!entry.failures.empty() && entry.failures.front() + limits_.window <= now) {
    entry.failures.pop_front();
  }
  entry.failures.push_back(now);
  if (entry.failures.size() <= limits_.max_failures) return false;
  entry.failures.clear();
  entry.locked_until = now + limits_.lockout;
  return true;
}

std::optional<std::string> LoginFailures::refusal(const std::string& address) {
  const Clock::time_point now = now_();
  const std::lock_guard lock(mutex_);
  const auto found = entries_.find(address);
  if (found == entries_.end() || found->second.locked_until <= now) return std::nullopt;
  const auto left = std::chrono::ceil<std::chrono::seconds>(found->second.locked_until - now);
  return fmt::format("too many failed logins from {}: try again in {} s", address, left.count());
}

std::size_t LoginFailures::addresses() const {
  const std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace ferryd
