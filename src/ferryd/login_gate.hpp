#pragma once

// What a session of a server with users (`--users`) may ask before it logged in: FEATURES
// (to learn that it must), QUIT and LOGIN. Everything else, unknown verbs and malformed
// requests included, is answered `ERROR login required` (docs/PROTOCOL.md, "LOGIN"). Pure:
// no asio, no state.

#include "ferry/protocol/errors.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/protocol/requests.hpp"

namespace ferryd {

inline bool allowed_before_login(const ferry::protocol::Message& message) {
  namespace protocol = ferry::protocol;
  return message.is(protocol::Features::kVerb) || message.is(protocol::Quit::kVerb) ||
         message.is(protocol::Login::kVerb);
}

inline ferry::protocol::Error login_required() {
  return {ferry::protocol::ErrorKind::login, "login required"};
}

}  // namespace ferryd
