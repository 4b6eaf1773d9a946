#pragma once

// Protocol messages as values: framing, parsing and formatting with no I/O.
// The grammar and its limits are normative in docs/PROTOCOL.md.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::protocol {

struct Header {
  std::string name;
  std::string value;
};

struct Message {
  std::string verb;                     // as received; compare with is()
  std::optional<std::string> argument;  // everything after the first space of the start line
  std::vector<Header> headers;

  // Case-insensitive verb comparison.
  bool is(std::string_view verb_name) const;
  // Case-insensitive header lookup; nullptr when absent.
  const std::string* header(std::string_view name) const;
};

// Where a head ends in a byte stream.
struct HeadEnd {
  enum class State { incomplete, complete, too_long };
  State state = State::incomplete;
  std::size_t length = 0;  // bytes of the head including its empty line, when complete
};

// Looks for the empty line that ends a head at the start of `buffer`.
// A head longer than `limit` bytes (its empty line included) is too_long.
HeadEnd find_head_end(std::string_view buffer, std::size_t limit);

struct ParseResult {
  Message message;
  std::string error;  // empty when the head is well formed
  bool ok() const { return error.empty(); }
};

// Parses one complete head (as delimited by find_head_end). FILESIZE, when present,
// is validated here so that no caller can forget it.
ParseResult parse_head(std::string_view head);

// Decimal digits only, at most kMaxFileSize.
std::optional<std::uint64_t> parse_file_size(std::string_view text);

// Formats a message: start line, headers, empty line.
std::string format_message(std::string_view start_line, const std::vector<Header>& headers = {});

// `ERROR <text>` with control characters in text escaped, so that a message that
// quotes a hostile name can never break the framing.
std::string format_error(std::string_view text);

bool iequals(std::string_view a, std::string_view b);

}  // namespace ferry::protocol
