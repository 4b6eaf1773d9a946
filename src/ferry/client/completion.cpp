#include "ferry/client/completion.hpp"

#include <algorithm>

#include "ferry/client/terminal_text.hpp"

namespace ferry::client {

std::string_view completion_directory(std::string_view word) {
  const std::size_t slash = word.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : word.substr(0, slash + 1);
}

std::vector<std::string> completion_candidates(std::string_view word,
                                               const std::vector<protocol::Entry>& entries) {
  const std::string_view directory = completion_directory(word);
  const std::string_view rest = word.substr(directory.size());
  std::vector<std::string> candidates;
  for (const protocol::Entry& entry : entries) {
    const std::string& name = entry.name;
    if (!name.starts_with(rest)) continue;
    if (name.starts_with('.') && !rest.starts_with('.')) continue;
    if (printable(name) != name) continue;
    std::string candidate(directory);
    candidate += name;
    if (entry.type == 'd') candidate += '/';
    candidates.push_back(std::move(candidate));
  }
  std::sort(candidates.begin(), candidates.end());
  return candidates;
}

const std::vector<protocol::Entry>* ListingCache::find(const std::string& directory,
                                                       Clock::time_point now) const {
  const auto found = listings_.find(directory);
  if (found == listings_.end() || now - found->second.when >= kLifetime) return nullptr;
  return &found->second.entries;
}

void ListingCache::store(const std::string& directory, std::vector<protocol::Entry> entries,
                         Clock::time_point now) {
  // Old listings are never looked at again once stale: drop them rather than let the map grow.
  std::erase_if(listings_, [&](const auto& item) { return now - item.second.when >= kLifetime; });
  listings_[directory] = Listing{now, std::move(entries)};
}

}  // namespace ferry::client
