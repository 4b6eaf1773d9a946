#include "ferry/client/known_hosts.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace ferry::client {
namespace {

struct Entry {
  std::string_view host, port, fingerprint;
};

std::optional<Entry> parse_line(std::string_view line) {
  std::vector<std::string_view> fields;
  std::size_t at = 0;
  while (at < line.size()) {
    while (at < line.size() && (line[at] == ' ' || line[at] == '\t'))
      ++at;
    if (at >= line.size()) break;
    const std::size_t end = line.find_first_of(" \t", at);
    fields.push_back(line.substr(at, end == std::string_view::npos ? line.size() - at : end - at));
    at = end == std::string_view::npos ? line.size() : end;
  }
  if (fields.size() != 3 || fields[0].front() == '#') return std::nullopt;
  return Entry{fields[0], fields[1], fields[2]};
}

// Calls visit(line, number) for each line; a final line break ends the last line.
template <typename Visit>
void each_line(std::string_view text, Visit visit) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    visit(text.substr(0, end), ++number);
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
}

}  // namespace

std::string known_host_name(std::string_view host) {
  std::string name(host);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

std::optional<KnownHost> find_known_host(std::string_view text, std::string_view host,
                                         std::string_view port) {
  const std::string name = known_host_name(host);
  std::optional<KnownHost> found;
  each_line(text, [&](std::string_view line, std::size_t number) {
    if (found) return;
    const auto entry = parse_line(line);
    if (entry && entry->host == name && entry->port == port) {
      found = KnownHost{std::string(entry->fingerprint), number};
    }
  });
  return found;
}

std::string with_known_host(std::string_view text, std::string_view host, std::string_view port,
                            std::string_view fingerprint) {
  const std::string name = known_host_name(host);
  const std::string new_line = name + " " + std::string(port) + " " + std::string(fingerprint);
  std::string out;
  bool replaced = false;
  each_line(text, [&](std::string_view line, std::size_t /*number*/) {
    const auto entry = parse_line(line);
    if (entry && entry->host == name && entry->port == port) {
      if (!replaced) out += new_line + "\n";
      replaced = true;
      return;
    }
    out += std::string(line) + "\n";
  });
  if (!replaced) out += new_line + "\n";
  return out;
}

TrustVerdict decide_trust(const TrustInput& input) {
  const bool same = input.known && input.known->fingerprint == input.fingerprint;
  if (input.expected) {
    if (*input.expected != input.fingerprint) return TrustVerdict::mismatch;
    return same ? TrustVerdict::trusted : TrustVerdict::trusted_new;
  }
  // A CA vouches for the name: a renewed certificate may carry a new key (certbot makes one
  // at each renewal), so the line is only brought up to date. It still says "TLS host".
  if (input.ca_verified) return same ? TrustVerdict::trusted : TrustVerdict::trusted_new;
  if (input.known) return same ? TrustVerdict::trusted : TrustVerdict::changed;
  if (input.accept_new) return TrustVerdict::trusted_new;
  return input.can_ask ? TrustVerdict::ask : TrustVerdict::refused_new;
}

}  // namespace ferry::client
