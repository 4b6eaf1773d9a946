#include "remote_ops.hpp"

#include "errors.hpp"
#include "ferry/client/glob.hpp"
#include "ferry/client/remote_path.hpp"
#include "ferry/client/remote_stat.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "transfers.hpp"

namespace ferry::cli {
namespace {

RemoteCheck check_by_listing(ClientContext& context, const std::string& path) {
  if (path.empty()) return {RemoteKind::directory, {}};
  std::vector<protocol::Entry> entries;
  try {
    entries = list_remote(context, path);
  } catch (const ServerError& e) {
    return {RemoteKind::missing, e.what()};
  }
  // (A directory holding only a non-directory of its own name looks the same: the one
  // ambiguity of this fallback.)
  if (entries.size() == 1 && entries[0].name == client::base_name(path) && entries[0].type != 'd') {
    return {RemoteKind::other, {}};
  }
  return {RemoteKind::directory, {}};
}

std::string join_listed(const std::string& directory, const std::string& name) {
  return directory.empty() ? name : directory + "/" + name;
}

}  // namespace

std::string remote_path(const ClientContext& context, std::string_view argument) {
  return client::join_remote(context.remote_directory, argument);
}

void require_v2(const ClientContext& context, std::string_view command) {
  if (context.control.version() == 1) throw UnsupportedError(std::string(command));
}

std::vector<ControlConnection::Reply> exchange_v2(ClientContext& context, std::string_view command,
                                                  const std::vector<std::string>& requests) {
  auto replies = context.control.exchange(requests);
  if (!replies) throw UnsupportedError(std::string(command));
  return std::move(*replies);
}

RemoteCheck check_remote(ClientContext& context, const std::string& path, bool listing_fallback) {
  if (path.empty()) return {RemoteKind::directory, {}};
  auto replies = context.control.exchange({client::path_request("STAT", path)});
  if (!replies) {
    return listing_fallback ? check_by_listing(context, path)
                            : RemoteCheck{RemoteKind::unknown, {}};
  }
  const ControlConnection::Reply& reply = replies->front();
  if (reply.error) return {RemoteKind::missing, *reply.error};
  const auto stat = client::parse_stat(reply.message);
  if (!stat.ok()) throw net::NetError(net::ErrorKind::protocol, stat.error);
  if (stat.stat.type == 'd') return {RemoteKind::directory, {}};
  if (stat.stat.type == 'l') return check_by_listing(context, path);
  return {RemoteKind::other, {}};
}

std::vector<protocol::Entry> list_argument(ClientContext& context, std::string_view argument) {
  if (!client::has_glob(argument)) return list_remote(context, remote_path(context, argument));
  const client::GlobParts parts = client::split_glob(argument);
  auto matched = client::match_glob(list_remote(context, remote_path(context, parts.directory)),
                                    parts.pattern);
  if (matched.empty()) throw ServerError("no match: " + std::string(argument));
  return matched;
}

std::vector<std::string> expand_remote(ClientContext& context, std::string_view argument) {
  if (!client::has_glob(argument)) return {remote_path(context, argument)};
  const client::GlobParts parts = client::split_glob(argument);
  const std::string directory = remote_path(context, parts.directory);
  std::vector<std::string> paths;
  for (const auto& entry : client::match_glob(list_remote(context, directory), parts.pattern)) {
    paths.push_back(join_listed(directory, entry.name));
  }
  if (paths.empty()) throw ServerError("no match: " + std::string(argument));
  return paths;
}

}  // namespace ferry::cli
