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

// A name as the listing shows it. Plain text (valid UTF-8 with no control, bidi or invisible
// character) is shown with its backslashes doubled, as the wire has it; any other name in
// bash's ANSI-C quoting, which split_words() reads back to the same bytes, so that every
// listed name can be typed: `$'bad\xff.txt'`, `$'a\nb'`, `$'evil\u202etxt.exe'`, `$'it\'s\t'`.
std::string display_name(std::string_view name);

// One row per entry, sorted by name (byte by byte): type, size right-aligned, `YYYY-MM-DD HH:MM` in
// UTC, display_name(); directories get a trailing `/`. `human_sizes`: ls -h's (`1.5K`).
std::string format_listing(const std::vector<protocol::Entry>& entries, bool human_sizes = false);

}  // namespace ferry::client
