#include "ferry/client/foreign_server.hpp"

#include <fmt/format.h>

#include "ferry/client/terminal_text.hpp"

namespace ferry::client {
namespace {

constexpr std::size_t kQuotedLength = 60;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// An FTP, SMTP or similar reply: three digits, then a space or a dash.
bool is_numbered_reply(std::string_view line) {
  return line.size() >= 4 && is_digit(line[0]) && is_digit(line[1]) && is_digit(line[2]) &&
         (line[3] == ' ' || line[3] == '-');
}

std::string quoted(std::string_view line) {
  if (line.size() > kQuotedLength) line = line.substr(0, kQuotedLength);
  return printable(line);
}

}  // namespace

std::optional<std::string> identify_foreign(std::string_view first_bytes) {
  const std::size_t end = first_bytes.find('\n');
  // Bytes that start like no ferry answer can be told without waiting for the line's end.
  std::string_view line = first_bytes.substr(0, end);
  if (end == std::string_view::npos && line.size() < kQuotedLength) return std::nullopt;
  if (line.ends_with('\r')) line.remove_suffix(1);
  const std::string text = quoted(line);
  if (line.starts_with("HTTP/")) return fmt::format("an HTTP server (\"{}\")", text);
  if (line.starts_with("SSH-")) return fmt::format("an SSH server (\"{}\")", text);
  if (is_numbered_reply(line)) {
    if (line.find("SMTP") != std::string_view::npos) {
      return fmt::format("an SMTP server (\"{}\")", text);
    }
    return fmt::format("an FTP server (\"{}\")", text);
  }
  return std::nullopt;
}

}  // namespace ferry::client
