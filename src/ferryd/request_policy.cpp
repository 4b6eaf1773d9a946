#include "request_policy.hpp"

#include <spdlog/spdlog.h>

#include "ferry/fs/root_state.hpp"
#include "ferry/protocol/escape.hpp"

namespace ferryd {

using ferry::protocol::Error;
using ferry::protocol::ErrorKind;

std::optional<Error> refusal_before(const SessionContext& context, bool changes_files) {
  if (context.root != nullptr && ferry::fs::root_was_removed(*context.root)) {
    if (context.root_removal_logged != nullptr && !context.root_removal_logged->exchange(true)) {
      spdlog::error(
          "the served directory {} was removed while ferryd runs: every request is refused; "
          "restart ferryd to serve it again",
          ferry::protocol::escape_visible(context.root_path));
    }
    return Error{ErrorKind::root_removed, "the served directory was removed"};
  }
  if (changes_files && context.read_only) return Error{ErrorKind::read_only, "server is read-only"};
  if (changes_files && context.user_read_only) return Error{ErrorKind::read_only, "read-only"};
  return std::nullopt;
}

}  // namespace ferryd
