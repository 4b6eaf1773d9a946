#pragma once

// The login on the control connection (issue 9), with no I/O:
//
//     C: LOGIN\nUSER: alice\nPASSWORD: secret\n\n
//     S: OK\n\n   or   S: ERROR login failed\n\n
//
// A server with users announces `LOGIN: required` in its FEATURES answer and answers every
// other request but FEATURES, QUIT and LOGIN with `ERROR login required` until a login
// succeeded.

#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/message.hpp"

namespace ferry::client {

// What a FEATURES answer says about logins: no LOGIN header (a server without users, or
// one of version 1), `LOGIN: required`, or any other value (logins taken, not required).
enum class LoginOffer { none, offered, required };
LoginOffer login_offer(const protocol::Message& features_answer);

// Why `text` cannot go as the value of a LOGIN header (`what` names it in the reason:
// "user name", "password"), or nullopt. A head must be valid UTF-8 without control
// characters but tab, and the server drops a value's leading spaces.
std::optional<std::string> refuse_login_value(std::string_view what, std::string_view text);

// `LOGIN` with USER and PASSWORD; both must pass refuse_login_value().
std::string login_request(std::string_view user, std::string_view password);

// Whether `answer` is the server's `ERROR login required` (to a request sent before the
// login).
bool is_login_required(const protocol::Message& answer);

}  // namespace ferry::client
