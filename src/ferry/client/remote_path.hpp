#pragma once

// The client's remote working directory: the server is stateless, so every remote path
// argument is joined to it here, lexically, before it goes on the wire.

#include <string>
#include <string_view>

namespace ferry::client {

// `argument` taken relative to `directory` (both `/`-separated, relative to the served
// root; "" is the root). A leading `/` starts from the root; empty components and `.` are
// dropped; `..` removes the previous component and stays at the root when there is none.
// The result has no leading or trailing slash: "" for the root, `docs/sub` otherwise.
std::string join_remote(std::string_view directory, std::string_view argument);

// The path as `pwd` shows it: `/` and the path (`/`, `/docs/sub`).
std::string absolute_remote(std::string_view path);

}  // namespace ferry::client
