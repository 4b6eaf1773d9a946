#pragma once

// The login of issue 9 on the control connection (PROTOCOL.md, "LOGIN"), as ssh does it:
//
// - Who: the user given (`-u USER` or `USER@` in the address). Given none, the client logs
//   in only when the server's FEATURES says `LOGIN: required`, then as the login of the
//   .netrc entry for the host, else as the local user (ssh's default). A user given to a
//   server that takes no logins (a server without users, a seed server) is said on stderr
//   and the session goes on without.
// - The password, never from the command line: `--password-file FILE` (its first line),
//   else the .netrc entry for the host and user (netrc_file.hpp), else asked at the
//   terminal without echo, `alice@host's password: `, up to 3 times when the server says
//   `login failed`. A password from a file is tried once. Without a terminal (a script)
//   and without either file, the login fails at once: nothing waits for an answer.
// - It goes only to a server that announced LOGIN in its FEATURES answer, which is
//   awaited first when a user was given, and only over TLS unless --plain was given.
// A failure throws LoginError, which ends the session with exit status 2.

#include <optional>
#include <string>

#include "control_connection.hpp"
#include "netrc_file.hpp"

namespace ferry::cli {

struct LoginOptions {
  std::optional<std::string> user;           // -u or USER@; none: only when required
  std::optional<std::string> password_file;  // --password-file
  std::string host;                          // as given: for .netrc and the prompt
  std::string port;                          // for messages
  // --plain: the user chose plaintext. Otherwise no password goes on a connection that is
  // not TLS (a fallback an attacker on the path could have forced: docs/DESIGN.md).
  bool plaintext_chosen = false;
};

class Login {
 public:
  Login(ControlConnection& control, LoginOptions options);
  Login(const Login&) = delete;
  Login& operator=(const Login&) = delete;
  ~Login();

  // Once connected: becomes the control connection's login handler; when a user was given,
  // asks FEATURES now (unless known) and logs in, or says that the server takes no logins;
  // when the server is known to require a login, logs in. A script that gave no user finds
  // out with its first request (ControlConnection::set_login_handler).
  // Throws LoginError, and what ControlConnection::probe() throws.
  void start();

 private:
  struct Credentials {
    std::string user;
    std::string password;
  };
  struct StoredPassword {
    std::string password;
    std::string source;  // for messages: `--password-file pw.txt`, `/home/me/.netrc`
  };

  void log_in();  // the handler
  std::string user_name();
  std::optional<StoredPassword> stored_password(const std::string& user);
  void try_stored(const std::string& user, const StoredPassword& stored);
  void ask(const std::string& user);
  // Sends LOGIN; the server's refusal (its ERROR text), or nullopt when it took it.
  std::optional<std::string> send(const Credentials& credentials);
  [[noreturn]] void fail(const std::string& user, const std::string& refusal,
                         const std::string& detail) const;

  ControlConnection& control_;
  LoginOptions options_;
  NetrcFile netrc_;
  std::optional<Credentials> accepted_;  // what the server took, for a reconnection
};

}  // namespace ferry::cli
