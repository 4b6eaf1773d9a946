#include "login.hpp"

#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fmt/format.h>

#include "errors.hpp"
#include "ferry/client/login_request.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/interrupt.hpp"
#include "private_file.hpp"
#include "terminal_password.hpp"

namespace ferry::cli {
namespace {

constexpr int kLoginFailedStatus = 2;  // as when the server cannot be reached
constexpr int kPromptTries = 3;        // as ssh's NumberOfPasswordPrompts
constexpr std::size_t kMaxPasswordFile = std::size_t{64} << 10;
constexpr std::string_view kWrongPassword = "login failed";  // the server's answer to any mistake

// Ctrl-C (or another signal) ended the prompt or the wait: the session ends quietly.
[[noreturn]] void fail_on_signal() {
  const int signal_number = net::pending_signal();
  throw LoginError("", 128 + (signal_number != 0 ? signal_number : SIGINT));
}

std::string local_user_name() {
  passwd entry{};
  passwd* found = nullptr;
  char buffer[4096];
  if (::getpwuid_r(::getuid(), &entry, buffer, sizeof buffer, &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  for (const char* variable : {"USER", "LOGNAME"}) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the client reads its environment on one thread
    if (const char* name = std::getenv(variable); name != nullptr && *name != '\0') return name;
  }
  throw LoginError("the server requires a login and the local user has no name: give -u USER",
                   kLoginFailedStatus);
}

// The first line of a password file, without its line break.
std::string first_line(std::string text) {
  if (const auto end = text.find('\n'); end != std::string::npos) {
    ::explicit_bzero(text.data() + end, text.size() - end);
    text.resize(end);
  }
  if (!text.empty() && text.back() == '\r') text.pop_back();
  return text;
}

}  // namespace

Login::Login(ControlConnection& control, LoginOptions options)
    : control_(control), options_(std::move(options)) {}

Login::~Login() {
  control_.set_login_handler(nullptr);
  if (accepted_) ::explicit_bzero(accepted_->password.data(), accepted_->password.size());
}

void Login::start() {
  control_.set_login_handler([this] { log_in(); });
  // The password goes only to a server that takes logins: with a user, that is asked first.
  if (options_.user && control_.version() == 0) control_.probe();
  if (control_.version() == 0) return;
  const client::LoginOffer offer = control_.login_offer();
  if (offer == client::LoginOffer::none) {
    if (options_.user) {
      fmt::print(stderr, "ferry: the server does not take logins; continuing without\n");
    }
    return;
  }
  if (options_.user || offer == client::LoginOffer::required) control_.log_in();
}

void Login::log_in() {
  if (accepted_) {  // a new connection to the same server: what it took before
    if (auto refusal = send(*accepted_)) fail(accepted_->user, *refusal, "");
    return;
  }
  const std::string user = user_name();
  if (!control_.tls() && !options_.plaintext_chosen) {
    throw LoginError(
        fmt::format("not sending the password of {} to {} port {} in plaintext: the server did "
                    "not speak TLS, and someone on the path may have made it so; connect with "
                    "--plain to send it anyway",
                    client::printable(user), client::printable(options_.host), options_.port),
        kLoginFailedStatus);
  }
  if (auto refusal = client::refuse_login_value("the user name", user)) {
    throw LoginError(fmt::format("cannot log in as {}: {}", client::printable(user), *refusal),
                     kLoginFailedStatus);
  }
  if (auto stored = stored_password(user)) {
    try_stored(user, *stored);
    return;
  }
  if (!can_ask_password()) {
    throw LoginError(
        fmt::format("no password for {} at {} port {}: standard input is not a terminal to "
                    "ask at; give --password-file FILE, or an entry in {}",
                    client::printable(user), client::printable(options_.host), options_.port,
                    client::printable(netrc_.path())),
        kLoginFailedStatus);
  }
  ask(user);
}

std::string Login::user_name() {
  if (options_.user) return *options_.user;
  if (auto entry = netrc_.find(options_.host, ""); entry && entry->login) return *entry->login;
  return local_user_name();
}

std::optional<Login::StoredPassword> Login::stored_password(const std::string& user) {
  if (options_.password_file) {
    const std::string& path = *options_.password_file;
    PrivateFile file = read_private_file(path, kMaxPasswordFile, true);
    if (!file.text) {
      throw LoginError("--password-file: " + client::printable(file.error), kLoginFailedStatus);
    }
    if (file.text->empty()) {
      throw LoginError(fmt::format("--password-file: {} is empty", client::printable(path)),
                       kLoginFailedStatus);
    }
    return StoredPassword{first_line(std::move(*file.text)), "--password-file " + path};
  }
  if (auto entry = netrc_.find(options_.host, user); entry && entry->password) {
    return StoredPassword{std::move(*entry->password), netrc_.path()};
  }
  return std::nullopt;
}

void Login::try_stored(const std::string& user, const StoredPassword& stored) {
  const std::string detail = " (the password from " + client::printable(stored.source) + ")";
  if (auto refusal = client::refuse_login_value("the password", stored.password)) {
    fail(user, *refusal, detail);
  }
  Credentials credentials{user, stored.password};
  if (auto refusal = send(credentials)) fail(user, *refusal, detail);
  accepted_ = std::move(credentials);
}

void Login::ask(const std::string& user) {
  const std::string prompt =
      fmt::format("{}@{}'s password: ", client::printable(user), client::printable(options_.host));
  for (int attempt = 1;; ++attempt) {
    auto password = ask_password(prompt);
    if (!password) {
      if (net::pending_signal() != 0) fail_on_signal();
      throw LoginError("no password given", kLoginFailedStatus);
    }
    Credentials credentials{user, std::move(*password)};
    std::optional<std::string> refusal =
        client::refuse_login_value("the password", credentials.password);
    const bool sent = !refusal;
    if (sent) refusal = send(credentials);
    if (!refusal) {
      accepted_ = std::move(credentials);
      return;
    }
    ::explicit_bzero(credentials.password.data(), credentials.password.size());
    if ((sent && *refusal != kWrongPassword) || attempt == kPromptTries) {
      fail(user, *refusal, attempt > 1 ? fmt::format(" ({} tries)", attempt) : "");
    }
    fmt::print(stderr, "{}, please try again.\n", client::printable(*refusal));
  }
}

std::optional<std::string> Login::send(const Credentials& credentials) {
  std::optional<std::vector<ControlConnection::Reply>> replies;
  try {
    replies = control_.exchange({client::login_request(credentials.user, credentials.password)});
  } catch (const net::NetError& e) {
    if (e.kind() == net::ErrorKind::cancelled) fail_on_signal();
    throw LoginError(
        fmt::format("cannot log in at {} port {}: {}", client::printable(options_.host),
                    options_.port, client::printable(e.what())),
        kLoginFailedStatus);
  }
  if (!replies || replies->empty()) return "the server does not take logins";  // version 1
  const ControlConnection::Reply& reply = replies->front();
  if (reply.error) return *reply.error;
  if (!reply.message.is("OK")) return "unexpected answer to LOGIN: " + reply.message.verb;
  return std::nullopt;
}

void Login::fail(const std::string& user, const std::string& refusal,
                 const std::string& detail) const {
  throw LoginError(fmt::format("cannot log in as {} at {} port {}: {}{}", client::printable(user),
                               client::printable(options_.host), options_.port,
                               client::printable(refusal), detail),
                   kLoginFailedStatus);
}

}  // namespace ferry::cli
