#pragma once

// Local path arguments: `~` and `~/x` (and `~user`) expanded as a shell expands them.

#include <string>

namespace ferry::cli {

// readline's tilde_expand for a word starting with `~`; any other word as it is.
std::string expand_local(const std::string& word);

// $HOME, else the password database's home directory.
std::string home_directory();

}  // namespace ferry::cli
