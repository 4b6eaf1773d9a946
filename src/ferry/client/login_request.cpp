#include "ferry/client/login_request.hpp"

#include <algorithm>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/requests.hpp"

namespace ferry::client {

LoginOffer login_offer(const protocol::Message& features_answer) {
  const std::string* value = features_answer.header("LOGIN");
  if (!features_answer.is("OK") || value == nullptr) return LoginOffer::none;
  return protocol::iequals(*value, "required") ? LoginOffer::required : LoginOffer::offered;
}

std::optional<std::string> refuse_login_value(std::string_view what, std::string_view text) {
  const bool control = std::any_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
  if (control) return std::string(what) + " holds a control character";
  if (!protocol::is_valid_utf8(text)) return std::string(what) + " is not valid UTF-8";
  if (text.starts_with(' ')) {
    return std::string(what) + " starts with a space, which the protocol cannot carry";
  }
  return std::nullopt;
}

std::string login_request(std::string_view user, std::string_view password) {
  return protocol::format_message(
      protocol::Login::kVerb, {{std::string(protocol::kUserHeader), std::string(user)},
                               {std::string(protocol::kPasswordHeader), std::string(password)}});
}

bool is_login_required(const protocol::Message& answer) {
  if (!answer.is("ERROR") || !answer.argument) return false;
  const std::string_view text = *answer.argument;
  return text == "login required" || text.starts_with("login required ") ||
         text.starts_with("login required:");
}

}  // namespace ferry::client
