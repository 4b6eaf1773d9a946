#pragma once

// The lines `-v` writes for the message heads sent and received, with no I/O.

#include <string>
#include <string_view>

namespace ferry::client {

// Each line of each head in `heads` (one or more complete heads, as on the wire), made
// printable and prefixed with `prefix` (`> ` or `< `), each ending in a line feed; the
// empty line that ends a head is left out, and so is a CR before a line feed. A PASSWORD
// header (a LOGIN's) is shown as `PASSWORD: ********`, whatever its value.
std::string format_trace(std::string_view prefix, std::string_view heads);

}  // namespace ferry::client
