#include "ferry/client/listing_table.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "ferry/client/listing_view.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/protocol/escape.hpp"

namespace ferry::client {
namespace {

std::string with_backslashes_doubled(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

std::string display_name(std::string_view name) {
  // Every escape that escape_visible() writes (`\\`, `\n`, `\r`, `\t`, `\xHH`, `\uHHHH`)
  // means the same inside bash's $'...' quotes; only the quote itself needs one more.
  const std::string visible = protocol::escape_visible(name);
  std::string plain = with_backslashes_doubled(name);
  if (visible == plain) return plain;
  std::string quoted = "$'";
  for (const char c : visible) {
    if (c == '\'') quoted += '\\';
    quoted += c;
  }
  quoted += '\'';
  return quoted;
}

Listing parse_listing(std::string_view body) {
  Listing listing;
  std::size_t line_number = 0;
  while (!body.empty()) {
    ++line_number;
    const std::size_t lf = body.find('\n');
    if (lf == std::string_view::npos) {
      listing.error =
          fmt::format("malformed listing: line {} does not end in a line feed", line_number);
      return listing;
    }
    std::string_view line = body.substr(0, lf);
    body.remove_prefix(lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    auto entry = protocol::parse_entry(line);
    if (!entry) {
      listing.error = fmt::format("malformed listing line {}: {}", line_number,
                                  printable(protocol::escape(line.substr(0, 200))));
      return listing;
    }
    listing.entries.push_back(std::move(*entry));
  }
  return listing;
}

std::string format_listing(const std::vector<protocol::Entry>& entries, bool human_sizes) {
  const auto size_text = [human_sizes](std::uint64_t size) {
    return human_sizes ? short_size(size) : std::to_string(size);
  };
  std::size_t size_width = 1;
  for (const auto& entry : entries) {
    size_width = std::max(size_width, size_text(entry.size).size());
  }
  // The server sends a directory in its own order, not sorted (PROTOCOL.md, "LS").
  std::vector<const protocol::Entry*> sorted;
  sorted.reserve(entries.size());
  for (const auto& entry : entries)
    sorted.push_back(&entry);
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto* a, const auto* b) { return a->name < b->name; });
  std::string out;
  for (const protocol::Entry* entry_pointer : sorted) {
    const protocol::Entry& entry = *entry_pointer;
    // format_utc gives `YYYY-MM-DDTHH:MM:SSZ`; the table shows `YYYY-MM-DD HH:MM`.
    std::string date = protocol::format_utc(entry.mtime).substr(0, 16);
    date[10] = ' ';
    std::string name = display_name(entry.name);
    if (entry.type == 'd') name += '/';
    out +=
        fmt::format("{} {:>{}} {} {}\n", entry.type, size_text(entry.size), size_width, date, name);
  }
  return out;
}

}  // namespace ferry::client
