#pragma once

// The path a transfer request names: literal, as a seed client means it, or in the escaped
// form LS shows names in when the request says `ESCAPED: yes` (docs/PROTOCOL.md, "Paths").

#include <string>
#include <string_view>

namespace ferry::protocol {

inline constexpr std::string_view kEscapedHeader = "ESCAPED";

struct RequestPath {
  std::string path;
  std::string error;  // empty on success: the text of the ERROR answer
  bool ok() const { return error.empty(); }
};

// `escaped`: the value of the request's ESCAPED header, or nullptr when it has none.
RequestPath decode_request_path(std::string_view text, const std::string* escaped);

}  // namespace ferry::protocol
