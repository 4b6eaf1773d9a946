#include "ferry/protocol/requests.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/request_path.hpp"

namespace ferry::protocol {
namespace {

template <class Request>
using Parser = Parsed<Request> (*)(const Message&);

template <class Request>
struct Verb {
  std::string_view name;
  Parser<Request> parse;
};

// The verb is filled in by parse_with, from the table.
RequestFailure failure(ErrorKind kind, std::string text, std::string path = {}) {
  return RequestFailure{{}, std::move(path), Error{kind, std::move(text)}};
}

// A path given as `raw`, decoded as the request's ESCAPED header says. On failure the log
// shows the path as received.
std::variant<std::string, RequestFailure> decode_path(const Message& message,
                                                      std::string_view raw) {
  RequestPath decoded = decode_request_path(raw, message.header(kEscapedHeader));
  if (!decoded.ok()) {
    return failure(ErrorKind::malformed, std::move(decoded.error), escape(raw));
  }
  return std::move(decoded.path);
}

std::string_view argument_of(const Message& message) {
  return message.argument ? std::string_view(*message.argument) : std::string_view();
}

// GET and PUT name their file in FILENAME, which must not be empty.
std::variant<std::string, RequestFailure> filename_path(const Message& message) {
  const std::string* filename = message.header("FILENAME");
  if (filename == nullptr || filename->empty()) {
    return failure(ErrorKind::malformed, message.verb + " needs a FILENAME header");
  }
  return decode_path(message, *filename);
}

// The request built from a decoded path, or the failure to decode it.
template <class Request, class Result>
Result with_path(std::variant<std::string, RequestFailure> decoded) {
  if (auto* failed = std::get_if<RequestFailure>(&decoded)) return std::move(*failed);
  Request request;
  request.path = std::move(std::get<std::string>(decoded));
  return request;
}

// ---------------------------------------------------------------- transfer connection

using TransferParsed = Parsed<TransferRequest>;

TransferParsed parse_get(const Message& message) {
  return with_path<Get, TransferParsed>(filename_path(message));
}

TransferParsed parse_put(const Message& message) {
  auto decoded = filename_path(message);
  if (auto* failed = std::get_if<RequestFailure>(&decoded)) return std::move(*failed);
  std::string path = std::move(std::get<std::string>(decoded));
  const std::string* size_text = message.header("FILESIZE");
  if (size_text == nullptr) {
    return failure(ErrorKind::malformed, "PUT needs a FILESIZE header", path);
  }
  const auto size = parse_file_size(*size_text);
  if (!size) {
    return failure(ErrorKind::malformed, "malformed FILESIZE: " + *size_text, path);
  }
  return Put{std::move(path), *size};
}

TransferParsed parse_ls(const Message& message) {
  return with_path<Ls, TransferParsed>(decode_path(message, argument_of(message)));
}

constexpr std::array kTransferVerbs{
    Verb<TransferRequest>{Get::kVerb, parse_get},
    Verb<TransferRequest>{Put::kVerb, parse_put},
    Verb<TransferRequest>{Ls::kVerb, parse_ls},
};

// ---------------------------------------------------------------- control connection

using ControlParsed = Parsed<ControlRequest>;

// OPEN's argument: absent or empty or 0 asks the server to choose; 1..65535 names the port.
std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty()) return 0;
  if (text.size() > 5 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  if (value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

ControlParsed parse_open(const Message& message) {
  const auto port = parse_port(argument_of(message));
  if (!port) {
    return failure(ErrorKind::malformed, "bad port: " + std::string(argument_of(message)) +
                                             " (expected a number from 0 to 65535)");
  }
  bool with_token = false;
  if (const std::string* value = message.header(kTokenHeader); value != nullptr) {
    if (*value != "yes") {
      return failure(ErrorKind::malformed, "bad TOKEN header: " + *value + " (expected yes)");
    }
    with_token = true;
  }
  return Open{*port, with_token};
}

ControlParsed parse_quit(const Message& /*message*/) {
  return Quit{};
}

ControlParsed parse_features(const Message& /*message*/) {
  return Features{};
}

ControlParsed parse_login(const Message& message) {
  const std::string* user = message.header(kUserHeader);
  const std::string* password = message.header(kPasswordHeader);
  Login login;
  login.well_formed =
      user != nullptr && !user->empty() && password != nullptr && argument_of(message).empty();
  if (user != nullptr) login.user = *user;
  if (password != nullptr) login.password = *password;
  return login;
}

template <class Request>
ControlParsed parse_argument_path(const Message& message) {
  return with_path<Request, ControlParsed>(decode_path(message, argument_of(message)));
}

ControlParsed parse_rename(const Message& message) {
  const std::string* from = message.header("FROM");
  const std::string* to = message.header("TO");
  if (from == nullptr || to == nullptr) {
    return failure(ErrorKind::malformed, "RENAME needs FROM and TO headers");
  }
  bool overwrite = false;
  if (const std::string* value = message.header("OVERWRITE"); value != nullptr) {
    if (*value != "yes" && *value != "no") {
      return failure(ErrorKind::malformed,
                     "bad OVERWRITE value: " + *value + " (expected yes or no)", escape(*from));
    }
    overwrite = *value == "yes";
  }
  auto decoded_from = decode_path(message, *from);
  if (auto* failed = std::get_if<RequestFailure>(&decoded_from)) return std::move(*failed);
  auto decoded_to = decode_path(message, *to);
  if (auto* failed = std::get_if<RequestFailure>(&decoded_to)) return std::move(*failed);
  return Rename{std::move(std::get<std::string>(decoded_from)),
                std::move(std::get<std::string>(decoded_to)), overwrite};
}

constexpr std::array kControlVerbs{
    Verb<ControlRequest>{Open::kVerb, parse_open},
    Verb<ControlRequest>{Quit::kVerb, parse_quit},
    Verb<ControlRequest>{Features::kVerb, parse_features},
    Verb<ControlRequest>{Login::kVerb, parse_login},
    Verb<ControlRequest>{Stat::kVerb, parse_argument_path<Stat>},
    Verb<ControlRequest>{Mkdir::kVerb, parse_argument_path<Mkdir>},
    Verb<ControlRequest>{Rmdir::kVerb, parse_argument_path<Rmdir>},
    Verb<ControlRequest>{Delete::kVerb, parse_argument_path<Delete>},
    Verb<ControlRequest>{Rename::kVerb, parse_rename},
};

template <class Request, std::size_t N>
Parsed<Request> parse_with(const std::array<Verb<Request>, N>& verbs, const Message& message) {
  const auto* verb = std::find_if(verbs.begin(), verbs.end(),
                                  [&](const Verb<Request>& v) { return message.is(v.name); });
  if (verb == verbs.end()) {
    return failure(ErrorKind::unknown_command, "unknown command: " + message.verb);
  }
  Parsed<Request> parsed = verb->parse(message);
  if (const RequestFailure* failed = parsed.failure()) {
    RequestFailure named = *failed;
    named.verb = verb->name;
    return named;
  }
  return parsed;
}

}  // namespace

Parsed<TransferRequest> parse_transfer_request(const Message& message) {
  return parse_with(kTransferVerbs, message);
}

Parsed<ControlRequest> parse_control_request(const Message& message) {
  return parse_with(kControlVerbs, message);
}

}  // namespace ferry::protocol
