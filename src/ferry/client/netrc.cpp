#include "ferry/client/netrc.hpp"

#include <fmt/format.h>

#include <vector>

#include "ferry/protocol/message.hpp"

namespace ferry::client {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

struct Token {
  std::string text;
  bool quoted = false;
  std::size_t line = 0;
};

// The file's tokens, one at a time, with its comments left out.
class Tokenizer {
 public:
  explicit Tokenizer(std::string_view text) : text_(text) {}

  // The next token; nullopt at the end of the text or on an error (then error() says which).
  std::optional<Token> next() {
    for (;;) {
      while (pos_ < text_.size() && is_space(text_[pos_]))
        advance();
      if (pos_ == text_.size()) return std::nullopt;
      if (text_[pos_] != '#') break;
      while (pos_ < text_.size() && text_[pos_] != '\n')  // a comment, to the end of its line
        advance();
    }
    Token token;
    token.line = line_;
    if (text_[pos_] == '"') return quoted(std::move(token));
    while (pos_ < text_.size() && !is_space(text_[pos_])) {
      token.text += text_[pos_];
      advance();
    }
    return token;
  }

  // A macdef's body: the rest of the current line, then every line up to the first empty
  // one, which ends it.
  void skip_macro_body() {
    while (pos_ < text_.size() && text_[pos_] != '\n')
      advance();
    if (pos_ < text_.size()) advance();
    while (pos_ < text_.size()) {
      const bool empty = text_[pos_] == '\n' || text_[pos_] == '\r';
      while (pos_ < text_.size() && text_[pos_] != '\n')
        advance();
      if (pos_ < text_.size()) advance();
      if (empty) return;
    }
  }

  const std::string& error() const { return error_; }

 private:
  void advance() {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }

  std::optional<Token> quoted(Token token) {
    token.quoted = true;
    advance();  // the opening quote
    while (pos_ < text_.size() && text_[pos_] != '"') {
      char c = text_[pos_];
      if (c == '\\' && pos_ + 1 < text_.size()) {
        advance();
        switch (text_[pos_]) {
          case 'n':
            c = '\n';
            break;
          case 'r':
            c = '\r';
            break;
          case 't':
            c = '\t';
            break;
          default:
            c = text_[pos_];
            break;  // `\"`, `\\`, and any other character as it is
        }
      }
      token.text += c;
      advance();
    }
    if (pos_ == text_.size()) {
      error_ = fmt::format("unterminated quote on line {}", token.line);
      return std::nullopt;
    }
    advance();  // the closing quote
    return token;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::string error_;
};

struct ParsedEntry {
  bool is_default = false;
  std::string machine;
  NetrcEntry entry;
};

bool is_keyword(const Token& token, std::string_view keyword) {
  return !token.quoted && protocol::iequals(token.text, keyword);
}

// Every entry of the file, in its order; an error text when it is malformed.
std::vector<ParsedEntry> parse_entries(std::string_view text, std::string& error) {
  std::vector<ParsedEntry> entries;
  Tokenizer tokens(text);
  // The value after `keyword`, or an error.
  const auto value_of = [&](const Token& keyword) -> std::optional<std::string> {
    auto value = tokens.next();
    if (!value) {
      if (tokens.error().empty()) {
        error = fmt::format("'{}' without its value on line {}", keyword.text, keyword.line);
      }
      return std::nullopt;
    }
    return std::move(value->text);
  };
  while (auto token = tokens.next()) {
    if (is_keyword(*token, "machine")) {
      auto name = value_of(*token);
      if (!name) break;
      entries.push_back({false, std::move(*name), {}});
    } else if (is_keyword(*token, "default")) {
      entries.push_back({true, "", {}});
    } else if (is_keyword(*token, "login") || is_keyword(*token, "password") ||
               is_keyword(*token, "account")) {
      auto value = value_of(*token);
      if (!value) break;
      if (entries.empty() || is_keyword(*token, "account")) continue;  // outside any entry
      auto& field =
          is_keyword(*token, "login") ? entries.back().entry.login : entries.back().entry.password;
      field = std::move(*value);
    } else if (is_keyword(*token, "macdef")) {
      if (!value_of(*token)) break;
      tokens.skip_macro_body();
    }
    // Any other word is skipped, as ftp and curl skip what they do not know.
  }
  if (error.empty()) error = tokens.error();
  return entries;
}

bool applies_to(const NetrcEntry& entry, std::string_view user) {
  return user.empty() || !entry.login || *entry.login == user;
}

}  // namespace

NetrcLookup find_netrc_entry(std::string_view text, std::string_view host, std::string_view user) {
  NetrcLookup lookup;
  const std::vector<ParsedEntry> entries = parse_entries(text, lookup.error);
  if (!lookup.ok()) return lookup;
  for (const ParsedEntry& parsed : entries) {
    if (!parsed.is_default && protocol::iequals(parsed.machine, host) &&
        applies_to(parsed.entry, user)) {
      lookup.entry = parsed.entry;
      return lookup;
    }
  }
  for (const ParsedEntry& parsed : entries) {
    if (parsed.is_default && applies_to(parsed.entry, user)) {
      lookup.entry = parsed.entry;
      return lookup;
    }
  }
  return lookup;
}

}  // namespace ferry::client
