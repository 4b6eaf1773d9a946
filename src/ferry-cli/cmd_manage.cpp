// The management family, version 2 of the protocol: cd and pwd (kept by the client), mkdir,
// rmdir, rm, mv and stat, each a batch of pipelined requests on the control connection.

#include <cstdio>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "commands.hpp"
#include "errors.hpp"
#include "ferry/client/remote_path.hpp"
#include "ferry/client/remote_stat.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "remote_ops.hpp"

namespace ferry::cli {
namespace {

using Replies = std::vector<ControlConnection::Reply>;

std::vector<std::string> path_requests(std::string_view verb,
                                       const std::vector<std::string>& paths) {
  std::vector<std::string> requests;
  requests.reserve(paths.size());
  for (const std::string& path : paths)
    requests.push_back(client::path_request(verb, path));
  return requests;
}

void print_error(std::string_view text) {
  fmt::print(stderr, "error: {}\n", client::printable(text));
}

// Prints each ERROR; ok when there is none.
Outcome report(const Replies& replies) {
  Outcome outcome = Outcome::ok;
  for (const auto& reply : replies) {
    if (!reply.error) continue;
    print_error(*reply.error);
    outcome = Outcome::failed;
  }
  return outcome;
}

// Each directory of `path` from the top: `a`, `a/b`, `a/b/c`.
std::vector<std::string> with_parents(const std::string& path) {
  std::vector<std::string> prefixes;
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    prefixes.push_back(path.substr(0, slash));
  }
  prefixes.push_back(path);
  return prefixes;
}

}  // namespace

Outcome run_cd(ClientContext& context, const Call& call) {
  const std::string argument = call.operands().empty() ? "/" : call.operands()[0];
  const std::string target = remote_path(context, argument);
  const RemoteCheck check = check_remote(context, target);
  if (check.kind == RemoteKind::missing) throw ServerError(check.error);
  if (check.kind != RemoteKind::directory) throw ServerError("not a directory: " + argument);
  context.remote_directory = target;
  return Outcome::ok;
}

Outcome run_pwd(ClientContext& context, const Call&) {
  fmt::print("{}\n", client::printable(client::absolute_remote(context.remote_directory)));
  return Outcome::ok;
}

Outcome run_mkdir(ClientContext& context, const Call& call) {
  require_v2(context, call.name);
  const bool parents = call.args.has('p');
  std::vector<std::string> paths;
  std::set<std::string> asked;
  std::set<std::string> targets;
  for (const std::string& operand : call.operands()) {
    const std::string target = remote_path(context, operand);
    targets.insert(target);
    for (std::string& path : parents ? with_parents(target) : std::vector<std::string>{target}) {
      if (asked.insert(path).second) paths.push_back(std::move(path));
    }
  }
  const Replies replies = exchange_v2(context, call.name, path_requests("MKDIR", paths));
  Outcome outcome = Outcome::ok;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& error = replies[i].error;
    if (!error) continue;
    // With -p an existing directory is fine; a parent that is a file fails its child's.
    if (parents && error->starts_with("exists:") &&
        (targets.count(paths[i]) == 0 ||
         check_remote(context, paths[i], false).kind == RemoteKind::directory)) {
      continue;
    }
    print_error(*error);
    outcome = Outcome::failed;
  }
  return outcome;
}

Outcome run_rmdir(ClientContext& context, const Call& call) {
  require_v2(context, call.name);
  std::vector<std::string> paths;
  for (const std::string& operand : call.operands())
    paths.push_back(remote_path(context, operand));
  return report(exchange_v2(context, call.name, path_requests("RMDIR", paths)));
}

Outcome run_rm(ClientContext& context, const Call& call) {
  require_v2(context, call.name);
  std::vector<std::string> paths;
  for (const std::string& operand : call.operands()) {
    for (std::string& path : expand_remote(context, operand))
      paths.push_back(std::move(path));
  }
  return report(exchange_v2(context, call.name, path_requests("DELETE", paths)));
}

Outcome run_mv(ClientContext& context, const Call& call) {
  require_v2(context, call.name);
  const std::string from = remote_path(context, call.operands()[0]);
  const std::string& to_argument = call.operands()[1];
  std::string to = remote_path(context, to_argument);
  if (to_argument.ends_with('/') || to.empty() ||
      check_remote(context, to, false).kind == RemoteKind::directory) {
    const std::string base = client::base_name(from);
    if (base.empty()) throw ServerError("not allowed on the served directory");
    to = client::join_remote(to, base);
  }
  const bool overwrite = call.args.has('f');
  const Replies replies =
      exchange_v2(context, call.name, {client::rename_request(from, to, overwrite)});
  const auto& error = replies.front().error;
  if (!error) return Outcome::ok;
  if (!overwrite && error->starts_with("exists:")) {
    print_error(*error + " (mv -f replaces it)");
    return Outcome::failed;
  }
  print_error(*error);
  return Outcome::failed;
}

Outcome run_stat(ClientContext& context, const Call& call) {
  require_v2(context, call.name);
  std::vector<std::string> paths;
  for (const std::string& operand : call.operands())
    paths.push_back(remote_path(context, operand));
  const Replies replies = exchange_v2(context, call.name, path_requests("STAT", paths));
  Outcome outcome = Outcome::ok;
  bool first = true;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].error) {
      print_error(*replies[i].error);
      outcome = Outcome::failed;
      continue;
    }
    const auto parsed = client::parse_stat(replies[i].message);
    if (!parsed.ok()) throw net::NetError(net::ErrorKind::protocol, parsed.error);
    if (!first) fmt::print("\n");
    first = false;
    const std::string shown = client::printable(client::absolute_remote(paths[i]));
    fmt::print("{}", client::format_stat(shown, parsed.stat));
  }
  return outcome;
}

}  // namespace ferry::cli
