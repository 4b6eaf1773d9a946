#pragma once

// Telling another kind of server from a ferry server by the first bytes it sends, so that
// the client says what it reached at once instead of waiting for an answer that never
// ends in an empty line.

#include <optional>
#include <string>
#include <string_view>

namespace ferry::client {

// What the first bytes received on a control connection, before any answer, show the peer
// to be: `an FTP server ("220 ProFTPD ready")`, `an HTTP server ("HTTP/1.1 400 Bad
// Request")`, an SMTP or SSH server. nullopt while the first line is incomplete and for
// anything a ferry server may send (the line quoted is cut and made printable).
std::optional<std::string> identify_foreign(std::string_view first_bytes);

}  // namespace ferry::client
