#include "ferry/protocol/escape.hpp"

#include <cstdint>

namespace ferry::protocol {
namespace {

// Length of the valid UTF-8 sequence starting at text[i], or 0 when it is not one.
std::size_t utf8_sequence_length(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(text[k]); };
  const std::uint8_t lead = byte(i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  std::uint32_t code = 0;
  if ((lead & 0xe0) == 0xc0) {
    length = 2;
    code = lead & 0x1fu;
  } else if ((lead & 0xf0) == 0xe0) {
    length = 3;
    code = lead & 0x0fu;
  } else if ((lead & 0xf8) == 0xf0) {
    length = 4;
    code = lead & 0x07u;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (std::size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i + k) & 0x3fu);
  }
  static constexpr std::uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
  if (code < kMinimum[length] || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return length;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The code point of the valid sequence of `length` bytes at text[i].
std::uint32_t code_point(std::string_view text, std::size_t i, std::size_t length) {
  static constexpr std::uint8_t kLeadBits[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
  std::uint32_t code = static_cast<std::uint8_t>(text[i]) & kLeadBits[length];
  for (std::size_t k = 1; k < length; ++k) {
    code = (code << 6) | (static_cast<std::uint8_t>(text[i + k]) & 0x3fu);
  }
  return code;
}

// The code points escape_visible() writes as `\uXXXX`: valid UTF-8 that a terminal shows as
// nothing, or that reorders or breaks what follows it.
bool is_hidden(std::uint32_t code) {
  return (code >= 0x80 && code <= 0x9f) || code == 0xad || code == 0x61c || code == 0x180e ||
         (code >= 0x200b && code <= 0x200f) || code == 0x2028 || code == 0x2029 ||
         (code >= 0x202a && code <= 0x202e) || (code >= 0x2060 && code <= 0x2064) ||
         (code >= 0x2066 && code <= 0x2069) || code == 0xfeff;
}

constexpr char kHex[] = "0123456789abcdef";

void append_byte_escape(std::string& out, std::uint8_t c) {
  out += "\\x";
  out += kHex[c >> 4];
  out += kHex[c & 0x0f];
}

void append_code_point_escape(std::string& out, std::uint32_t code) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4)
    out += kHex[(code >> shift) & 0x0f];
}

// escape(), and with `escape_hidden` escape_visible().
std::string escape_text(std::string_view text, bool escape_hidden) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<std::uint8_t>(text[i]);
    const std::size_t length = utf8_sequence_length(text, i);
    if (length > 1) {
      const std::uint32_t code = code_point(text, i, length);
      if (escape_hidden && is_hidden(code)) {
        append_code_point_escape(out, code);
      } else {
        out.append(text.substr(i, length));
      }
      i += length;
      continue;
    }
    ++i;
    switch (c) {
      case '\\':
        out += "\\\\";
        continue;
      case '\n':
        out += "\\n";
        continue;
      case '\r':
        out += "\\r";
        continue;
      case '\t':
        out += "\\t";
        continue;
      default:
        break;
    }
    if (length == 1 && c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
    } else {
      append_byte_escape(out, c);
    }
  }
  return out;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

std::string escape(std::string_view text) {
  return escape_text(text, false);
}

std::string escape_visible(std::string_view raw) {
  return escape_text(raw, true);
}

std::optional<std::string> unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return std::nullopt;
    switch (text[i]) {
      case '\\':
        out += '\\';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'x': {
        if (i + 2 >= text.size()) return std::nullopt;
        const int high = hex_value(text[i + 1]);
        const int low = hex_value(text[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
        break;
      }
      default:
        return std::nullopt;
    }
  }
  return out;
}

}  // namespace ferry::protocol
