#pragma once

// Quoting for completion: a name written so that split_words() gives it back, and the
// partial words readline hands over read back into names.

#include <string>
#include <string_view>

namespace ferry::util {

// `name` quoted for the command line. `quote` is the quote the user opened (`"` or `'`)
// or 0: then each special character gets a backslash (`doc\ with\ space.txt`). With
// `close`, a quoted word ends in its closing quote (a finished word).
std::string quote_word(std::string_view name, char quote, bool close);

// The characters that make quote_word() (with quote 0) change a name.
inline constexpr std::string_view kSpecialCharacters = " \t\n\\\"'`$;&|<>()#!*?[]{}";

// What the partial word `text` stands for: inside a quote the user opened (`quote` is `"`
// or `'`, the quote itself not in `text`), or unquoted (quote 0) with backslashes and
// quoted pieces; as far as it goes (an unfinished escape is dropped).
std::string dequote_partial(std::string_view text, char quote);

// Whether line[index] is quoted: inside quotes, or after a backslash that is not itself
// quoted. So `get a\ b` and `get "a b"` keep their spaces inside one word.
bool is_quoted_at(std::string_view line, std::size_t index);

}  // namespace ferry::util
