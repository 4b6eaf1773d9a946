#pragma once

// The server as the command line names it: `HOST PORT`, `HOST:PORT`, `[v6addr]:PORT` or
// `ferry://HOST:PORT/path`, each optionally with `USER@` before the host, with no I/O.

#include <optional>
#include <string>
#include <string_view>

namespace ferry::client {

struct ServerAddress {
  std::optional<std::string> user;  // from `USER@`; percent-decoded in a URL
  std::string host;                 // without brackets: `::1`
  std::string port;                 // decimal, 1..65535
  std::string directory;            // from a URL's path, percent-decoded; "" for none
  std::string error;                // empty on success
  bool ok() const { return error.empty(); }
};

// `first` is the first operand, `second` the PORT operand when one was given. An IPv6
// address takes its port as a second operand or in brackets (`[::1]:2121`); an address
// with several colons and no brackets is taken as a bare IPv6 address. The user is what
// comes before the last `@` (`ferry://a%40b@host:1/` is user `a@b`); it may hold no `:`,
// because a password never comes from the command line.
ServerAddress parse_server_address(std::string_view first,
                                   const std::optional<std::string>& second);

// The user to log in as: `option` (-u) or the address's user; nullopt when neither is
// given. An error when both are given and differ, or when the name cannot be sent.
struct UserChoice {
  std::optional<std::string> user;
  std::string error;  // empty on success
  bool ok() const { return error.empty(); }
};
UserChoice choose_user(const ServerAddress& address, const std::optional<std::string>& option);

}  // namespace ferry::client
