#pragma once

// Text from the peer made safe to print, and the client's transfer messages.

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::client {

// Escapes what could drive a terminal or disguise the text, as protocol::escape_visible()
// does: C0 controls and DEL (`\n`, `\t`, `\x1b`), bytes that are not valid UTF-8 (`\xff`),
// C1 controls, bidi controls and invisible characters (`\u202e`). Backslashes stay as they
// are, so text that the server already escaped is shown unchanged.
std::string printable(std::string_view text);

// `received 1048576 bytes in 0.012 s (87.4 MB/s)`; direction is `received` or `sent`.
std::string format_summary(std::string_view direction, std::uint64_t bytes, double seconds);

// `12.5 MB/s`, decimal units.
std::string format_rate(double bytes_per_second);

// The progress line (without CR): bytes so far, percentage when the total is known, rate.
std::string format_progress(std::uint64_t done, std::uint64_t total, double seconds);

}  // namespace ferry::client
