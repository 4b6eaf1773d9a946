#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/client/answer_queue.hpp"
#include "ferry/client/login_request.hpp"
#include "ferry/fs/fd.hpp"
#include "ferry/net/link.hpp"
#include "ferry/net/socket.hpp"
#include "ferry/protocol/message.hpp"
#include "server_trust.hpp"

namespace ferry::cli {

// The control connection: asks the server for transfer ports, sends the requests of
// version 2 (STAT, MKDIR, ...) and ends the session. Answers come in the order of the
// requests (client::AnswerQueue keeps that order), so requests are pipelined freely:
// FEATURES goes out with the first request of a connection, costing no round trip of its
// own, and a batch of DELETEs takes one round trip.
// It reconnects once, saying so on stderr, when the server has closed it (idle timeout).
//
// When more commands follow (a script), a transfer asks for the next command's port with
// prefetch_next() once at most kPrefetchDistance bytes are left to move, so that the answer
// is waiting when the next command starts: one round trip less per command. Not earlier,
// because the server closes a port nobody connects to after its --transfer-timeout.
class ControlConnection {
 public:
  static constexpr std::uint64_t kPrefetchDistance = std::uint64_t{1} << 20;

  // Whether open_transfer() itself asks for the next port, between the OPENED answer and
  // the connect: for a transfer that has at most kPrefetchDistance bytes to move anyway.
  enum class Prefetch { later, before_connecting };

  // The answer to one version-2 request: the message, or the text of its ERROR.
  struct Reply {
    protocol::Message message;
    std::optional<std::string> error;
  };

  ControlConnection(std::string host, std::string port, net::Timeout timeout,
                    TlsSettings tls_settings = {});

  // Connects at start; throws NetError with the reason.
  void connect();

  // Asks FEATURES now and waits for its answer (at the prompt, so that a server of another
  // kind is named before the first command). Throws ForeignServerError, NetError.
  void probe();

  // While set, no wait lasts past `deadline` (it fails timed_out): a completion must not
  // hold the prompt longer than --timeout in all. nullopt: each wait --timeout.
  using Clock = std::chrono::steady_clock;
  void set_deadline(std::optional<Clock::time_point> deadline) { deadline_ = deadline; }

  // The wait allowed now: --timeout, or what is left before the deadline.
  net::Timeout budget() const;

  // `OPEN 0` (or the answer to the one prefetch_next() sent), then connects to the opened
  // port at the address of the control connection. A prefetched port that refuses the
  // connection (the server has closed it meanwhile), or a prefetched OPEN answered with
  // ERROR, is replaced by a fresh `OPEN 0`, silently, once.
  // Throws ServerError when the server refuses, NetError on network failures.
  struct TransferConnection {
    net::Link socket;
    std::string token;  // the OPENED answer's TOKEN; empty when the server gave none
    // `body` (GET, PUT or LS) as it goes on this connection: with its token.
    std::string request(std::string body) const;
  };
  TransferConnection open_transfer(Prefetch prefetch = Prefetch::later);

  // Sends `OPEN 0` for the next command, when prefetching is on and no such OPEN is already
  // waiting for its answer. Never throws: on a failure the next command reconnects.
  void prefetch_next();

  // Sends version-2 requests (formatted heads) in one write, reading answers meanwhile so
  // that a long batch cannot fill both directions, and returns their answers in order.
  // nullopt when the server speaks version 1; once that is known nothing is sent.
  // Throws NetError on network failures and malformed answers.
  std::optional<std::vector<Reply>> exchange(const std::vector<std::string>& requests);

  // Whether the session is encrypted (known after connect()).
  bool tls() const { return trust_.tls(); }

  // The server's protocol version from its FEATURES answer; 0 while not known yet.
  int version() const { return version_; }

  // What the FEATURES answer said about logins (issue 9); none while it is not known yet.
  client::LoginOffer login_offer() const { return login_offer_; }

  // The login (login.hpp): `handler` sends LOGIN, and throws LoginError when it fails. It
  // runs through log_in(), and by itself when the server answers a request with `ERROR
  // login required` on a connection that has not logged in, which then sends the request
  // again: a script's first request (it goes out with FEATURES, before its answer) and
  // every request after a reconnection.
  void set_login_handler(std::function<void()> handler) { login_handler_ = std::move(handler); }
  // Runs the handler for this connection (at most once per connection).
  void log_in();

  // `QUIT`, a short wait for `BYE` (after the answers still due), close. Never throws.
  void quit();

  void set_prefetch(bool more_commands_follow) { prefetch_ = more_commands_follow; }

 private:
  using Kind = client::AnswerQueue::Kind;

  struct OpenedPort {
    std::uint16_t port = 0;
    bool prefetched = false;  // the answer to an OPEN that prefetch_next() sent
    std::string token;
  };

  OpenedPort next_port();
  std::string read_open_answer(bool& prefetched);
  // log_in(), when `answer` is `ERROR login required` and this connection has not logged
  // in yet; whether it did (then the caller asks again).
  bool log_in_if_refused(const protocol::Message& answer);
  net::Link connect_transfer(const OpenedPort& opened);
  void reconnect();
  void reconnect_if_closed();
  void drop();  // the connection's state is unknown: close it, forget what was asked

  // Writes `requests` (FEATURES before them when this connection has not asked it yet),
  // `count` of them of `kind`.
  void send(const std::string& requests, Kind kind, std::size_t count);
  // write_all, taking the answers that arrive meanwhile.
  void write_reading(std::string_view data);
  void take_arrived_heads();
  void file_answer(std::string head);
  // Reads one answer head, naming the peer when its first bytes show another kind of
  // server (ForeignServerError).
  std::string read_answer();
  void check_foreign(bool at_end = false) const;
  // After a failed write or read: the bytes already there may still tell what the peer is.
  void check_foreign_after_failure();
  bool peer_has_closed();  // net::peer_has_closed, naming another kind of server first
  // Reads answers until the oldest one of `kind` has come; returns it.
  std::string await(Kind kind);

  std::string host_;
  std::string port_;
  net::Timeout timeout_;
  ServerTrust trust_;
  net::Link socket_;
  net::Endpoint peer_;
  std::string buffer_;  // bytes received after the last answer
  bool prefetch_ = false;
  bool features_asked_ = false;  // on this connection
  int version_ = 0;
  // FEATURES said `TOKENS: yes`: every OPEN asks for a token. Over TLS every OPEN does
  // anyway, the first one too (a server that speaks TLS gives tokens, and requires them).
  bool tokens_ = false;
  bool answered_ = false;  // a ferry answer came on this connection
  client::LoginOffer login_offer_ = client::LoginOffer::none;
  std::function<void()> login_handler_;
  bool login_sent_ = false;  // on this connection
  std::optional<Clock::time_point> deadline_;
  client::AnswerQueue answers_;
};

}  // namespace ferry::cli
