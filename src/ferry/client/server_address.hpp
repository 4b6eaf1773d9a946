#pragma once

// The server as the command line names it: `HOST PORT`, `HOST:PORT`, `[v6addr]:PORT` or
// `ferry://HOST:PORT/path`, with no I/O.

#include <optional>
#include <string>
#include <string_view>

namespace ferry::client {

struct ServerAddress {
  std::string host;       // without brackets: `::1`
  std::string port;       // decimal, 1..65535
  std::string directory;  // from a URL's path, percent-decoded; "" for none
  std::string error;      // empty on success
  bool ok() const { return error.empty(); }
};

// `first` is the first operand, `second` the PORT operand when one was given. An IPv6
// address takes its port as a second operand or in brackets (`[::1]:2121`); an address
// with several colons and no brackets is taken as a bare IPv6 address.
ServerAddress parse_server_address(std::string_view first,
                                   const std::optional<std::string>& second);

}  // namespace ferry::client
