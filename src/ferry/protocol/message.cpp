#include "ferry/protocol/message.hpp"

#include <algorithm>
#include <charconv>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"

namespace ferry::protocol {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool is_verb_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_header_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

// Splits the head into lines, removing LF and one CR before it. Returns false when a
// line holds a control character other than tab (a stray CR, a NUL, ...).
bool split_lines(std::string_view head, std::vector<std::string_view>& lines) {
  while (!head.empty()) {
    const std::size_t lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    head.remove_prefix(lf == std::string_view::npos ? head.size() : lf + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (const char c : line) {
      const auto u = static_cast<unsigned char>(c);
      if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
    }
    lines.push_back(line);
  }
  return true;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool Message::is(std::string_view verb_name) const {
  return iequals(verb, verb_name);
}

const std::string* Message::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

HeadEnd find_head_end(std::string_view buffer, std::size_t limit) {
  // The head ends at the first empty line: the start of the buffer or just after a LF,
  // followed by LF or CRLF.
  std::size_t line_start = 0;
  while (line_start < buffer.size()) {
    std::size_t rest = line_start;
    if (buffer[rest] == '\r') ++rest;
    if (rest < buffer.size() && buffer[rest] == '\n') {
      const std::size_t length = rest + 1;
      if (length > limit) return {HeadEnd::State::too_long, 0};
      return {HeadEnd::State::complete, length};
    }
    const std::size_t lf = buffer.find('\n', line_start);
    if (lf == std::string_view::npos) break;
    line_start = lf + 1;
    if (line_start > limit) return {HeadEnd::State::too_long, 0};
  }
  // Incomplete so far; it can no longer fit when the buffer already fills the limit.
  if (buffer.size() >= limit) return {HeadEnd::State::too_long, 0};
  return {HeadEnd::State::incomplete, 0};
}

std::optional<std::uint64_t> parse_file_size(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value > kMaxFileSize) {
    return std::nullopt;
  }
  return value;
}

ParseResult parse_head(std::string_view head) {
  ParseResult result;
  if (head.size() > kMaxHeadBytes) {
    result.error = "message head too long";
    return result;
  }
  if (!is_valid_utf8(head)) {
    result.error = "malformed message: not UTF-8";
    return result;
  }
  std::vector<std::string_view> lines;
  if (!split_lines(head, lines)) {
    result.error = "malformed message: control character in a line";
    return result;
  }
  // The last line is the empty one that ends the head, LF included.
  if (lines.empty() || !lines.back().empty() || head.back() != '\n') {
    result.error = "malformed message: no empty line at its end";
    return result;
  }
  lines.pop_back();
  if (lines.empty() || lines.front().empty()) {
    result.error = "malformed message: empty start line";
    return result;
  }
  if (lines.size() - 1 > kMaxHeaderLines) {
    result.error = "malformed message: too many header lines";
    return result;
  }

  const std::string_view start = lines.front();
  const std::size_t space = start.find(' ');
  const std::string_view verb = start.substr(0, space);
  if (verb.empty() || !std::all_of(verb.begin(), verb.end(), is_verb_char)) {
    result.error = "malformed message: bad verb";
    return result;
  }
  Message& message = result.message;
  message.verb = verb;
  if (space != std::string_view::npos) message.argument = std::string(start.substr(space + 1));

  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const std::size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    if (colon == std::string_view::npos || name.empty() ||
        !std::all_of(name.begin(), name.end(), is_header_name_char)) {
      result.error = "malformed message: bad header line";
      return result;
    }
    if (message.header(name) != nullptr) {
      result.error = "malformed message: repeated header " + std::string(name);
      return result;
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    message.headers.push_back({std::string(name), std::string(value)});
  }

  if (const std::string* size = message.header("FILESIZE");
      size != nullptr && !parse_file_size(*size)) {
    result.error = "malformed message: FILESIZE must be decimal digits, at most 2^63-1";
    return result;
  }
  return result;
}

std::string format_message(std::string_view start_line, const std::vector<Header>& headers) {
  std::string out;
  out.reserve(start_line.size() + 2 + headers.size() * 32);
  out.append(start_line);
  out += '\n';
  for (const Header& h : headers) {
    out.append(h.name);
    out += ": ";
    out.append(h.value);
    out += '\n';
  }
  out += '\n';
  return out;
}

std::string format_error(std::string_view text) {
  return format_message("ERROR " + escape(text));
}

}  // namespace ferry::protocol
