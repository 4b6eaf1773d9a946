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

// `received hello.txt: 18 bytes in 0.001 s (18.0 kB/s)`; direction is `received` or
// `sent`, `name` (made printable here) the file; without a name `received 18 bytes ...`.
std::string format_summary(std::string_view direction, std::string_view name, std::uint64_t bytes,
                           double seconds);

// `12.5 MB/s`, decimal units.
std::string format_rate(double bytes_per_second);

}  // namespace ferry::client
