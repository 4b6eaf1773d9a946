#include "ferry/client/remote_path.hpp"

#include <vector>

namespace ferry::client {
namespace {

void append_components(std::string_view path, std::vector<std::string_view>& components) {
  while (!path.empty()) {
    const std::size_t slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    if (part == "..") {
      if (!components.empty()) components.pop_back();
    } else if (!part.empty() && part != ".") {
      components.push_back(part);
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
}

}  // namespace

std::string join_remote(std::string_view directory, std::string_view argument) {
  std::vector<std::string_view> components;
  if (!argument.starts_with('/')) append_components(directory, components);
  append_components(argument, components);
  std::string joined;
  for (const std::string_view part : components) {
    if (!joined.empty()) joined += '/';
    joined += part;
  }
  return joined;
}

std::string absolute_remote(std::string_view path) {
  std::string absolute(1, '/');
  absolute.append(path);
  return absolute;
}

}  // namespace ferry::client
