#include "users_file.hpp"

#include <algorithm>
#include <unordered_set>

#include <fmt/format.h>

namespace ferryd {
namespace {

constexpr std::size_t kMaxNameLength = 32;
constexpr std::string_view kHashPrefix = "$argon2id$";

bool is_blank_or_comment(std::string_view line) {
  const std::size_t first = line.find_first_not_of(" \t");
  return first == std::string_view::npos || line[first] == '#';
}

// NAME, or nullopt for a blank or comment line.
std::optional<std::string_view> name_of(std::string_view line) {
  if (is_blank_or_comment(line)) return std::nullopt;
  return line.substr(0, line.find(':'));
}

// One line into `user`; the error text, or empty.
std::string parse_line(std::string_view line, User& user) {
  std::string_view rest = line;
  std::string_view fields[3];
  for (auto& field : fields) {
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return "expected NAME:HASH:MODE:ROOT";
    field = rest.substr(0, colon);
    rest.remove_prefix(colon + 1);
  }
  if (auto refusal = refuse_user_name(fields[0])) return *refusal;
  if (!fields[1].starts_with(kHashPrefix)) {
    return "the password hash is not an Argon2id hash (set it with `ferryd adduser`)";
  }
  if (fields[2] != "rw" && fields[2] != "ro") {
    return fmt::format("mode must be rw or ro, not \"{}\"", fields[2]);
  }
  if (auto refusal = refuse_user_root(rest)) return *refusal;
  user = User{std::string(fields[0]), std::string(fields[1]), fields[2] == "ro", std::string(rest)};
  return {};
}

template <class Each>
void for_each_line(std::string_view text, Each each) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    ++number;
    if (!each(line, number)) return;
  }
}

}  // namespace

std::optional<std::string> refuse_user_name(std::string_view name) {
  const auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (name.empty() || name.size() > kMaxNameLength || name.front() == '-' || name.front() == '.' ||
      !std::all_of(name.begin(), name.end(), allowed)) {
    return fmt::format(
        "bad user name \"{}\": 1 to {} of A-Z a-z 0-9 . _ -, not starting with - or .",
        name.substr(0, 64), kMaxNameLength);
  }
  return std::nullopt;
}

std::optional<std::string> refuse_user_root(std::string_view root) {
  if (root.empty() || root.front() == '/') {
    return "the root must be a folder inside --root, given relative to it (. for all of it)";
  }
  if (std::any_of(root.begin(), root.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    return "the root holds a control character";
  }
  std::string_view rest = root;
  while (!rest.empty()) {
    const std::size_t slash = rest.find('/');
    if (rest.substr(0, slash) == "..") return "the root must not contain ..";
    rest.remove_prefix(slash == std::string_view::npos ? rest.size() : slash + 1);
  }
  return std::nullopt;
}

UsersParse parse_users(std::string_view text) {
  UsersParse result;
  std::unordered_set<std::string> names;
  for_each_line(text, [&](std::string_view line, std::size_t number) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (is_blank_or_comment(line)) return true;
    User user;
    std::string error = parse_line(line, user);
    if (error.empty() && !names.insert(user.name).second) {
      error = fmt::format("user \"{}\" appears twice", user.name);
    }
    if (!error.empty()) {
      result.users.clear();
      result.bad_line = number;
      result.error = std::move(error);
      return false;
    }
    user.line = number;
    result.users.push_back(std::move(user));
    return true;
  });
  return result;
}

std::string format_user(const User& user) {
  return fmt::format("{}:{}:{}:{}", user.name, user.password_hash, user.read_only ? "ro" : "rw",
                     user.root);
}

std::string with_user(std::string_view text, const User& user) {
  std::string out;
  bool replaced = false;
  for_each_line(text, [&](std::string_view line, std::size_t /*number*/) {
    if (name_of(line) == std::string_view(user.name)) {
      if (!replaced) out += format_user(user) + '\n';
      replaced = true;
    } else {
      out.append(line);
      out += '\n';
    }
    return true;
  });
  if (!replaced) out += format_user(user) + '\n';
  return out;
}

}  // namespace ferryd
