#include "ferry/util/word_quoting.hpp"

#include "ferry/util/words.hpp"

namespace ferry::util {

std::string quote_word(std::string_view name, char quote, bool close) {
  std::string out;
  if (quote == '\'') {
    out += '\'';
    for (const char c : name) {
      // A single quote cannot appear inside single quotes: close, escape it, reopen.
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    if (close) out += '\'';
    return out;
  }
  if (quote == '"') {
    out += '"';
    for (const char c : name) {
      if (c == '\\' || c == '"' || c == '$' || c == '`') out += '\\';
      out += c;
    }
    if (close) out += '"';
    return out;
  }
  for (const char c : name) {
    if (kSpecialCharacters.find(c) != std::string_view::npos) out += '\\';
    out += c;
  }
  return out;
}

std::string dequote_partial(std::string_view text, char quote) {
  std::string word;
  if (quote == '"' || quote == '\'') word += quote;
  word += text;
  if (word.ends_with('\\') && !is_quoted_at(word, word.size() - 1)) word.pop_back();
  // Close what is open, then read it as the command line will be read.
  if (!word.empty()) {
    bool in_single = false;
    bool in_double = false;
    for (std::size_t i = 0; i < word.size(); ++i) {
      const char c = word[i];
      if (in_single) {
        in_single = c != '\'';
      } else if (c == '\\') {
        ++i;
      } else if (in_double) {
        in_double = c != '"';
      } else if (c == '\'') {
        in_single = true;
      } else if (c == '"') {
        in_double = true;
      }
    }
    if (in_single) word += '\'';
    if (in_double) word += '"';
  }
  const Words split = split_words(word);
  if (!split.ok() || split.words.size() != 1) return std::string(text);
  return split.words[0];
}

bool is_quoted_at(std::string_view line, std::size_t index) {
  bool in_single = false;
  bool in_double = false;
  for (std::size_t i = 0; i < index && i < line.size(); ++i) {
    const char c = line[i];
    if (in_single) {
      in_single = c != '\'';
    } else if (c == '\\') {
      if (i + 1 == index) return true;
      ++i;
    } else if (in_double) {
      in_double = c != '"';
    } else if (c == '\'') {
      in_single = true;
    } else if (c == '"') {
      in_double = true;
    }
  }
  return in_single || in_double;
}

}  // namespace ferry::util
