// The transfer family: ls, get, put, with remote paths relative to the working directory.

#include <sys/stat.h>

#include <string>

#include "commands.hpp"
#include "entry_display.hpp"
#include "errors.hpp"
#include "ferry/client/remote_path.hpp"
#include "ferry/client/requests.hpp"
#include "local_paths.hpp"
#include "remote_ops.hpp"
#include "transfers.hpp"

namespace ferry::cli {
namespace {

bool is_regular_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Where `put <local> [remote]` writes: into a remote directory when `remote` names one (a
// STAT says so) or ends in `/` (all a version-1 server lets us tell), else under `remote`.
std::string put_target(ClientContext& context, const std::string& local, const Call& call) {
  const std::string base = client::base_name(local);
  if (call.operands().size() < 2) {
    if (base.empty()) throw LocalError("cannot tell a remote name from '" + local + "'");
    return remote_path(context, base);
  }
  const std::string& argument = call.operands()[1];
  std::string target = remote_path(context, argument);
  bool into = argument.ends_with('/') || target.empty();
  // A local file that cannot be sent fails before the server is asked anything.
  if (!into && is_regular_file(local)) {
    into = check_remote(context, target, false).kind == RemoteKind::directory;
  }
  if (!into) return target;
  if (base.empty()) throw LocalError("cannot tell a remote name from '" + local + "'");
  return client::join_remote(target, base);
}

}  // namespace

Outcome run_ls(ClientContext& context, const Call& call) {
  const std::string argument = call.operands().empty() ? "" : call.operands()[0];
  print_entries(list_argument(context, argument), call.args.has('l'), call.args.has('h'));
  return Outcome::ok;
}

Outcome run_get(ClientContext& context, const Call& call) {
  std::optional<std::string> local;
  if (call.operands().size() > 1) local = expand_local(call.operands()[1]);
  get_file(context, remote_path(context, call.operands()[0]), local);
  return Outcome::ok;
}

Outcome run_put(ClientContext& context, const Call& call) {
  const std::string local = expand_local(call.operands()[0]);
  put_file(context, local, put_target(context, local, call));
  return Outcome::ok;
}

}  // namespace ferry::cli
