#pragma once

// The control connection's requests that act on names (STAT, MKDIR, RMDIR, DELETE, RENAME)
// and FEATURES: each a row of a table, from a typed request to its answer and its log line.
// No asio: a manage request blocks on the file system, and the control session runs it on
// the file threads (control_session.cpp).

#include <string>
#include <variant>

#include "ferry/protocol/requests.hpp"
#include "session_context.hpp"

namespace ferryd {

using ManageRequest =
    std::variant<ferry::protocol::Stat, ferry::protocol::Mkdir, ferry::protocol::Rmdir,
                 ferry::protocol::Delete, ferry::protocol::Rename>;

struct ManageAnswer {
  std::string answer;  // the whole answer head: `OK...\n\n` or `ERROR ...\n\n`
  std::string error;   // empty on success, else the error's text, for the log
};

// The request as its log line names it: `MKDIR "a/b"` (names escape_visible'd).
std::string describe(const ManageRequest& request);

// Runs the request against context.root. Blocks on the file system; any thread. The
// session's checks (refusal_before) have passed.
ManageAnswer answer_manage_request(const SessionContext& context, const ManageRequest& request);

// The answer to FEATURES: `OK` and one header per capability; `LOGIN: required` only on a
// server with users, so that an anonymous server's answer stays as it was.
std::string features_answer(bool login_required = false);

}  // namespace ferryd
