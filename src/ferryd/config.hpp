#pragma once

// Every setting of ferryd and its default, in one place.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "users_file.hpp"

namespace ferryd {

struct ServerConfig {
  std::uint16_t port = 0;           // 0: the kernel picks a free port
  std::string bind_address;         // empty: every interface, IPv4 and IPv6
  std::string root = ".";           // the served directory
  bool read_only = false;           // PUT is refused
  bool allow_plain_login = false;   // LOGIN accepted without TLS (the password in clear)
  std::uint16_t data_port_min = 0;  // with data_port_max: the range `OPEN 0` picks from
  std::uint16_t data_port_max = 0;
  std::chrono::seconds transfer_timeout{30};  // unused transfer port; stalled transfer; head
  std::chrono::seconds idle_timeout{300};     // control connection without a command
  std::chrono::seconds head_timeout{30};      // a started message head must be complete by then
  std::chrono::seconds shutdown_grace{5};     // running transfers may finish after SIGTERM
  std::size_t max_sessions = 1000;  // lowered at start when the descriptor limit cannot hold it
  bool max_sessions_given = false;  // set on the command line: kept as given
  std::size_t max_sessions_per_address = 0;  // 0: no limit (many users behind one NAT)
  std::size_t max_open_ports = 16;           // per session: opened and not yet connected
  // A transfer is an opened port or a connected transfer connection. 0 below: sized from
  // the descriptor limit at start (descriptor_budget.hpp).
  std::size_t max_transfers = 0;               // in all
  std::size_t max_transfers_per_session = 16;  // per control session
  std::size_t max_transfers_per_address = 0;   // per client address, over its sessions
  std::size_t max_listings = 32;               // LS requests being listed at once
  std::uint64_t descriptor_limit = 0;          // in force after the start raised it (for the log)
  std::uint64_t min_rate = 1024;   // bytes/s a transfer must move, over each transfer_timeout
  unsigned threads = 0;            // 0: one per core
  std::string log_level = "info";  // applied after the first line, which is always logged
  // --users FILE: logins required; the file's users as main() read them (the path for the
  // messages). Empty users_file: anonymous, the whole root for everyone (the seed's mode).
  std::string users_file;
  std::vector<User> users;
  // TLS (server_tls.hpp): the operator's certificate chain and key, else an identity made in
  // the state folder (empty: $XDG_STATE_HOME/ferryd or ~/.local/state/ferryd).
  std::string tls_cert;
  std::string tls_key;
  std::string state_dir;
  bool require_tls = false;  // a plaintext client is answered ERROR and closed

  bool has_data_port_range() const { return data_port_min != 0; }
};

}  // namespace ferryd
