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

// escape(), and also every code point that a terminal would not show as a visible character
// of its own, written as `\u` and four lower-case hex digits (`\u202e`): C1 controls
// (U+0080..U+009F), U+2028 and U+2029, the bidi controls (U+061C, U+200E, U+200F,
// U+202A..U+202E, U+2066..U+2069) and the invisible format characters (U+00AD,
// U+200B..U+200D, U+2060..U+2064, U+FEFF, U+180E). For log lines and terminals: a name such
// as `evil\u202etxt.exe` cannot pass for `evilexe.txt`. Not the wire form (unescape() does
// not read `\u`).
std::string escape_visible(std::string_view raw);

// The inverse of escape(); nullopt for a malformed escape sequence.
std::optional<std::string> unescape(std::string_view text);

bool is_valid_utf8(std::string_view text);

}  // namespace ferry::protocol
