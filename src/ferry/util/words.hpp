#pragma once

// Shell-like splitting of the client's command lines, so that `get "my file.txt"` works.

#include <string>
#include <string_view>
#include <vector>

namespace ferry::util {

struct Words {
  std::vector<std::string> words;
  std::string error;  // empty on success
  bool ok() const { return error.empty(); }
};

// Splits a line into words as a POSIX shell would, without expansions:
// - 'single quotes' keep everything literally;
// - "double quotes" keep everything, except that a backslash escapes `\`, `"`, `$` and '`'
//   (before any other character it stays a backslash);
// - $'ANSI-C quotes', as bash has them, make any byte string typeable: `\\` `\'` `\"` `\?`,
//   `\a` `\b` `\e` `\E` `\f` `\n` `\r` `\t` `\v`, `\NNN` (1-3 octal digits, a byte),
//   `\xHH` (1-2 hex digits, a byte), `\uHHHH` and `\UHHHHHHHH` (1-4 and 1-8 hex digits, a
//   code point written as UTF-8; a surrogate or one above U+10FFFF is an error); any other
//   backslash stays with the character after it. The client's listing shows hostile names in
//   this form;
// - outside quotes a backslash keeps the next character literally;
// - spaces and tabs separate words; "" makes an empty word.
// An unterminated quote or a trailing backslash is an error.
Words split_words(std::string_view line);

struct Commands {
  std::vector<std::string> commands;
  std::string error;  // empty on success
  bool ok() const { return error.empty(); }
};

// Splits a `-c` string on the semicolons that are outside quotes (any of the three kinds)
// and not escaped.
// Each piece keeps its quotes (split_words runs on it later); pieces are trimmed of
// spaces and tabs, and empty pieces are dropped.
Commands split_commands(std::string_view text);

}  // namespace ferry::util
