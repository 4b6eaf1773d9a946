// Escaping (LS names, ERROR texts, log lines).
//
// Input: any bytes. Properties checked:
// - escape(x) is valid UTF-8 (checked by an independent validator) with no control byte
//   (C0 or DEL), and unescape(escape(x)) == x.
// - is_valid_utf8 agrees with the independent validator.
// - Text that is valid UTF-8 without controls or backslashes escapes to itself.
// - unescape of arbitrary text, when it succeeds, is the inverse of escape:
//   unescape(escape(unescape(y))) == unescape(y), and never longer than y.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ferry/protocol/escape.hpp"
#include "fuzz_check.hpp"

namespace {
using ferry::fuzz::as_text;
using ferry::fuzz::has_no_control_bytes;
using ferry::fuzz::well_formed_utf8;
namespace protocol = ferry::protocol;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = as_text(data, size);

  const std::string escaped = protocol::escape(input);
  FUZZ_CHECK(well_formed_utf8(escaped));
  FUZZ_CHECK(has_no_control_bytes(escaped));
  const auto back = protocol::unescape(escaped);
  FUZZ_CHECK(back.has_value() && *back == input);

  const bool valid = well_formed_utf8(input);
  FUZZ_CHECK(protocol::is_valid_utf8(input) == valid);
  if (valid && has_no_control_bytes(input) && input.find('\\') == std::string_view::npos) {
    FUZZ_CHECK(escaped == input);
  }

  if (const auto unescaped = protocol::unescape(input)) {
    FUZZ_CHECK(unescaped->size() <= input.size());
    const auto again = protocol::unescape(protocol::escape(*unescaped));
    FUZZ_CHECK(again.has_value() && *again == *unescaped);
  }
  return 0;
}
