#pragma once

// Text from the peer made safe to print, and the client's transfer messages.

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::client {

// Escapes (as `\xHH`) every byte that could drive a terminal: C0 controls, DEL, C1
// controls (U+0080..U+009F) and bytes that are not valid UTF-8. Backslashes stay as they
// are, so text that the server already escaped is shown unchanged.
std::string printable(std::string_view text);

// `received 1048576 bytes in 0.012 s (87.4 MB/s)`; direction is `received` or `sent`.
std::string format_summary(std::string_view direction, std::uint64_t bytes, double seconds);

// `12.5 MB/s`, decimal units.
std::string format_rate(double bytes_per_second);

// The progress line (without CR): bytes so far, percentage when the total is known, rate.
std::string format_progress(std::uint64_t done, std::uint64_t total, double seconds);

}  // namespace ferry::client
