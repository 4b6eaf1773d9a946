#pragma once

// Requests as typed values, parsed once from a message head by a pure function: the path
// decoded (`ESCAPED: yes`), FILESIZE and the port checked, required headers present. A
// handler gets a value it can use as is. One table of verbs per kind of connection
// (docs/PROTOCOL.md, sections 2 and 3).

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "ferry/protocol/errors.hpp"
#include "ferry/protocol/message.hpp"

namespace ferry::protocol {

// Each request says its verb and whether it changes the served tree (refused by a
// --read-only server).

// Transfer connection (section 3).
struct Get {
  static constexpr std::string_view kVerb = "GET";
  static constexpr bool kChangesFiles = false;
  std::string path;
};
struct Put {
  static constexpr std::string_view kVerb = "PUT";
  static constexpr bool kChangesFiles = true;
  std::string path;
  std::uint64_t size = 0;
};
struct Ls {
  static constexpr std::string_view kVerb = "LS";
  static constexpr bool kChangesFiles = false;
  std::string path;  // empty: the root
};

// Control connection (section 2).
struct Open {
  static constexpr std::string_view kVerb = "OPEN";
  static constexpr bool kChangesFiles = false;
  std::uint16_t port = 0;   // 0: the server picks
  bool with_token = false;  // `TOKEN: yes`: bind the transfer to this session (section 2)
};
struct Quit {
  static constexpr std::string_view kVerb = "QUIT";
  static constexpr bool kChangesFiles = false;
};
struct Features {
  static constexpr std::string_view kVerb = "FEATURES";
  static constexpr bool kChangesFiles = false;
};
// LOGIN on a server with users. Never a RequestFailure: whatever is wrong with it, the
// answer is the same `ERROR login failed`, after the same password check (PROTOCOL.md,
// "LOGIN"); `well_formed` says whether USER and PASSWORD were there to check.
struct Login {
  static constexpr std::string_view kVerb = "LOGIN";
  static constexpr bool kChangesFiles = false;
  std::string user;
  std::string password;
  bool well_formed = false;  // USER (not empty) and PASSWORD given, no argument
};
struct Stat {
  static constexpr std::string_view kVerb = "STAT";
  static constexpr bool kChangesFiles = false;
  std::string path;  // empty: the root
};
struct Mkdir {
  static constexpr std::string_view kVerb = "MKDIR";
  static constexpr bool kChangesFiles = true;
  std::string path;
};
struct Rmdir {
  static constexpr std::string_view kVerb = "RMDIR";
  static constexpr bool kChangesFiles = true;
  std::string path;
};
struct Delete {
  static constexpr std::string_view kVerb = "DELETE";
  static constexpr bool kChangesFiles = true;
  std::string path;
};
struct Rename {
  static constexpr std::string_view kVerb = "RENAME";
  static constexpr bool kChangesFiles = true;
  std::string from;
  std::string to;
  bool overwrite = false;  // `OVERWRITE: yes`
};

using TransferRequest = std::variant<Get, Put, Ls>;
using ControlRequest =
    std::variant<Open, Quit, Features, Login, Stat, Mkdir, Rmdir, Delete, Rename>;

// A head that is not a usable request: the answer's error, and what the log line shows.
struct RequestFailure {
  std::string_view verb;  // as the table spells it ("PUT"); empty for an unknown verb
  std::string path;       // the path as received (escaped form), or empty
  Error error;
};

// A request, or why there is none. Checked access only.
template <class Request>
class Parsed {
 public:
  // From a request or any one of its alternatives (`return Get{path};`). Parsed and
  // RequestFailure themselves are kept out, so no copy or move is hidden.
  template <class Alternative>
  static constexpr bool kIsAlternative =
      std::is_constructible_v<Request, Alternative&&> &&
      !std::is_same_v<std::decay_t<Alternative>, RequestFailure> &&
      !std::is_same_v<std::decay_t<Alternative>, Parsed>;
  template <class Alternative, class = std::enable_if_t<kIsAlternative<Alternative>>>
  // NOLINTNEXTLINE(google-explicit-constructor,bugprone-forwarding-reference-overload)
  Parsed(Alternative&& request)
      : value_(std::in_place_index<0>, std::forward<Alternative>(request)) {}
  Parsed(RequestFailure failure)  // NOLINT(google-explicit-constructor)
      : value_(std::in_place_index<1>, std::move(failure)) {}

  bool ok() const { return value_.index() == 0; }
  const Request* request() const { return std::get_if<0>(&value_); }
  const RequestFailure* failure() const { return std::get_if<1>(&value_); }

 private:
  std::variant<Request, RequestFailure> value_;
};

Parsed<TransferRequest> parse_transfer_request(const Message& message);
// The header a transfer request presents its token in, and OPEN asks for one with.
inline constexpr std::string_view kTokenHeader = "TOKEN";
// The headers of LOGIN.
inline constexpr std::string_view kUserHeader = "USER";
inline constexpr std::string_view kPasswordHeader = "PASSWORD";
Parsed<ControlRequest> parse_control_request(const Message& message);

template <class Variant>
std::string_view verb_of(const Variant& request) {
  return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kVerb; }, request);
}
template <class Variant>
bool changes_files(const Variant& request) {
  return std::visit([](const auto& r) { return std::decay_t<decltype(r)>::kChangesFiles; },
                    request);
}

}  // namespace ferry::protocol
