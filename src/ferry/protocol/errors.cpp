#include "ferry/protocol/errors.hpp"

#include <array>

#include "ferry/protocol/message.hpp"

namespace ferry::protocol {

Error error_about(ErrorKind kind, std::string_view reason, std::string_view subject) {
  std::string text(reason);
  text += ": ";
  text += subject;
  return Error{kind, std::move(text)};
}

std::string render(const Error& error) {
  return format_error(error.text);
}

std::string_view kind_name(ErrorKind kind) {
  static constexpr std::array<std::string_view, 22> kNames{
      "not_found",       "no_directory",
      "exists",          "not_empty",
      "is_directory",    "not_directory",
      "not_regular",     "permission",
      "read_only",       "reserved_name",
      "served_root",     "root_removed",
      "invalid",         "cross_device",
      "no_space",        "busy",
      "limit",           "refused",
      "login",           "malformed",
      "unknown_command", "io",
  };
  const auto index = static_cast<std::size_t>(kind);
  return index < kNames.size() ? kNames[index] : "io";
}

}  // namespace ferry::protocol
