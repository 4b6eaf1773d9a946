#include "ferry/client/requests.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/requests.hpp"

namespace ferry::client {
namespace {

constexpr const char* kEscapedHeader = "ESCAPED";

// A path as it goes on the wire: as it is when a head can carry it, else escaped.
struct WirePath {
  std::string text;
  bool escaped = false;
};

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// A head must be valid UTF-8 without controls, and a header value loses its leading spaces
// (PROTOCOL.md, "Messages"): such paths go escaped, with `ESCAPED: yes`, and a leading space
// as `\x20`. Every other path goes as it is, with no new header, as a seed server expects.
bool needs_escape(std::string_view path, bool header_value) {
  const bool loses_leading_space = header_value && !path.empty() && path.front() == ' ';
  return !protocol::is_valid_utf8(path) || std::any_of(path.begin(), path.end(), is_control) ||
         loses_leading_space;
}

// `force`: escaped even when plain, because another path of the same request is (one
// ESCAPED header covers them all).
WirePath wire_path(std::string_view path, bool header_value, bool force = false) {
  if (!force && !needs_escape(path, header_value)) return {std::string(path), false};
  std::string text = protocol::escape(path);
  if (header_value) {
    const std::size_t spaces = std::min(text.find_first_not_of(' '), text.size());
    std::string leading;
    for (std::size_t i = 0; i < spaces; ++i)
      leading += "\\x20";
    text.replace(0, spaces, leading);
  }
  return {std::move(text), true};
}

void mark_escaped(const WirePath& path, std::vector<protocol::Header>& headers) {
  if (path.escaped) headers.push_back({kEscapedHeader, "yes"});
}

}  // namespace

std::string open_request(bool with_token) {
  if (!with_token) return protocol::format_message("OPEN 0");
  return protocol::format_message("OPEN 0", {{std::string(protocol::kTokenHeader), "yes"}});
}

std::string with_token(std::string body, std::string_view token) {
  if (token.empty() || body.size() < 2) return body;
  // A head ends with its empty line: the header goes before it.
  body.insert(body.size() - 1,
              std::string(protocol::kTokenHeader) + ": " + std::string(token) + "\n");
  return body;
}

std::string quit_request() {
  return protocol::format_message("QUIT");
}

std::string ls_body(const std::optional<std::string>& directory) {
  if (!directory) return protocol::format_message("LS");
  const WirePath path = wire_path(*directory, false);
  std::vector<protocol::Header> headers;
  mark_escaped(path, headers);
  return protocol::format_message("LS " + path.text, headers);
}

std::string get_body(std::string_view remote) {
  const WirePath path = wire_path(remote, true);
  std::vector<protocol::Header> headers = {{"FILENAME", path.text}};
  mark_escaped(path, headers);
  return protocol::format_message("GET", headers);
}

std::string put_body(std::string_view remote, std::uint64_t size) {
  const WirePath path = wire_path(remote, true);
  std::vector<protocol::Header> headers = {{"FILENAME", path.text},
                                           {"FILESIZE", std::to_string(size)}};
  mark_escaped(path, headers);
  return protocol::format_message("PUT", headers);
}

std::string features_request() {
  return protocol::format_message("FEATURES");
}

std::string path_request(std::string_view verb, std::string_view path) {
  if (path.empty()) return protocol::format_message(verb);
  const WirePath wire = wire_path(path, false);
  std::vector<protocol::Header> headers;
  mark_escaped(wire, headers);
  return protocol::format_message(std::string(verb) + " " + wire.text, headers);
}

std::string rename_request(std::string_view from, std::string_view to, bool overwrite) {
  const bool escape = needs_escape(from, true) || needs_escape(to, true);
  const WirePath wire_from = wire_path(from, true, escape);
  const WirePath wire_to = wire_path(to, true, escape);
  std::vector<protocol::Header> headers = {{"FROM", wire_from.text}, {"TO", wire_to.text}};
  if (overwrite) headers.push_back({"OVERWRITE", "yes"});
  mark_escaped(wire_from, headers);
  return protocol::format_message("RENAME", headers);
}

int protocol_version(const protocol::Message& answer) {
  if (!answer.is("OK")) return 1;
  const std::string* text = answer.header("VERSION");
  if (text == nullptr) return 1;
  int value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc{} || end != text->data() + text->size() || value < 2) return 1;
  return value;
}

bool announces_tokens(const protocol::Message& answer) {
  const std::string* text = answer.header("TOKENS");
  return answer.is("OK") && text != nullptr && *text == "yes";
}

std::optional<std::string> opened_token(const protocol::Message& answer) {
  const std::string* text = answer.header(protocol::kTokenHeader);
  if (text == nullptr) return std::string();
  const bool hex = std::all_of(text->begin(), text->end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
  if (text->size() != 32 || !hex) return std::nullopt;
  return *text;
}

std::optional<std::uint16_t> opened_port(const protocol::Message& answer) {
  if (!answer.is("OPENED") || !answer.argument) return std::nullopt;
  const std::string& text = *answer.argument;
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  if (value < 1 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::optional<std::string> error_text(const protocol::Message& answer) {
  if (!answer.is("ERROR")) return std::nullopt;
  return answer.argument.value_or(std::string());
}

std::string base_name(std::string_view path) {
  while (!path.empty() && path.back() == '/')
    path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  const std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (last == "." || last == "..") return {};
  return std::string(last);
}

}  // namespace ferry::client
