#include "entry_display.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "ferry/client/listing_table.hpp"
#include "ferry/client/listing_view.hpp"

namespace ferry::cli {
namespace {

constexpr std::size_t kDefaultWidth = 80;

std::size_t terminal_width() {
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the client reads its environment on one thread
  if (const char* columns = std::getenv("COLUMNS")) {
    const long value = std::strtol(columns, nullptr, 10);
    if (value > 0) return static_cast<std::size_t>(value);
  }
  return kDefaultWidth;
}

}  // namespace

void print_entries(const std::vector<protocol::Entry>& entries, bool long_form, bool human) {
  if (!long_form && ::isatty(STDOUT_FILENO) == 1) {
    fmt::print("{}", client::format_columns(entries, terminal_width()));
  } else {
    fmt::print("{}", client::format_listing(entries, human));
  }
}

}  // namespace ferry::cli
