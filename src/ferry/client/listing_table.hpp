#pragma once

// An LS answer's body: parsed from the wire, printed as an aligned table.

#include <string>
#include <string_view>
#include <vector>

#include "ferry/protocol/listing.hpp"

namespace ferry::client {

struct Listing {
  std::vector<protocol::Entry> entries;
  std::string error;  // empty on success; names the offending line
  bool ok() const { return error.empty(); }
};

// Every line must end in LF (one CR before it is accepted) and be a well-formed entry.
Listing parse_listing(std::string_view body);

// One row per entry: type, size right-aligned, `YYYY-MM-DD HH:MM` in UTC, name. Names are
// shown escaped (protocol::escape, plus C1 controls) so that no name can move the cursor;
// directories get a trailing `/`.
std::string format_listing(const std::vector<protocol::Entry>& entries);

}  // namespace ferry::client
