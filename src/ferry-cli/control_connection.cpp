#include "control_connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "answer.hpp"
#include "errors.hpp"
#include "ferry/client/foreign_server.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/net/error.hpp"
#include "ferry/protocol/limits.hpp"
#include "ferry/util/errno_text.hpp"
#include "trace.hpp"

namespace ferry::cli {
namespace {

constexpr net::Timeout kQuitWait{2000};

bool is_closed_by_peer(const net::NetError& e) {
  return e.kind() == net::ErrorKind::closed ||
         (e.kind() == net::ErrorKind::system && (e.code() == EPIPE || e.code() == ECONNRESET));
}

bool is_refused(const net::NetError& e) {
  return e.kind() == net::ErrorKind::system && e.code() == ECONNREFUSED;
}

}  // namespace

ControlConnection::ControlConnection(std::string host, std::string port, net::Timeout timeout,
                                     TlsSettings tls_settings)
    : host_(std::move(host)),
      port_(std::move(port)),
      timeout_(timeout),
      trust_(host_, port_, std::move(tls_settings)) {}

void ControlConnection::connect() {
  buffer_.clear();
  answers_.clear();
  answered_ = false;
  login_sent_ = false;
  // A version learnt on an earlier connection holds: the server is the same.
  features_asked_ = version_ != 0;
  socket_ = trust_.connect_control(budget());
  peer_ = net::peer_of(socket_.fd());
}

void ControlConnection::probe() {
  try {
    if (!features_asked_) send("", Kind::reply, 0);
    while (version_ == 0)
      file_answer(read_answer());
  } catch (const net::NetError&) {
    check_foreign_after_failure();
    drop();
    throw;
  }
}

net::Timeout ControlConnection::budget() const {
  if (!deadline_) return timeout_;
  const auto left = std::chrono::duration_cast<net::Timeout>(*deadline_ - Clock::now());
  if (left.count() <= 0) throw net::NetError(net::ErrorKind::timed_out, "timed out");
  return std::min(timeout_, left);
}

void ControlConnection::check_foreign(bool at_end) const {
  if (answered_ || buffer_.empty()) return;
  const auto what = client::identify_foreign(at_end ? buffer_ + "\n" : buffer_);
  if (what) {
    throw ForeignServerError(
        fmt::format("{} port {} is {}, not a ferry server", host_, port_, *what));
  }
}

bool ControlConnection::peer_has_closed() {
  // Another kind of server may have greeted us; those bytes would count as a broken
  // connection below, so they are looked at first.
  if (!answered_ && socket_.tls() == nullptr) {
    std::string chunk(512, '\0');
    const ssize_t n = ::recv(socket_.fd(), chunk.data(), chunk.size(), MSG_DONTWAIT | MSG_PEEK);
    if (n > 0) {
      const auto what =
          client::identify_foreign(buffer_ + chunk.substr(0, static_cast<std::size_t>(n)) + "\n");
      if (what) {
        throw ForeignServerError(
            fmt::format("{} port {} is {}, not a ferry server", host_, port_, *what));
      }
    }
  }
  return socket_.peer_has_closed();
}

void ControlConnection::check_foreign_after_failure() {
  if (answered_ || !socket_.valid() || socket_.tls() != nullptr) return;
  std::string chunk(512, '\0');
  const ssize_t n = ::recv(socket_.fd(), chunk.data(), chunk.size(), MSG_DONTWAIT);
  if (n > 0) buffer_ += chunk.substr(0, static_cast<std::size_t>(n));
  check_foreign(true);
}

std::string ControlConnection::read_answer() {
  for (;;) {
    check_foreign();
    const auto end = protocol::find_head_end(buffer_, protocol::kMaxHeadBytes);
    if (end.state == protocol::HeadEnd::State::too_long) {
      throw net::NetError(net::ErrorKind::protocol, "answer longer than 8 KiB");
    }
    if (end.state == protocol::HeadEnd::State::complete) {
      std::string head = buffer_.substr(0, end.length);
      buffer_.erase(0, end.length);
      return head;
    }
    char chunk[16384];
    const std::size_t n = socket_.read_some(chunk, sizeof chunk, budget());
    if (n == 0) {
      check_foreign(true);
      if (buffer_.empty()) {
        throw net::NetError(net::ErrorKind::closed, "connection closed by the server");
      }
      throw net::NetError(net::ErrorKind::protocol,
                          "the server closed the connection in the middle of an answer");
    }
    buffer_.append(chunk, n);
  }
}

void ControlConnection::drop() {
  socket_.reset();
  answers_.clear();
}

void ControlConnection::reconnect() {
  drop();
  fmt::print(stderr, "ferry: the control connection was closed; reconnecting to {} port {}\n",
             host_, port_);
  try {
    connect();
  } catch (const net::NetError& e) {
    if (e.kind() == net::ErrorKind::cancelled) throw;
    throw net::NetError(e.kind(),
                        fmt::format("cannot reconnect to {} port {}: {}", host_, port_, e.what()));
  }
}

void ControlConnection::reconnect_if_closed() {
  // (peer_has_closed drops unread bytes: not while an answer is on its way.)
  if (!socket_.valid() || (answers_.awaited() == 0 && peer_has_closed())) {
    reconnect();
  }
}

void ControlConnection::file_answer(std::string head) {
  trace_received(head);
  answered_ = true;
  const auto kind = answers_.arrived(std::move(head));
  if (!kind) throw net::NetError(net::ErrorKind::protocol, "an answer to no request");
  if (*kind != Kind::features) return;
  const auto parsed = protocol::parse_head(*answers_.take(Kind::features));
  if (!parsed.ok()) {
    throw net::NetError(net::ErrorKind::protocol, "bad answer from the server: " + parsed.error);
  }
  version_ = client::protocol_version(parsed.message);
  tokens_ = client::announces_tokens(parsed.message);
  login_offer_ = client::login_offer(parsed.message);
}

void ControlConnection::log_in() {
  if (!login_handler_ || login_sent_) return;
  login_sent_ = true;
  login_handler_();
}

bool ControlConnection::log_in_if_refused(const protocol::Message& answer) {
  // Only a server that announced logins gets one (a password goes nowhere else).
  if (!login_handler_ || login_sent_ || login_offer_ == client::LoginOffer::none ||
      !client::is_login_required(answer)) {
    return false;
  }
  log_in();
  return true;
}

std::string ControlConnection::await(Kind kind) {
  for (;;) {
    if (auto head = answers_.take(kind)) return std::move(*head);
    if (!answers_.awaiting(kind)) throw std::logic_error("awaiting an answer never asked for");
    file_answer(read_answer());
  }
}

void ControlConnection::take_arrived_heads() {
  for (;;) {
    check_foreign();
    const auto end = protocol::find_head_end(buffer_, protocol::kMaxHeadBytes);
    if (end.state == protocol::HeadEnd::State::too_long) {
      throw net::NetError(net::ErrorKind::protocol, "answer longer than 8 KiB");
    }
    if (end.state != protocol::HeadEnd::State::complete) return;
    std::string head = buffer_.substr(0, end.length);
    buffer_.erase(0, end.length);
    file_answer(std::move(head));
  }
}

void ControlConnection::write_reading(std::string_view data) {
  while (!data.empty()) {
    const short events = net::wait_for(socket_.fd(), POLLIN | POLLOUT, budget());
    if ((events & POLLIN) != 0) {
      char chunk[16384];
      const auto n = socket_.read_now(chunk, sizeof chunk);
      if (n == 0U) check_foreign(true);
      if (n == 0U) throw net::NetError(net::ErrorKind::closed, "connection closed by the server");
      if (n) {
        buffer_.append(chunk, *n);
        take_arrived_heads();
      }
    }
    if ((events & (POLLOUT | POLLERR | POLLHUP)) == 0) continue;
    data.remove_prefix(socket_.write_now(data));
  }
}

void ControlConnection::send(const std::string& requests, Kind kind, std::size_t count) {
  std::string data;
  if (!features_asked_) {
    data = client::features_request();
    answers_.sent(Kind::features);
    features_asked_ = true;
  }
  data += requests;
  for (std::size_t i = 0; i < count; ++i)
    answers_.sent(kind);
  trace_sent(data);
  if (kind == Kind::reply) {
    write_reading(data);
  } else {
    socket_.write_all(data, budget());
  }
}

std::string ControlConnection::read_open_answer(bool& prefetched) {
  bool reconnected = false;
  if (!socket_.valid() ||
      (answers_.pending(Kind::open) == 0 && answers_.awaited() == 0 && peer_has_closed())) {
    reconnect();
    reconnected = true;
  }
  for (;;) {
    try {
      prefetched = answers_.pending(Kind::open) > 0;
      if (!prefetched) send(client::open_request(tokens_ || trust_.tls()), Kind::open, 1);
      std::string head = await(Kind::open);
      const auto parsed = protocol::parse_head(head);
      if (parsed.ok() && log_in_if_refused(parsed.message)) continue;  // logged in: ask again
      return head;
    } catch (const net::NetError& e) {
      check_foreign_after_failure();
      // Whatever happened, the state of this connection is unknown now: a late answer
      // must not be taken for the next one.
      drop();
      if (reconnected || !is_closed_by_peer(e)) throw;
    }
    reconnect();
    reconnected = true;
  }
}

ControlConnection::OpenedPort ControlConnection::next_port() {
  for (;;) {
    OpenedPort opened;
    const std::string head = read_open_answer(opened.prefetched);
    protocol::Message answer;
    try {
      answer = parse_answer(head);
    } catch (const ServerError&) {
      // The server refused an OPEN sent a while ago; what counts is whether it refuses now.
      // (Once at most: the next answer is to a fresh OPEN.)
      if (opened.prefetched) continue;
      throw;
    } catch (const net::NetError&) {
      drop();
      throw;
    }
    const auto port = client::opened_port(answer);
    if (!port) {
      drop();
      throw_unexpected(answer, "OPENED <port>");
    }
    const auto token = client::opened_token(answer);
    if (!token) {
      drop();
      throw_unexpected(answer, "OPENED <port> with a TOKEN of 32 hex digits");
    }
    opened.port = *port;
    opened.token = *token;
    return opened;
  }
}

net::Link ControlConnection::connect_transfer(const OpenedPort& opened) {
  try {
    return trust_.connect_transfer(peer_.with_port(opened.port), budget());
  } catch (const net::NetError& e) {
    if (e.kind() == net::ErrorKind::cancelled || (opened.prefetched && is_refused(e))) throw;
    throw net::NetError(
        e.kind(), fmt::format("cannot connect to transfer port {}: {}", opened.port, e.what()));
  }
}

std::string ControlConnection::TransferConnection::request(std::string body) const {
  return client::with_token(std::move(body), token);
}

ControlConnection::TransferConnection ControlConnection::open_transfer(Prefetch prefetch) {
  OpenedPort opened = next_port();
  if (prefetch == Prefetch::before_connecting) prefetch_next();
  try {
    return {connect_transfer(opened), opened.token};
  } catch (const net::NetError& e) {
    // A prefetched port that the server has closed meanwhile (its --transfer-timeout passed
    // before this command came to it): a fresh one, once.
    if (!(opened.prefetched && is_refused(e))) throw;
  }
  opened = next_port();
  if (prefetch == Prefetch::before_connecting) prefetch_next();
  opened.prefetched = false;  // no second retry
  return {connect_transfer(opened), opened.token};
}

void ControlConnection::prefetch_next() {
  if (!prefetch_ || answers_.pending(Kind::open) > 0 || !socket_.valid()) return;
  try {
    send(client::open_request(tokens_ || trust_.tls()), Kind::open, 1);
  } catch (const net::NetError&) {
    drop();  // the next command reconnects
  }
}

std::optional<std::vector<ControlConnection::Reply>> ControlConnection::exchange(
    const std::vector<std::string>& requests) {
  if (version_ == 1) return std::nullopt;
  reconnect_if_closed();
  std::string data;
  for (const std::string& request : requests)
    data += request;
  std::vector<Reply> replies;
  replies.reserve(requests.size());
  try {
    send(data, Kind::reply, requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
      auto parsed = protocol::parse_head(await(Kind::reply));
      if (!parsed.ok()) {
        throw net::NetError(net::ErrorKind::protocol,
                            "bad answer from the server: " + parsed.error);
      }
      Reply reply{std::move(parsed.message), std::nullopt};
      reply.error = client::error_text(reply.message);
      replies.push_back(std::move(reply));
    }
  } catch (const net::NetError&) {
    check_foreign_after_failure();
    drop();
    throw;
  }
  // FEATURES was answered first: a version-1 server has refused each request as unknown.
  if (version_ == 1) return std::nullopt;
  // Sent before the server's FEATURES said it wants a login first: again, logged in.
  if (!replies.empty() && log_in_if_refused(replies.front().message)) return exchange(requests);
  return replies;
}

void ControlConnection::quit() {
  if (!socket_.valid()) return;
  try {
    const net::Timeout wait = std::min(timeout_, kQuitWait);
    trace_sent(client::quit_request());
    socket_.write_all(client::quit_request(), wait);
    // The answers still due come first, then BYE (or whatever: we close anyway).
    for (std::size_t answers = answers_.awaited() + 1; answers > 0; --answers) {
      trace_received(socket_.read_head(buffer_, wait));
    }
  } catch (const std::exception&) {
  }
  answers_.clear();
  socket_.reset();
}

}  // namespace ferry::cli
