#include "ferry/util/words.hpp"

#include <cstdint>

namespace ferry::util {
namespace {

constexpr std::size_t kNotFound = std::string_view::npos;

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

bool starts_ansi_c_quote(std::string_view line, std::size_t i) {
  return line[i] == '$' && i + 1 < line.size() && line[i + 1] == '\'';
}

int digit_value(char c, int base) {
  int value = 16;
  if (c >= '0' && c <= '9') value = c - '0';
  if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
  if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
  return value < base ? value : -1;
}

// Reads at most `max_digits` digits in `base` from line[i]; returns how many it read.
std::size_t read_number(std::string_view line, std::size_t i, int base, std::size_t max_digits,
                        std::uint32_t& value) {
  value = 0;
  std::size_t count = 0;
  while (count < max_digits && i + count < line.size()) {
    const int digit = digit_value(line[i + count], base);
    if (digit < 0) break;
    value = value * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(digit);
    ++count;
  }
  return count;
}

void append_utf8(std::string& out, std::uint32_t code) {
  const auto byte = [&](std::uint32_t b) { out += static_cast<char>(b); };
  if (code < 0x80) {
    byte(code);
  } else if (code < 0x800) {
    byte(0xc0 | (code >> 6));
    byte(0x80 | (code & 0x3f));
  } else if (code < 0x10000) {
    byte(0xe0 | (code >> 12));
    byte(0x80 | ((code >> 6) & 0x3f));
    byte(0x80 | (code & 0x3f));
  } else {
    byte(0xf0 | (code >> 18));
    byte(0x80 | ((code >> 12) & 0x3f));
    byte(0x80 | ((code >> 6) & 0x3f));
    byte(0x80 | (code & 0x3f));
  }
}

char simple_escape(char c) {
  switch (c) {
    case 'a':
      return '\a';
    case 'b':
      return '\b';
    case 'e':
    case 'E':
      return '\x1b';
    case 'f':
      return '\f';
    case 'n':
      return '\n';
    case 'r':
      return '\r';
    case 't':
      return '\t';
    case 'v':
      return '\v';
    case '\\':
    case '\'':
    case '"':
    case '?':
      return c;
    default:
      return '\0';
  }
}

// The escape sequence after the backslash at line[i] inside $'...': appends what it stands
// for and returns the index after it; kNotFound with `error` set when it is invalid.
std::size_t ansi_c_escape(std::string_view line, std::size_t i, std::string& word,
                          std::string& error) {
  const char kind = line[i + 1];
  if (const char c = simple_escape(kind); c != '\0') {
    word += c;
    return i + 2;
  }
  std::uint32_t value = 0;
  if (kind >= '0' && kind <= '7') {
    const std::size_t digits = read_number(line, i + 1, 8, 3, value);
    word += static_cast<char>(value & 0xffu);  // as bash: \777 is the byte 0xff
    return i + 1 + digits;
  }
  if (kind == 'x' || kind == 'u' || kind == 'U') {
    const std::size_t max_digits = kind == 'x' ? 2 : kind == 'u' ? 4 : 8;
    const std::size_t digits = read_number(line, i + 2, 16, max_digits, value);
    if (digits == 0) {
      word.append(line.substr(i, 2));  // as bash: `\x` without a digit stays as it is
      return i + 2;
    }
    if (kind == 'x') {
      word += static_cast<char>(value);
    } else if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) {
      error = "not a Unicode character: " + std::string(line.substr(i, 2 + digits));
      return kNotFound;
    } else {
      append_utf8(word, value);
    }
    return i + 2 + digits;
  }
  word.append(line.substr(i, 2));  // as bash: an unknown escape keeps its backslash
  return i + 2;
}

// The $'...' quote whose `$` is at line[i] (bash's ANSI-C quoting): appends its text to `word`
// and returns the index after the closing quote; kNotFound with `error` set when it is
// malformed.
std::size_t ansi_c_quote(std::string_view line, std::size_t i, std::string& word,
                         std::string& error) {
  i += 2;
  while (i < line.size() && line[i] != '\'') {
    if (line[i] != '\\') {
      word += line[i++];
    } else if (i + 1 < line.size()) {
      i = ansi_c_escape(line, i, word, error);
      if (i == kNotFound) return kNotFound;
    } else {
      break;
    }
  }
  if (i >= line.size() || line[i] != '\'') {
    error = "unterminated $' quote";
    return kNotFound;
  }
  return i + 1;
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
    if (starts_ansi_c_quote(line, i)) {
      i = ansi_c_quote(line, i, word, result.error);
      if (i == kNotFound) return result;
    } else if (c == '\\') {
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
    } else if (starts_ansi_c_quote(text, i)) {
      i += 2;
      while (i < text.size() && text[i] != '\'')
        i += (text[i] == '\\') ? 2 : 1;
      if (i >= text.size()) {
        result.error = "unterminated $' quote";
        return result;
      }
      ++i;
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
