#pragma once

// How `ls` and `lls` show entries on a terminal: names in columns, as ls(1) does, and the
// sizes of `-h`. (The full lines of scripts and `-l` are listing_table.hpp's.)

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ferry/protocol/listing.hpp"

namespace ferry::client {

// ls -h's sizes: bytes below 1024 as they are, then `1.5K`, `12K`, `1.0M`, ... (powers of
// 1024, one decimal below 10, rounded up as ls rounds).
std::string short_size(std::uint64_t bytes);

// stat's: `6 B`, `1.5 KiB`, `12.0 MiB`.
std::string human_size(std::uint64_t bytes);

// The display names (listing_table.hpp's display_name, `/` after a directory), sorted,
// in as many columns as fit in `width` terminal cells, filled top to bottom then left to
// right, two spaces apart; one a line when even two do not fit.
std::string format_columns(const std::vector<protocol::Entry>& entries, std::size_t width);

// Terminal cells a UTF-8 text takes, counting one per code point.
std::size_t text_width(std::string_view text);

}  // namespace ferry::client
