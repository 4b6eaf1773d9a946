#include "netrc_file.hpp"

#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>

#include "ferry/client/terminal_text.hpp"
#include "local_paths.hpp"
#include "private_file.hpp"

namespace ferry::cli {
namespace {

constexpr std::size_t kMaxNetrc = std::size_t{1} << 20;

}  // namespace

const std::string& NetrcFile::path() {
  if (path_.empty()) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the client reads its environment on one thread
    const char* variable = std::getenv("NETRC");
    path_ = variable != nullptr && *variable != '\0' ? std::string(variable)
                                                     : home_directory() + "/.netrc";
  }
  return path_;
}

void NetrcFile::load() {
  if (loaded_) return;
  loaded_ = true;
  PrivateFile file = read_private_file(path(), kMaxNetrc, false);
  if (!file.text) {
    if (!file.missing) fmt::print(stderr, "ferry: {}\n", client::printable(file.error));
    return;
  }
  // Checked once for the whole file, so that a broken file is named whatever is looked up.
  const auto check = client::find_netrc_entry(*file.text, "", "");
  if (!check.ok()) {
    fmt::print(stderr, "ferry: {}: {}; not using it\n", client::printable(path()), check.error);
    return;
  }
  text_ = std::move(file.text);
}

std::optional<client::NetrcEntry> NetrcFile::find(std::string_view host, std::string_view user) {
  load();
  if (!text_) return std::nullopt;
  return client::find_netrc_entry(*text_, host, user).entry;
}

}  // namespace ferry::cli
