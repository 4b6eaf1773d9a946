#pragma once

// The user's .netrc, for logins: `$NETRC` when set (as GNU inetutils' ftp and curl 8.16
// take it), else `~/.netrc`. Read at most once a run, and only when a login needs it; a
// file that its group or others may read or write is refused, as ftp(1) refuses it
// (private_file.hpp), and so is a malformed one, each said once on stderr.

#include <optional>
#include <string>
#include <string_view>

#include "ferry/client/netrc.hpp"

namespace ferry::cli {

class NetrcFile {
 public:
  // The entry for `host` and `user` (empty: any), client::find_netrc_entry()'s rules; none
  // when the file is missing, refused, or holds no entry for them.
  std::optional<client::NetrcEntry> find(std::string_view host, std::string_view user);

  // Where the file is looked for (for messages).
  const std::string& path();

 private:
  void load();

  bool loaded_ = false;
  std::string path_;
  std::optional<std::string> text_;  // none: missing or refused
};

}  // namespace ferry::cli
