#pragma once

// Remote-path completion without I/O: the candidates a listing offers for a partial path,
// and the per-directory cache of listings that keeps repeated Tabs off the network.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/protocol/listing.hpp"

namespace ferry::client {

// The completions of `word` (a remote argument as typed, unquoted: `docs/no`) from the
// listing of its directory part (`docs/`): that part followed by each name that starts
// with the rest, directories ending in `/`, sorted. Names starting with `.` only when the
// rest does; names that cannot be shown as they are (client::printable would change
// them) never, since readline would print them raw.
std::vector<std::string> completion_candidates(std::string_view word,
                                               const std::vector<protocol::Entry>& entries);

// The directory part of `word`: up to and including its last `/`; "" when it has none.
std::string_view completion_directory(std::string_view word);

class ListingCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kLifetime{5};

  // The entries listed for `directory` (as sent) less than kLifetime before `now`.
  const std::vector<protocol::Entry>* find(const std::string& directory,
                                           Clock::time_point now) const;
  void store(const std::string& directory, std::vector<protocol::Entry> entries,
             Clock::time_point now);
  void clear() { listings_.clear(); }

 private:
  struct Listing {
    Clock::time_point when;
    std::vector<protocol::Entry> entries;
  };
  std::map<std::string, Listing> listings_;
};

}  // namespace ferry::client
