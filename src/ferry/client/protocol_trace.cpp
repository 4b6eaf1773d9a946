#include "ferry/client/protocol_trace.hpp"

#include "ferry/client/terminal_text.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/protocol/requests.hpp"

namespace ferry::client {
namespace {

constexpr std::string_view kMask = "********";

// A `PASSWORD:` header line (the name in any case), which the trace never shows.
bool is_password_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  return colon != std::string_view::npos &&
         protocol::iequals(line.substr(0, colon), protocol::kPasswordHeader);
}

}  // namespace

std::string format_trace(std::string_view prefix, std::string_view heads) {
  std::string out;
  while (!heads.empty()) {
    const std::size_t end = heads.find('\n');
    std::string_view line = heads.substr(0, end);
    heads.remove_prefix(end == std::string_view::npos ? heads.size() : end + 1);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    out.append(prefix);
    if (is_password_line(line)) {
      out.append(protocol::kPasswordHeader).append(": ").append(kMask);
    } else {
      out += printable(line);
    }
    out += '\n';
  }
  return out;
}

}  // namespace ferry::client
