#include "ferry/client/server_address.hpp"

#include <charconv>

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

}  // namespace

ServerAddress parse_server_address(std::string_view first,
                                   const std::optional<std::string>& second) {
  ServerAddress address;
  if (first.starts_with(kScheme)) {
    std::string_view rest = first.substr(kScheme.size());
    const std::size_t slash = rest.find('/');
    const std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
    rest = rest.substr(0, slash);
    address = split_host_port(rest);
    if (!address.ok()) return address;
    const auto decoded = percent_decode(path);
    if (!decoded) return failure("bad %-escape in the path of " + std::string(first));
    address.directory = *decoded;
  } else {
    address = split_host_port(first);
    if (!address.ok()) return address;
  }
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

}  // namespace ferry::client
