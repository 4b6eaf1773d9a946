#include "ferry/client/requests.hpp"

#include <charconv>

namespace ferry::client {

std::string open_request() {
  return protocol::format_message("OPEN 0");
}

std::string quit_request() {
  return protocol::format_message("QUIT");
}

std::string ls_body(const std::optional<std::string>& directory) {
  return protocol::format_message(directory ? "LS " + *directory : std::string("LS"));
}

std::string get_body(std::string_view remote) {
  return protocol::format_message("GET", {{"FILENAME", std::string(remote)}});
}

std::string put_body(std::string_view remote, std::uint64_t size) {
  return protocol::format_message(
      "PUT", {{"FILENAME", std::string(remote)}, {"FILESIZE", std::to_string(size)}});
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
