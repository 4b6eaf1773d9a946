#include "ferry/util/options.hpp"

namespace ferry::util {

Arguments parse_options(const std::vector<std::string>& words, std::string_view allowed) {
  Arguments result;
  bool options_ended = false;
  for (const std::string& word : words) {
    if (options_ended || word.size() < 2 || word.front() != '-') {
      result.operands.push_back(word);
      continue;
    }
    if (word == "--") {
      options_ended = true;
      continue;
    }
    if (word[1] == '-') {
      result.error = "unknown option " + word;
      return result;
    }
    for (const char letter : std::string_view(word).substr(1)) {
      if (allowed.find(letter) == std::string_view::npos) {
        result.error = std::string("unknown option -") + letter;
        return result;
      }
      if (!result.has(letter)) result.flags += letter;
    }
  }
  return result;
}

}  // namespace ferry::util
