#pragma once

// One escaping scheme for every place a name or a peer's text must fit on one line:
// LS entry names, ERROR messages and log lines (docs/PROTOCOL.md, "Escaping").

#include <optional>
#include <string>
#include <string_view>

namespace ferry::protocol {

// `\\` for a backslash, `\n` `\r` `\t` for those controls, `\xHH` for any other control
// byte (below 0x20, and 0x7f) and for every byte that is not part of valid UTF-8.
std::string escape(std::string_view text);

// The inverse of escape(); nullopt for a malformed escape sequence.
std::optional<std::string> unescape(std::string_view text);

bool is_valid_utf8(std::string_view text);

}  // namespace ferry::protocol
