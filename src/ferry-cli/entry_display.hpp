#pragma once

// How ls and lls print what they listed: columns on a terminal, full lines otherwise.

#include <vector>

#include "ferry/protocol/listing.hpp"

namespace ferry::cli {

// Columns fitted to the terminal when standard output is one and `long_form` is not asked
// for; else one full line an entry (what scripts parse). `human`: ls -h's sizes.
void print_entries(const std::vector<protocol::Entry>& entries, bool long_form, bool human);

}  // namespace ferry::cli
