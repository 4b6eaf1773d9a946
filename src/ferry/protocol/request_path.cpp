#include "ferry/protocol/request_path.hpp"

#include "ferry/protocol/escape.hpp"

namespace ferry::protocol {

RequestPath decode_request_path(std::string_view text, const std::string* escaped) {
  RequestPath result;
  if (escaped == nullptr || *escaped == "no") {
    result.path = std::string(text);
  } else if (*escaped == "yes") {
    if (auto raw = unescape(text)) {
      result.path = std::move(*raw);
    } else {
      result.error = "malformed escape in path: " + std::string(text);  // escaped when sent
    }
  } else {
    result.error = "bad ESCAPED value: " + *escaped + " (expected yes or no)";
  }
  return result;
}

}  // namespace ferry::protocol
