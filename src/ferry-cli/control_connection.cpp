#include "control_connection.hpp"

#include <cerrno>
#include <utility>

#include <fmt/format.h>

#include "answer.hpp"
#include "errors.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/net/error.hpp"

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

ControlConnection::ControlConnection(std::string host, std::string port, net::Timeout timeout)
    : host_(std::move(host)), port_(std::move(port)), timeout_(timeout) {}

void ControlConnection::connect() {
  buffer_.clear();
  opens_in_flight_ = 0;
  socket_ = net::connect_to(host_, port_, timeout_);
  peer_ = net::peer_of(socket_.get());
}

void ControlConnection::drop() {
  socket_.reset();
  opens_in_flight_ = 0;
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

std::string ControlConnection::read_open_answer(bool& prefetched) {
  bool reconnected = false;
  // (peer_has_closed drops unread bytes: not while a prefetched answer is on its way.)
  if (!socket_.valid() || (opens_in_flight_ == 0 && net::peer_has_closed(socket_.get()))) {
    reconnect();
    reconnected = true;
  }
  for (;;) {
    try {
      prefetched = opens_in_flight_ > 0;
      if (prefetched) {
        --opens_in_flight_;
      } else {
        net::write_all(socket_.get(), client::open_request(), timeout_);
      }
      return net::read_head(socket_.get(), buffer_, timeout_);
    } catch (const net::NetError& e) {
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
    opened.port = *port;
    return opened;
  }
}

fs::Fd ControlConnection::connect_transfer(const OpenedPort& opened) {
  try {
    return net::connect_to(peer_.with_port(opened.port), timeout_);
  } catch (const net::NetError& e) {
    if (e.kind() == net::ErrorKind::cancelled || (opened.prefetched && is_refused(e))) throw;
    throw net::NetError(
        e.kind(), fmt::format("cannot connect to transfer port {}: {}", opened.port, e.what()));
  }
}

fs::Fd ControlConnection::open_transfer(Prefetch prefetch) {
  OpenedPort opened = next_port();
  if (prefetch == Prefetch::before_connecting) prefetch_next();
  try {
    return connect_transfer(opened);
  } catch (const net::NetError& e) {
    // A prefetched port that the server has closed meanwhile (its --transfer-timeout passed
    // before this command came to it): a fresh one, once.
    if (!(opened.prefetched && is_refused(e))) throw;
  }
  opened = next_port();
  if (prefetch == Prefetch::before_connecting) prefetch_next();
  opened.prefetched = false;  // no second retry
  return connect_transfer(opened);
}

void ControlConnection::prefetch_next() {
  if (!prefetch_ || opens_in_flight_ > 0 || !socket_.valid()) return;
  try {
    net::write_all(socket_.get(), client::open_request(), timeout_);
    ++opens_in_flight_;
  } catch (const net::NetError&) {
    drop();  // the next command reconnects
  }
}

void ControlConnection::quit() {
  if (!socket_.valid()) return;
  try {
    const net::Timeout wait = std::min(timeout_, kQuitWait);
    net::write_all(socket_.get(), client::quit_request(), wait);
    // The answers to prefetched OPENs come first, then BYE (or whatever: we close anyway).
    for (int answers = opens_in_flight_ + 1; answers > 0; --answers) {
      net::read_head(socket_.get(), buffer_, wait);
    }
  } catch (const std::exception&) {
  }
  opens_in_flight_ = 0;
  socket_.reset();
}

}  // namespace ferry::cli
