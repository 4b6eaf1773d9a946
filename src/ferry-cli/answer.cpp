#include "answer.hpp"

#include <string>

#include "errors.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"

namespace ferry::cli {

protocol::Message parse_answer(std::string_view head) {
  auto parsed = protocol::parse_head(head);
  if (!parsed.ok()) {
    throw net::NetError(net::ErrorKind::protocol, "bad answer from the server: " + parsed.error);
  }
  if (auto text = client::error_text(parsed.message)) throw ServerError(*text);
  return std::move(parsed.message);
}

void throw_unexpected(const protocol::Message& answer, std::string_view expected) {
  throw net::NetError(net::ErrorKind::protocol,
                      "unexpected answer from the server: " + client::printable(answer.verb) +
                          " (expected " + std::string(expected) + ")");
}

}  // namespace ferry::cli
