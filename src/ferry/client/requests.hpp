#pragma once

// What the client sends and how it reads the answers, with no I/O (docs/PROTOCOL.md).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/message.hpp"

namespace ferry::client {

// `OPEN 0`: the server picks the transfer port; with `TOKEN: yes` when `with_token`.
std::string open_request(bool with_token = false);
std::string quit_request();

// The bodies sent first on a transfer connection. A path goes as it is when it is valid
// UTF-8 without control characters (what a seed server understands); any other path, and
// a FILENAME starting with a space, goes in the escaped form of PROTOCOL.md ("Escaping"),
// with the header `ESCAPED: yes`.
std::string ls_body(const std::optional<std::string>& directory);
std::string get_body(std::string_view remote);
std::string put_body(std::string_view remote, std::uint64_t size);
// `body` with the header `TOKEN: <token>` added; `body` itself for an empty token.
std::string with_token(std::string body, std::string_view token);

// Version 2, on the control connection (PROTOCOL.md, "Version 2"). `FEATURES`.
std::string features_request();

// `STAT`, `MKDIR`, `RMDIR`, `DELETE` with the path as their argument, escaped as LS's is;
// an empty path (the root) sends no argument.
std::string path_request(std::string_view verb, std::string_view path);

// `RENAME` with FROM and TO, both escaped (with one `ESCAPED: yes`) when either must be;
// `OVERWRITE: yes` when `overwrite`.
std::string rename_request(std::string_view from, std::string_view to, bool overwrite);

// The protocol version a FEATURES answer tells: its VERSION for `OK`, 1 for `ERROR` (a
// version-1 server knows no FEATURES) and for anything it cannot read.
int protocol_version(const protocol::Message& answer);
// Whether a FEATURES answer announces transfer tokens (`TOKENS: yes`).
bool announces_tokens(const protocol::Message& answer);

// The port of an `OPENED <port>` answer; nullopt when it is not one or the port is not in
// 1..65535.
std::optional<std::uint16_t> opened_port(const protocol::Message& answer);
// The token of an `OPENED` answer: its TOKEN header when that is 32 lowercase hex digits;
// empty when there is none. nullopt when the header is there but malformed.
std::optional<std::string> opened_token(const protocol::Message& answer);

// The text of an `ERROR <text>` answer; nullopt for any other verb.
std::optional<std::string> error_text(const protocol::Message& answer);

// The last component of a `/`-separated path; empty when there is none (`dir/`, `/`, `..`).
std::string base_name(std::string_view path);

}  // namespace ferry::client
