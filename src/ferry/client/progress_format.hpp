#pragma once

// The transfer progress line as text, with no I/O: what fits into the terminal's width.

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::client {

struct ProgressState {
  std::string_view name;  // the file, as shown (printable)
  std::uint64_t done = 0;
  std::uint64_t total = 0;
  double rate = 0;  // bytes per second now (not the average); 0 when unknown
};

// `18 B`, `1.5 kB`, `12.3 MB`: decimal units, as the rates.
std::string format_bytes(std::uint64_t bytes);

// The time left at `rate` bytes/s: `0:07`, `12:34`, `1:02:03`; `--:--` when unknown, and
// when over 99 hours.
std::string format_eta(std::uint64_t remaining, double rate);

// `hello.txt [=====>      ]  42%  1.2 MB  3.4 MB/s  ETA 0:02`, at most `width` columns
// (a code point counted as one column): the bar shrinks first and goes below 5 columns,
// then the name is cut (with `~` at the cut, at most half the width, at least 8 columns),
// then ETA, rate and bytes drop out in that order; when even the name and the percentage
// do not fit, the line is the fields alone, as many as fit; "" when not even the
// percentage fits.
std::string format_progress_line(const ProgressState& state, std::size_t width);

}  // namespace ferry::client
