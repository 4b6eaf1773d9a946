#include "server_trust.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "errors.hpp"
#include "ferry/client/known_hosts.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "ferry/util/errno_text.hpp"
#include "trace.hpp"

namespace ferry::cli {
namespace {

using Clock = std::chrono::steady_clock;
using tls::Want;

// First contact: how long a server may take to answer the TLS ClientHello before it counts
// as one that does not speak TLS (a seed server reads it as the start of a message head and
// waits for its end). At least a second, or four connect times on a slow path.
constexpr net::Timeout kProbeFloor{1000};
constexpr int kProbeRoundTrips = 4;

// What OpenSSL reads at once on a transfer connection: four full records.
constexpr std::size_t kTransferReadBuffer = std::size_t{4} * (16384 + 256);

constexpr unsigned char kTlsHandshake = 0x16;
constexpr unsigned char kTlsAlert = 0x15;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return {};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// ferryd refuses a connection over a limit, or from a locked-out address, at once and in
// plaintext, before the client's first byte could tell it TLS (`ERROR too many sessions ...`
// and the close). That is the server's answer, not a server without TLS: no fallback, no
// downgrade alarm. (A seed server waits for a head's empty line, which a ClientHello lacks.)
void throw_if_refusal(int fd) {
  std::string peeked(512, '\0');
  const ssize_t n = ::recv(fd, peeked.data(), peeked.size(), MSG_PEEK | MSG_DONTWAIT);
  if (n <= 0) return;
  peeked.resize(static_cast<std::size_t>(n));
  const auto end = peeked.find("\n\n");
  if (!peeked.starts_with("ERROR ") || end == std::string::npos) return;
  throw net::NetError(net::ErrorKind::protocol,
                      "refused: " + client::printable(peeked.substr(6, end - 6)));
}

std::string display_host(const std::string& host, const std::string& port) {
  return fmt::format("{} port {}", host, port);
}

}  // namespace

ServerTrust::ServerTrust(std::string host, std::string port, TlsSettings settings)
    : host_(std::move(host)),
      port_(std::move(port)),
      settings_(std::move(settings)),
      context_(tls::Context::client()) {
  if (settings_.mode == TlsSettings::Mode::plain) decided_tls_ = false;
}

std::string ServerTrust::known_hosts_path() const {
  if (!settings_.known_hosts_file.empty()) return settings_.known_hosts_file;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): the client reads its environment on one thread
  if (const char* config = std::getenv("XDG_CONFIG_HOME"); config != nullptr && *config == '/') {
    return std::string(config) + "/ferry/known_hosts";
  }
  // NOLINTNEXTLINE(concurrency-mt-unsafe): as above
  if (const char* home = std::getenv("HOME"); home != nullptr && *home == '/') {
    return std::string(home) + "/.config/ferry/known_hosts";
  }
  return {};
}

net::Link ServerTrust::connect_control(net::Timeout timeout) {
  const auto started = Clock::now();
  fs::Fd fd = net::connect_to(host_, port_, timeout);
  if (decided_tls_ == false) return net::Link(std::move(fd));

  const auto known = client::find_known_host(read_file(known_hosts_path()), host_, port_);
  // A server known as a TLS server, or --tls: no fallback, so the full timeout.
  const bool may_fall_back =
      !decided_tls_ && settings_.mode == TlsSettings::Mode::automatic && !known;
  net::Timeout handshake_timeout = timeout;
  if (may_fall_back) {
    const auto connect_time = std::chrono::duration_cast<net::Timeout>(Clock::now() - started);
    handshake_timeout = std::min(timeout, std::max(kProbeFloor, kProbeRoundTrips * connect_time));
  }
  net::Link link;
  if (try_tls(link, std::move(fd), handshake_timeout) == Attempt::tls) {
    check_key(*link.tls());
    decided_tls_ = true;
    trace_note(fmt::format("{}, server key {}", link.tls()->description(), fingerprint_));
    return link;
  }
  const std::string where = display_host(host_, port_);
  if (decided_tls_ || settings_.mode == TlsSettings::Mode::required) {
    throw net::NetError(net::ErrorKind::protocol,
                        fmt::format("{} does not speak TLS{}", where,
                                    decided_tls_ ? " any more (it did on this session's first "
                                                   "connection): refusing plaintext"
                                                 : " (and --tls was given)"));
  }
  if (known) {
    throw TrustError(fmt::format(
        "{} is known as a TLS server (line {} of {}) but did not speak TLS now: refusing to "
        "fall back to plaintext, which someone on the path could have forced.\n"
        "If the server really dropped TLS, remove that line or connect with --plain.",
        where, known->line, known_hosts_path()));
  }
  fmt::print(stderr,
             "ferry: warning: {} does not speak TLS; continuing in plaintext: anyone on the path "
             "can read and change this session\n",
             where);
  decided_tls_ = false;
  return net::Link(net::connect_to(host_, port_, timeout));
}

// Sends the ClientHello and reads the answer. A server that answers with anything but TLS,
// closes, or stays silent for `handshake_timeout` while fallback is allowed, is not_tls.
ServerTrust::Attempt ServerTrust::try_tls(net::Link& link, fs::Fd fd,
                                          net::Timeout handshake_timeout) {
  auto session = tls::Session::connect(context_, fd.get(), host_, nullptr, &tickets_);
  if (!session) throw net::NetError(net::ErrorKind::protocol, "cannot start TLS");
  // OpenSSL would read the server's first bytes itself; this code must see them first.
  session->hold_reads();
  bool first_byte_seen = false;
  for (;;) {
    const tls::Step step = session->handshake();
    if (step.want == Want::done) break;
    if (step.want == Want::write) {
      net::wait_for(fd.get(), POLLOUT, handshake_timeout);
      continue;
    }
    if (step.want == Want::read) {
      if (!first_byte_seen) {
        if (net::poll_for(fd.get(), POLLIN, handshake_timeout) == 0) return Attempt::not_tls;
        unsigned char first = 0;
        const ssize_t n = ::recv(fd.get(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) return Attempt::not_tls;
        if (n > 0 && first != kTlsHandshake && first != kTlsAlert) {
          throw_if_refusal(fd.get());
          return Attempt::not_tls;
        }
        first_byte_seen = n > 0;
        if (first_byte_seen) session->attach_reads();
        continue;
      }
      net::wait_for(fd.get(), POLLIN, handshake_timeout);
      continue;
    }
    if (!first_byte_seen) return Attempt::not_tls;
    if (step.want == Want::closed) {
      throw net::NetError(net::ErrorKind::closed, "connection closed during the TLS handshake");
    }
    throw net::NetError(net::ErrorKind::protocol, "TLS handshake failed: " + step.error);
  }
  link = net::Link(std::move(fd), std::move(session));
  return Attempt::tls;
}

void ServerTrust::check_key(const tls::Session& session) {
  const std::string fingerprint = session.peer_fingerprint();
  if (fingerprint.empty()) {
    throw TrustError(fmt::format("{} sent no certificate", display_host(host_, port_)));
  }
  if (!fingerprint_.empty()) {  // a reconnect: the server of this session, or nothing
    if (fingerprint != fingerprint_) {
      throw TrustError(fmt::format("{} changed its TLS key during the session ({} before, {} now)",
                                   display_host(host_, port_), fingerprint_, fingerprint));
    }
    return;
  }
  std::string why_not;
  client::TrustInput input;
  input.ca_verified = session.verified(why_not);
  input.fingerprint = fingerprint;
  input.known = client::find_known_host(read_file(known_hosts_path()), host_, port_);
  input.expected = settings_.fingerprint;
  input.accept_new = settings_.accept_new;
  input.can_ask = settings_.can_ask;
  const std::string where = display_host(host_, port_);
  using client::TrustVerdict;
  switch (client::decide_trust(input)) {
    case TrustVerdict::trusted:
      break;
    case TrustVerdict::trusted_new:
      remember(fingerprint, !input.ca_verified);
      break;
    case TrustVerdict::ask:
      if (!ask(fingerprint)) throw TrustError("TLS key not accepted: nothing was sent");
      remember(fingerprint, true);
      break;
    case TrustVerdict::refused_new:
      throw TrustError(
          fmt::format("the TLS key of {} is not known yet ({}; its certificate: {}).\n"
                      "Its fingerprint is {}.\n"
                      "Compare it with the one ferryd logs at its start, then connect again with\n"
                      "  --fingerprint {}   (or --accept-new to record it unchecked)",
                      where, known_hosts_path(), why_not, fingerprint, fingerprint));
    case TrustVerdict::changed:
      throw TrustError(fmt::format(
          "@@@ WARNING: THE TLS KEY OF {} HAS CHANGED! @@@\n"
          "Someone could be eavesdropping on you right now (a man-in-the-middle attack),\n"
          "or the server's key was replaced.\n"
          "  known key:    {} (line {} of {})\n"
          "  offered key:  {}\n"
          "Nothing was sent. If the operator confirms the new key, remove line {} of {}\n"
          "and connect again.",
          where, input.known->fingerprint, input.known->line, known_hosts_path(), fingerprint,
          input.known->line, known_hosts_path()));
    case TrustVerdict::mismatch:
      throw TrustError(fmt::format(
          "the TLS key of {} is {}, not the {} given with --fingerprint: nothing was sent", where,
          fingerprint, *settings_.fingerprint));
  }
  fingerprint_ = fingerprint;
}

bool ServerTrust::ask(const std::string& fingerprint) const {
  fmt::print(stderr,
             "The authenticity of {} can't be established.\n"
             "Its TLS key fingerprint is {}.\n"
             "Are you sure you want to continue connecting (yes/no)? ",
             display_host(host_, port_), fingerprint);
  static_cast<void>(std::fflush(stderr));
  for (;;) {
    std::string answer;
    if (!std::getline(std::cin, answer)) return false;
    if (answer == "yes") return true;
    if (answer == "no" || answer.empty()) return false;
    fmt::print(stderr, "Please type 'yes' or 'no': ");
    static_cast<void>(std::fflush(stderr));
  }
}

// Adds or updates the server's line, through a temporary file and a rename.
void ServerTrust::remember(const std::string& fingerprint, bool announce) const {
  const std::string path = known_hosts_path();
  if (path.empty()) return;
  const std::string text = client::with_known_host(read_file(path), host_, port_, fingerprint);
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  const std::string temporary = fmt::format("{}.tmp.{}", path, ::getpid());
  {
    fs::Fd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    const bool written =
        fd.valid() &&
        ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size()) &&
        ::fsync(fd.get()) == 0;
    if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
      fmt::print(stderr, "ferry: warning: cannot record the key in {}: {}\n", path,
                 util::errno_text(errno));
      ::unlink(temporary.c_str());
      return;
    }
  }
  if (announce) {
    fmt::print(stderr, "ferry: added {} ({}) to {}\n", display_host(host_, port_), fingerprint,
               path);
  }
}

net::Link ServerTrust::connect_transfer(const net::Endpoint& endpoint, net::Timeout timeout) {
  fs::Fd fd = net::connect_to(endpoint, timeout);
  if (!tls()) return net::Link(std::move(fd));
  const auto ticket = tickets_.latest();
  auto session = tls::Session::connect(context_, fd.get(), host_, ticket.get(), nullptr);
  if (!session) throw net::NetError(net::ErrorKind::protocol, "cannot start TLS");
  session->read_ahead(kTransferReadBuffer);  // every read of a Link comes before its wait
  net::complete_handshake(fd.get(), *session, timeout);
  // Resumed or not, the peer's key is the one its session started with.
  if (session->peer_fingerprint() != fingerprint_) {
    throw net::NetError(net::ErrorKind::protocol,
                        "the transfer connection's TLS key is not the server's: refused");
  }
  trace_note(fmt::format("transfer connection: {}{}", session->description(),
                         session->resumed() ? ", resumed" : ", full handshake"));
  return net::Link(std::move(fd), std::move(session));
}

}  // namespace ferry::cli
