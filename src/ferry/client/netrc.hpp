#pragma once

// The `.netrc` file of ftp(1), curl and lftp, read with no I/O: entries of tokens separated
// by white space,
//
//     machine HOST login USER password PASS
//     default login USER password PASS
//
// `machine` and `default` start an entry; `login`, `password` and `account` each take the
// next token (the account is skipped); `macdef NAME` defines a macro whose body runs from
// the next line to the first empty line, all of it skipped; any other word is skipped. As
// in curl: a token may be quoted, `"two words"`, with `\"`, `\\`, `\n`, `\r` and `\t`
// inside the quotes; a token starting with `#` starts a comment that ends with its line
// (quote a password that starts with `#`).

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::client {

struct NetrcEntry {
  std::optional<std::string> login;     // none when the entry has no `login`
  std::optional<std::string> password;  // none when the entry has no `password`
};

struct NetrcLookup {
  std::optional<NetrcEntry> entry;  // the entry that applies; none when no entry does
  std::string error;                // the file is malformed: what and on which line
  bool ok() const { return error.empty(); }
};

// The entry of `text` for `host` (compared without regard to case, as host names are) and,
// when `user` is not empty, that user: the first `machine` entry naming the host whose login
// is `user` or that has no login (curl's rule); when no machine entry applies, the first
// `default` entry that does. A malformed file (an unterminated quote, a keyword without its
// value) is an error, whatever entry would have applied.
NetrcLookup find_netrc_entry(std::string_view text, std::string_view host, std::string_view user);

}  // namespace ferry::client
