#include "ferry/client/server_address.hpp"

#include <charconv>

#include "ferry/client/login_request.hpp"

namespace ferry::client {
namespace {

constexpr std::string_view kScheme = "ferry://";

bool valid_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && value >= 1 && value <= 65535;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// `%20` and the like; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    const int high = i + 1 < text.size() ? hex_value(text[i + 1]) : -1;
    const int low = i + 2 < text.size() ? hex_value(text[i + 2]) : -1;
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

ServerAddress failure(std::string text) {
  ServerAddress address;
  address.error = std::move(text);
  return address;
}

// `HOST:PORT`, `[v6]:PORT`, `[v6]` or a host alone (port empty).
ServerAddress split_host_port(std::string_view text) {
  ServerAddress address;
  if (text.starts_with('[')) {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return failure("missing ']' in " + std::string(text));
    address.host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (!rest.starts_with(':'))
        return failure("expected ':PORT' after ']' in " + std::string(text));
      address.port = rest.substr(1);
      if (address.port.empty()) return failure("missing port after ':' in " + std::string(text));
    }
  } else if (const std::size_t colon = text.find(':');
             colon != std::string_view::npos &&
             text.find(':', colon + 1) == std::string_view::npos) {
    address.host = text.substr(0, colon);
    address.port = text.substr(colon + 1);
    if (address.port.empty()) return failure("missing port after ':' in " + std::string(text));
  } else {
    address.host = text;  // a name, an IPv4 address or a bare IPv6 address
  }
  if (address.host.empty()) return failure("missing host in " + std::string(text));
  return address;
}

// Why `user` cannot be logged in as, or nullopt.
std::optional<std::string> refuse_user(std::string_view user) {
  if (user.empty()) return "empty user name";
  if (user.find(':') != std::string_view::npos) {
    return "a ':' in the user name (a password is never taken from the command line: ferry "
           "asks for it, or reads ~/.netrc or --password-file)";
  }
  return refuse_login_value("the user name", user);
}

// Splits `USER@` off `rest`, the user percent-decoded when `decode`; an error text or "".
std::string take_user(std::string_view& rest, bool decode, std::optional<std::string>& user) {
  const std::size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return "";
  const std::string_view raw = rest.substr(0, at);
  rest.remove_prefix(at + 1);
  if (decode) {
    user = percent_decode(raw);
    if (!user) return "bad %-escape in the user name of the address";
  } else {
    user = std::string(raw);
  }
  return refuse_user(*user).value_or("");
}

}  // namespace

ServerAddress parse_server_address(std::string_view first,
                                   const std::optional<std::string>& second) {
  ServerAddress address;
  std::optional<std::string> user;
  if (first.starts_with(kScheme)) {
    std::string_view rest = first.substr(kScheme.size());
    const std::size_t slash = rest.find('/');
    const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    rest = rest.substr(0, slash);
    // (Not quoting the address: what it holds before '@' may be a password.)
    if (auto error = take_user(rest, true, user); !error.empty()) return failure(error);
    address = split_host_port(rest);
    if (!address.ok()) return address;
    const auto decoded = percent_decode(path);
    if (!decoded) return failure("bad %-escape in the path of " + std::string(first));
    address.directory = *decoded;
  } else {
    std::string_view rest = first;
    if (auto error = take_user(rest, false, user); !error.empty()) return failure(error);
    address = split_host_port(rest);
    if (!address.ok()) return address;
  }
  address.user = std::move(user);
  if (second) {
    if (!address.port.empty())
      return failure("the port is given twice: " + std::string(first) + " and " + *second);
    address.port = *second;
  }
  if (address.port.empty()) {
    return failure("no port: give it as HOST PORT, HOST:PORT, [IPv6]:PORT or ferry://HOST:PORT/");
  }
  if (!valid_port(address.port)) return failure("bad port " + address.port + " (expected 1-65535)");
  return address;
}

UserChoice choose_user(const ServerAddress& address, const std::optional<std::string>& option) {
  UserChoice choice;
  if (option) {
    if (auto refusal = refuse_user(*option)) {
      choice.error = "--user: " + *refusal;
      return choice;
    }
    if (address.user && *address.user != *option) {
      choice.error = "the user is given twice: --user " + *option + " and " + *address.user + "@";
      return choice;
    }
  }
  choice.user = option ? option : address.user;
  return choice;
}

}  // namespace ferry::client
