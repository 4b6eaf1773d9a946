// Message heads (control and transfer connections): framing, parsing, formatting.
//
// Input: the bytes a peer sends. Properties checked:
// - find_head_end agrees with a plain reference implementation, for the protocol limit and
//   for limits around the input's own size (the boundary cases).
// - A head that parses holds only what the grammar allows (verb of letters, header names of
//   [A-Za-z0-9_-], no repeated header, at most 64 headers, valid UTF-8 without controls
//   other than tab, a FILESIZE that parse_file_size accepts).
// - format_message of a parsed message frames as exactly one head and parses back to the
//   same message (when it fits the head limit).
// - format_error of any text is one well-formed head whose argument unescapes to the text.
// - parse_file_size agrees with a reference: 1 to 19 digits, at most 2^63-1.
// - The typed request parsers (requests.hpp) take every parsed head: a request or a failure
//   whose error renders as one well-formed ERROR head. A path given without `ESCAPED: yes`
//   is the header or argument byte for byte; a PUT's size is its FILESIZE; a verb the
//   table does not know is `unknown command`; a LOGIN is never a failure, its USER and
//   PASSWORD are the headers byte for byte, and it is well formed exactly when both are there.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "ferry/protocol/escape.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/protocol/requests.hpp"
#include "fuzz_check.hpp"

namespace {

using ferry::fuzz::as_text;
using ferry::fuzz::has_no_control_bytes;
using ferry::fuzz::well_formed_utf8;
namespace protocol = ferry::protocol;

protocol::HeadEnd reference_head_end(std::string_view buffer, std::size_t limit) {
  std::size_t line_start = 0;
  for (;;) {
    const std::size_t lf = buffer.find('\n', line_start);
    if (lf == std::string_view::npos) break;
    const std::string_view line = buffer.substr(line_start, lf - line_start);
    if (line.empty() || line == "\r") {
      const std::size_t length = lf + 1;
      if (length <= limit) return {protocol::HeadEnd::State::complete, length};
      return {protocol::HeadEnd::State::too_long, 0};
    }
    line_start = lf + 1;
  }
  if (buffer.size() >= limit) return {protocol::HeadEnd::State::too_long, 0};
  return {protocol::HeadEnd::State::incomplete, 0};
}

void check_head_end(std::string_view buffer, std::size_t limit) {
  const auto got = protocol::find_head_end(buffer, limit);
  const auto want = reference_head_end(buffer, limit);
  FUZZ_CHECK(got.state == want.state);
  if (got.state == protocol::HeadEnd::State::complete) FUZZ_CHECK(got.length == want.length);
}

bool is_letter(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool is_name_char(char c) {
  return is_letter(c) || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Text allowed inside a line: valid UTF-8, no control byte except tab.
bool is_line_text(std::string_view text) {
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return well_formed_utf8(text);
}

std::optional<std::uint64_t> reference_file_size(std::string_view text) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  unsigned __int128 value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value > protocol::kMaxFileSize) return std::nullopt;
  return static_cast<std::uint64_t>(value);
}

bool same_message(const protocol::Message& a, const protocol::Message& b) {
  if (a.verb != b.verb || a.argument != b.argument || a.headers.size() != b.headers.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) {
      return false;
    }
  }
  return true;
}

void check_parsed(std::string_view head) {
  const protocol::ParseResult parsed = protocol::parse_head(head);
  if (!parsed.ok()) return;
  const protocol::Message& message = parsed.message;

  FUZZ_CHECK(head.size() <= protocol::kMaxHeadBytes);
  FUZZ_CHECK(!message.verb.empty());
  for (const char c : message.verb)
    FUZZ_CHECK(is_letter(c));
  if (message.argument) FUZZ_CHECK(is_line_text(*message.argument));
  FUZZ_CHECK(message.headers.size() <= protocol::kMaxHeaderLines);
  for (std::size_t i = 0; i < message.headers.size(); ++i) {
    const protocol::Header& h = message.headers[i];
    FUZZ_CHECK(!h.name.empty());
    for (const char c : h.name)
      FUZZ_CHECK(is_name_char(c));
    FUZZ_CHECK(is_line_text(h.value));
    FUZZ_CHECK(h.value.empty() || h.value.front() != ' ');
    for (std::size_t k = 0; k < i; ++k)
      FUZZ_CHECK(!protocol::iequals(h.name, message.headers[k].name));
  }
  if (const std::string* size = message.header("filesize")) {
    FUZZ_CHECK(protocol::parse_file_size(*size).has_value());
  }

  // Formatting the message again gives one head that parses to the same message.
  std::string start_line = message.verb;
  if (message.argument) start_line += " " + *message.argument;
  const std::string formatted = protocol::format_message(start_line, message.headers);
  if (formatted.size() > protocol::kMaxHeadBytes) return;  // "A:x" grew into "A: x"
  const auto end = protocol::find_head_end(formatted, protocol::kMaxHeadBytes);
  FUZZ_CHECK(end.state == protocol::HeadEnd::State::complete && end.length == formatted.size());
  const protocol::ParseResult again = protocol::parse_head(formatted);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(same_message(message, again.message));
}

void check_error_message(std::string_view text);

// A failure's answer is one head; a request holds what the message said.
template <class Request>
void check_request(const protocol::Message& message, const protocol::Parsed<Request>& parsed) {
  FUZZ_CHECK(parsed.ok() == (parsed.request() != nullptr));
  FUZZ_CHECK(parsed.ok() != (parsed.failure() != nullptr));
  if (const protocol::RequestFailure* failure = parsed.failure()) {
    FUZZ_CHECK(!failure->error.text.empty());
    FUZZ_CHECK((failure->error.kind == protocol::ErrorKind::unknown_command) ==
               failure->verb.empty());
    check_error_message(failure->error.text);
    return;
  }
  const std::string* escaped = message.header("ESCAPED");
  const bool literal = escaped == nullptr || *escaped == "no";
  FUZZ_CHECK(escaped == nullptr || *escaped == "yes" || *escaped == "no");
  const std::string argument = message.argument.value_or("");
  std::visit(
      [&](const auto& request) {
        using Type = std::decay_t<decltype(request)>;
        FUZZ_CHECK(message.is(Type::kVerb));
        if constexpr (std::is_same_v<Type, protocol::Get> || std::is_same_v<Type, protocol::Put>) {
          const std::string* filename = message.header("FILENAME");
          FUZZ_CHECK(filename != nullptr && !filename->empty());
          if (literal) FUZZ_CHECK(request.path == *filename);
        } else if constexpr (std::is_same_v<Type, protocol::Rename>) {
          FUZZ_CHECK(message.header("FROM") != nullptr && message.header("TO") != nullptr);
          if (literal) FUZZ_CHECK(request.from == *message.header("FROM"));
          if (literal) FUZZ_CHECK(request.to == *message.header("TO"));
        } else if constexpr (requires { request.path; }) {
          if (literal) FUZZ_CHECK(request.path == argument);
        }
        if constexpr (std::is_same_v<Type, protocol::Login>) {
          // USER and PASSWORD as they are (never unescaped), absent ones empty; well formed
          // exactly when both are there, USER not empty, and no argument.
          const std::string* user = message.header(protocol::kUserHeader);
          const std::string* password = message.header(protocol::kPasswordHeader);
          FUZZ_CHECK(request.user == (user != nullptr ? *user : std::string()));
          FUZZ_CHECK(request.password == (password != nullptr ? *password : std::string()));
          FUZZ_CHECK(request.well_formed == (user != nullptr && !user->empty() &&
                                             password != nullptr && argument.empty()));
        }
        if constexpr (std::is_same_v<Type, protocol::Put>) {
          FUZZ_CHECK(request.size <= protocol::kMaxFileSize);
          FUZZ_CHECK(protocol::parse_file_size(*message.header("FILESIZE")) == request.size);
        }
      },
      *parsed.request());
}

void check_requests(std::string_view head) {
  const protocol::ParseResult parsed = protocol::parse_head(head);
  if (!parsed.ok()) return;
  const auto control = protocol::parse_control_request(parsed.message);
  check_request(parsed.message, control);
  // Whatever is wrong with a LOGIN, the server answers `login failed` after a check: the
  // parser never answers for it.
  if (parsed.message.is(protocol::Login::kVerb)) FUZZ_CHECK(control.ok());
  check_request(parsed.message, protocol::parse_transfer_request(parsed.message));
}

void check_error_message(std::string_view text) {
  const std::string formatted = protocol::format_error(text);
  if (formatted.size() > protocol::kMaxHeadBytes) return;
  const auto end = protocol::find_head_end(formatted, protocol::kMaxHeadBytes);
  FUZZ_CHECK(end.state == protocol::HeadEnd::State::complete && end.length == formatted.size());
  const protocol::ParseResult parsed = protocol::parse_head(formatted);
  FUZZ_CHECK(parsed.ok());
  FUZZ_CHECK(parsed.message.is("ERROR") && parsed.message.headers.empty());
  FUZZ_CHECK(parsed.message.argument.has_value());
  FUZZ_CHECK(has_no_control_bytes(*parsed.message.argument));
  const auto unescaped = protocol::unescape(*parsed.message.argument);
  FUZZ_CHECK(unescaped.has_value() && *unescaped == text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = as_text(data, size);

  check_head_end(input, protocol::kMaxHeadBytes);
  check_head_end(input, size);
  check_head_end(input, size / 2);
  if (size > 0) check_head_end(input, size - 1);

  // As a server or client does: the head as framed in the stream, then the whole input.
  const auto end = protocol::find_head_end(input, protocol::kMaxHeadBytes);
  if (end.state == protocol::HeadEnd::State::complete) check_parsed(input.substr(0, end.length));
  check_parsed(input);
  if (end.state == protocol::HeadEnd::State::complete) check_requests(input.substr(0, end.length));

  check_error_message(input);

  const std::string_view size_text = input.substr(0, 24);
  FUZZ_CHECK(protocol::parse_file_size(size_text) == reference_file_size(size_text));
  return 0;
}
