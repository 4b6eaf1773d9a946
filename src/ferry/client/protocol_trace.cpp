#include "ferry/client/protocol_trace.hpp"

#include "ferry/client/terminal_text.hpp"

namespace ferry::client {

std::string format_trace(std::string_view prefix, std::string_view heads) {
  std::string out;
  while (!heads.empty()) {
    const std::size_t end = heads.find('\n');
    std::string_view line = heads.substr(0, end);
    heads.remove_prefix(end == std::string_view::npos ? heads.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    out.append(prefix);
    out += printable(line);
    out += '\n';
  }
  return out;
}

}  // namespace ferry::client
