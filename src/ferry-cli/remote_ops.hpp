#pragma once

// What several remote commands share: paths joined to the working directory, version-2
// requests that fail clearly against a version-1 server, what kind of thing a path names,
// globs expanded from a listing.

#include <string>
#include <string_view>
#include <vector>

#include "client_context.hpp"
#include "ferry/protocol/listing.hpp"

namespace ferry::cli {

// `argument` relative to the remote working directory (client/remote_path.hpp).
std::string remote_path(const ClientContext& context, std::string_view argument);

// Sends version-2 requests pipelined and returns their answers in order. Throws
// UnsupportedError naming `command` against a version-1 server.
std::vector<ControlConnection::Reply> exchange_v2(ClientContext& context, std::string_view command,
                                                  const std::vector<std::string>& requests);

// Throws UnsupportedError when the server is already known to speak version 1.
void require_v2(const ClientContext& context, std::string_view command);

enum class RemoteKind { directory, other, missing, unknown };

struct RemoteCheck {
  RemoteKind kind = RemoteKind::missing;
  std::string error;  // for missing: the server's reason
};

// What `path` (as sent) names: STAT on a version-2 server; on a version-1 server, or for a
// symbolic link, an LS of it (a non-directory lists as its one entry, under its own name).
// Without `listing_fallback`, a version-1 server gives `unknown`.
RemoteCheck check_remote(ClientContext& context, const std::string& path,
                         bool listing_fallback = true);

// The entries a remote argument stands for: a listing of the directory it names, or, when
// its last component is a glob, the matching entries of its directory's listing (none is an
// error: `no match: *.txt`).
std::vector<protocol::Entry> list_argument(ClientContext& context, std::string_view argument);

// The paths (as sent) a remote argument stands for: itself, or each match of its glob.
std::vector<std::string> expand_remote(ClientContext& context, std::string_view argument);

}  // namespace ferry::cli
