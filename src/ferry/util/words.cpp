#include "ferry/util/words.hpp"

namespace ferry::util {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

bool escapable_in_double_quotes(char c) {
  return c == '\\' || c == '"' || c == '$' || c == '`';
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && is_blank(text.front()))
    text.remove_prefix(1);
  while (!text.empty() && is_blank(text.back()))
    text.remove_suffix(1);
  return text;
}

}  // namespace

Words split_words(std::string_view line) {
  Words result;
  std::string word;
  bool in_word = false;  // true once a word has started, even an empty quoted one
  std::size_t i = 0;
  while (i < line.size()) {
    const char c = line[i];
    if (is_blank(c)) {
      if (in_word) result.words.push_back(std::move(word));
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    in_word = true;
    if (c == '\\') {
      if (i + 1 == line.size()) {
        result.error = "trailing backslash";
        return result;
      }
      word += line[i + 1];
      i += 2;
    } else if (c == '\'') {
      const std::size_t end = line.find('\'', i + 1);
      if (end == std::string_view::npos) {
        result.error = "unterminated single quote";
        return result;
      }
      word.append(line.substr(i + 1, end - i - 1));
      i = end + 1;
    } else if (c == '"') {
      ++i;
      for (;;) {
        if (i == line.size()) {
          result.error = "unterminated double quote";
          return result;
        }
        const char d = line[i];
        if (d == '"') {
          ++i;
          break;
        }
        if (d == '\\' && i + 1 < line.size() && escapable_in_double_quotes(line[i + 1])) {
          word += line[i + 1];
          i += 2;
          continue;
        }
        word += d;
        ++i;
      }
    } else {
      word += c;
      ++i;
    }
  }
  if (in_word) result.words.push_back(std::move(word));
  return result;
}

Commands split_commands(std::string_view text) {
  Commands result;
  std::size_t piece_start = 0;
  const auto add_piece = [&](std::size_t end) {
    const std::string_view piece = trim(text.substr(piece_start, end - piece_start));
    if (!piece.empty()) result.commands.emplace_back(piece);
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\\') {
      i += 2;  // the escaped character is never a separator
    } else if (c == '\'') {
      const std::size_t end = text.find('\'', i + 1);
      if (end == std::string_view::npos) {
        result.error = "unterminated single quote";
        return result;
      }
      i = end + 1;
    } else if (c == '"') {
      ++i;
      while (i < text.size() && text[i] != '"')
        i += (text[i] == '\\') ? 2 : 1;
      if (i >= text.size()) {
        result.error = "unterminated double quote";
        return result;
      }
      ++i;
    } else if (c == ';') {
      add_piece(i);
      piece_start = ++i;
    } else {
      ++i;
    }
  }
  add_piece(text.size());
  return result;
}

}  // namespace ferry::util
