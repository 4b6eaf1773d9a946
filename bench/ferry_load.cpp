// ferry-load: the load generator of the benchmark's 500-client row (issue 3, bench/run.py).
//
//   ferry-load --host 127.0.0.1 --port P --clients 500 --requests 10 --file NAME
//              [--file NAME2 ...] [--size BYTES] [--timeout SECONDS]
//
// Every client holds one control connection. All of them connect first; then, all at once,
// each runs --requests GETs one after the other: `OPEN 0` on its control connection, connect
// to the opened port, `GET` the file (client i, request j fetches file (i * requests + j) mod
// the number of --file options), read the answer head and FILESIZE bytes to EOF, check the
// count (and FILESIZE against --size when given); then `QUIT`. Latency of one GET = from
// sending its OPEN to the EOF after its last byte. Prints one JSON line:
//
//   {"clients":500,"requests":10,"ok":5000,"errors":0,"wall_s":...,"req_per_s":...,
//    "p50_ms":...,"p90_ms":...,"p99_ms":...,"max_ms":...,...}
//
// wall_s runs from the start of the GETs to the end of the last client (QUIT answered);
// the connect phase before it is setup_s. Every wait (connect, write, read) is bounded by
// --timeout (default 30 s): a client whose operation outlasts it is closed and counted as
// failed. Exit status 1 when any request (or any QUIT) failed, 2 on bad arguments.
//
// One thread, one io_context, C++20 coroutines (asio, as ferryd): the client is one process
// on one core, so that the server keeps the rest of the machine. Nothing is pinned.

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json_text.hpp"

namespace {

using asio::awaitable;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kMaxHead = 8192;  // docs/PROTOCOL.md, Limits

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  unsigned clients = 500;
  unsigned requests = 10;
  std::vector<std::string> files;
  std::optional<std::uint64_t> size;
  double timeout = 30.0;
};

// One client: its sockets, the deadline of the wait it is in, its outcome.
struct Client {
  explicit Client(asio::io_context& io) : control(io), data(io) {}
  tcp::socket control;
  tcp::socket data;
  std::string buffer;  // control connection's unread bytes
  Clock::time_point deadline = Clock::time_point::max();
  bool timed_out = false;
  bool connected = false;
  std::string error;  // first failure; empty = fine so far
};

struct Run {
  Options options;
  asio::io_context io{1};
  tcp::endpoint server;
  Clock::duration timeout{};
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<std::uint32_t> latencies_us;  // successful GETs
  unsigned quit_failures = 0;
  unsigned active = 0;
  Clock::time_point last_done{};
  asio::steady_timer ticker{io};
  // Body bytes are counted and dropped: one thread, so one buffer serves every socket.
  std::array<char, 64 * 1024> sink{};
};

// The failure of one step: what it was and why.
struct Failure {
  std::string text;
};

std::string describe(const Client& c, std::string_view step, const std::error_code& ec) {
  std::string out(step);
  if (c.timed_out) {
    out += ": timed out";
  } else if (ec) {
    out += ": " + ec.message();
  }
  return out;
}

void arm(Run& run, Client& c) {
  c.deadline = Clock::now() + run.timeout;
}

// Checks every client's deadline a few times per timeout; closes the sockets of one whose
// wait outlasted it, which completes that wait with an error.
awaitable<void> watchdog(Run& run) {
  const auto tick = std::clamp<Clock::duration>(run.timeout / 10, std::chrono::milliseconds(10),
                                                std::chrono::seconds(1));
  while (run.active > 0) {
    run.ticker.expires_after(tick);
    co_await run.ticker.async_wait(use_nothrow);
    const auto now = Clock::now();
    for (auto& c : run.clients) {
      if (c->deadline <= now) {
        c->timed_out = true;
        c->deadline = Clock::time_point::max();
        std::error_code ignored;
        c->control.close(ignored);
        c->data.close(ignored);
      }
    }
  }
}

void client_done(Run& run) {
  if (--run.active == 0) {
    run.last_done = Clock::now();
    run.ticker.cancel();
  }
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20);
         });
}

// Reads one message head ("...\n\n") from `socket` into `buffer`; returns its length
// (the terminating empty line included), bytes after it stay in `buffer`.
awaitable<std::size_t> read_head(Run& run, Client& c, tcp::socket& socket, std::string& buffer,
                                 std::string_view step) {
  std::size_t scanned = 0;
  for (;;) {
    const auto pos = buffer.find("\n\n", scanned > 0 ? scanned - 1 : 0);
    if (pos != std::string::npos) co_return pos + 2;
    scanned = buffer.size();
    if (buffer.size() >= kMaxHead)
      throw Failure{std::string(step) + ": head longer than 8192 bytes"};
    const std::size_t old = buffer.size();
    buffer.resize(std::max<std::size_t>(old + 512, 512));
    arm(run, c);
    auto [ec, n] = co_await socket.async_read_some(
        asio::buffer(buffer.data() + old, buffer.size() - old), use_nothrow);
    buffer.resize(old + n);
    if (ec) {
      throw Failure{describe(c, step, ec) +
                    (buffer.empty() ? "" : " (after " + std::to_string(buffer.size()) + " bytes)")};
    }
  }
}

awaitable<void> write_all(Run& run, Client& c, tcp::socket& socket, std::string_view bytes,
                          std::string_view step) {
  arm(run, c);
  auto [ec, n] = co_await asio::async_write(socket, asio::buffer(bytes), use_nothrow);
  if (ec) throw Failure{describe(c, step, ec)};
}

// "OPENED <port>" → port.
std::uint16_t parse_opened(std::string_view head) {
  const std::string_view line = head.substr(0, head.find('\n'));
  if (line.size() < 8 || !iequals(line.substr(0, 7), "OPENED ")) {
    throw Failure{"OPEN answered: " + std::string(line.substr(0, 200))};
  }
  unsigned port = 0;
  const auto digits = line.substr(7);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || p != digits.data() + digits.size() || port == 0 || port > 65535) {
    throw Failure{"OPEN answered: " + std::string(line.substr(0, 200))};
  }
  return static_cast<std::uint16_t>(port);
}

// "OK\nFILESIZE: n\n...\n\n" → n.
std::uint64_t parse_ok(std::string_view head) {
  std::size_t eol = head.find('\n');
  const std::string_view first = head.substr(0, eol);
  if (!iequals(first, "OK")) throw Failure{"GET answered: " + std::string(first.substr(0, 200))};
  std::optional<std::uint64_t> size;
  while (eol + 1 < head.size()) {
    const std::size_t next = head.find('\n', eol + 1);
    const std::string_view line = head.substr(eol + 1, next - eol - 1);
    eol = next;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || !iequals(line.substr(0, colon), "FILESIZE")) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.remove_prefix(1);
    std::uint64_t n = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc() || p != value.data() + value.size()) {
      throw Failure{"GET answered a bad FILESIZE: " + std::string(value.substr(0, 100))};
    }
    size = n;
  }
  if (!size) throw Failure{"GET answered OK without FILESIZE"};
  return *size;
}

// One GET: OPEN, connect, request, head, body to EOF. Throws Failure.
awaitable<void> one_get(Run& run, Client& c, const std::string& request) {
  const auto t0 = Clock::now();
  co_await write_all(run, c, c.control, "OPEN 0\n\n", "write OPEN");
  const std::size_t head_len = co_await read_head(run, c, c.control, c.buffer, "read OPENED");
  const std::uint16_t port = parse_opened(std::string_view(c.buffer).substr(0, head_len));
  c.buffer.erase(0, head_len);

  std::error_code ec;
  c.data.open(tcp::v4(), ec);
  if (ec) throw Failure{"socket: " + ec.message()};
  c.data.set_option(tcp::no_delay(true), ec);
  arm(run, c);
  std::tie(ec) =
      co_await c.data.async_connect(tcp::endpoint(run.server.address(), port), use_nothrow);
  if (ec) throw Failure{describe(c, "connect to the transfer port", ec)};
  co_await write_all(run, c, c.data, request, "write GET");

  std::string head;  // small; any body bytes that came with the head are counted below
  const std::size_t len = co_await read_head(run, c, c.data, head, "read the GET answer");
  const std::uint64_t announced = parse_ok(std::string_view(head).substr(0, len));
  if (run.options.size && announced != *run.options.size) {
    throw Failure{"FILESIZE " + std::to_string(announced) + ", expected " +
                  std::to_string(*run.options.size)};
  }
  std::uint64_t got = head.size() - len;
  for (;;) {
    arm(run, c);
    auto [rec, n] = co_await c.data.async_read_some(asio::buffer(run.sink), use_nothrow);
    got += n;
    if (rec == asio::error::eof) break;
    if (rec) throw Failure{describe(c, "read the body", rec)};
  }
  const auto t1 = Clock::now();
  c.data.close(ec);
  if (got != announced) {
    throw Failure{"body of " + std::to_string(got) + " bytes, FILESIZE " +
                  std::to_string(announced)};
  }
  run.latencies_us.push_back(static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(t1 - t0).count()));
}

awaitable<void> connect_client(Run& run, Client& c) {
  std::error_code ec;
  c.control.open(tcp::v4(), ec);
  if (!ec) c.control.set_option(tcp::no_delay(true), ec);
  if (!ec) {
    arm(run, c);
    std::tie(ec) = co_await c.control.async_connect(run.server, use_nothrow);
  }
  c.deadline = Clock::time_point::max();
  if (ec) {
    c.error = describe(c, "connect the control connection", ec);
  } else {
    c.connected = true;
  }
  client_done(run);
}

awaitable<void> run_client(Run& run, Client& c, std::size_t index) {
  const auto& files = run.options.files;
  if (c.connected) {
    try {
      for (unsigned j = 0; j < run.options.requests; ++j) {
        const std::string& name = files[(index * run.options.requests + j) % files.size()];
        co_await one_get(run, c, "GET\nFILENAME: " + name + "\n\n");
      }
    } catch (const Failure& f) {
      c.error = f.text;
    }
    // QUIT, even after a failed GET: BYE, then EOF.
    if (c.control.is_open()) {
      try {
        co_await write_all(run, c, c.control, "QUIT\n\n", "write QUIT");
        const std::size_t len = co_await read_head(run, c, c.control, c.buffer, "read BYE");
        if (!iequals(std::string_view(c.buffer).substr(0, std::min<std::size_t>(len, 4)),
                     "BYE\n")) {
          throw Failure{"QUIT answered: " + c.buffer.substr(0, std::min<std::size_t>(len, 200))};
        }
        for (;;) {
          arm(run, c);
          auto [ec, n] = co_await c.control.async_read_some(asio::buffer(run.sink), use_nothrow);
          if (ec == asio::error::eof) break;
          if (ec) throw Failure{describe(c, "read EOF after BYE", ec)};
        }
      } catch (const Failure& f) {
        ++run.quit_failures;
        if (c.error.empty()) c.error = f.text;
      }
    } else if (c.error.empty()) {
      c.error = "control connection closed";
    }
  }
  c.deadline = Clock::time_point::max();
  std::error_code ignored;
  c.control.close(ignored);
  c.data.close(ignored);
  client_done(run);
}

// Runs `body` for every client at once, with the watchdog, until all are done.
template <class Body>
void phase(Run& run, Body body) {
  run.active = static_cast<unsigned>(run.clients.size());
  for (std::size_t i = 0; i < run.clients.size(); ++i) {
    asio::co_spawn(run.io, body(*run.clients[i], i), asio::detached);
  }
  asio::co_spawn(run.io, watchdog(run), asio::detached);
  run.io.restart();
  run.io.run();
}

[[noreturn]] void usage(const std::string& why) {
  std::fprintf(stderr,
               "ferry-load: %s\nusage: ferry-load --host ADDR --port P --clients N --requests K "
               "--file NAME [--file NAME ...] [--size BYTES] [--timeout SECONDS]\n",
               why.c_str());
  std::exit(2);
}

template <class T>
T number(const char* flag, std::string_view text, T lo, T hi) {
  T v{};
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || v < lo || v > hi) {
    usage(std::string("bad value for ") + flag + ": " + std::string(text));
  }
  return v;
}

Options parse(int argc, char** argv) {
  Options o;
  bool have_port = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-h" || a == "--help") usage("a load generator for ferryd");
    if (i + 1 >= argc) usage("missing value after " + std::string(a));
    const std::string_view v = argv[++i];
    if (a == "--host") {
      o.host = v;
    } else if (a == "--port") {
      o.port = number<std::uint16_t>("--port", v, 1, 65535);
      have_port = true;
    } else if (a == "--clients") {
      o.clients = number<unsigned>("--clients", v, 1, 100000);
    } else if (a == "--requests") {
      o.requests = number<unsigned>("--requests", v, 1, 1000000);
    } else if (a == "--file") {
      if (v.empty() || v.find('\n') != std::string_view::npos) usage("bad --file");
      o.files.emplace_back(v);
    } else if (a == "--size") {
      o.size = number<std::uint64_t>("--size", v, 0, UINT64_MAX);
    } else if (a == "--timeout") {
      const std::string s(v);
      char* end = nullptr;
      o.timeout = std::strtod(s.c_str(), &end);
      if (end != s.c_str() + s.size() || !(o.timeout > 0) || o.timeout > 86400) {
        usage("bad value for --timeout: " + s);
      }
    } else {
      usage("unknown option " + std::string(a));
    }
  }
  if (!have_port) usage("--port is required");
  if (o.files.empty()) usage("--file is required");
  return o;
}

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// Nearest rank, as bench/run.py's pct(): the smallest value with at least p % at or below it.
double percentile_ms(const std::vector<std::uint32_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1] / 1000.0;
}

using ferry::bench::json_string;

}  // namespace

int main(int argc, char** argv) {
  Run run;
  run.options = parse(argc, argv);
  const Options& o = run.options;

  // Soft fd limit up to the hard one: every client holds two sockets at its peak.
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  getrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 2ULL * o.clients + 16) {
    std::fprintf(stderr, "ferry-load: fd limit %llu too low for %u clients\n",
                 static_cast<unsigned long long>(rl.rlim_cur), o.clients);
    return 2;
  }

  std::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec) usage("bad --host (an IP address): " + o.host);
  run.server = tcp::endpoint(address, o.port);
  run.timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.timeout));
  run.clients.reserve(o.clients);
  for (unsigned i = 0; i < o.clients; ++i)
    run.clients.push_back(std::make_unique<Client>(run.io));
  run.latencies_us.reserve(std::size_t{o.clients} * o.requests);

  const auto s0 = Clock::now();
  phase(run, [&run](Client& c, std::size_t) { return connect_client(run, c); });
  const auto s1 = Clock::now();
  const double cpu0 = cpu_seconds();
  phase(run, [&run](Client& c, std::size_t i) { return run_client(run, c, i); });
  const double cpu1 = cpu_seconds();

  const double setup_s = std::chrono::duration<double>(s1 - s0).count();
  const double wall_s = std::chrono::duration<double>(run.last_done - s1).count();
  auto& lat = run.latencies_us;
  std::sort(lat.begin(), lat.end());
  const std::size_t total = std::size_t{o.clients} * o.requests;
  const std::size_t ok = lat.size();
  std::map<std::string, unsigned> kinds;
  std::string first_error;
  for (const auto& c : run.clients) {
    if (!c->error.empty()) {
      if (first_error.empty()) first_error = c->error;
      ++kinds[c->error];
    }
  }
  for (const auto& [text, count] : kinds) {
    std::fprintf(stderr, "ferry-load: %u client(s): %s\n", count, text.c_str());
  }
  std::printf(
      "{\"clients\":%u,\"requests\":%u,\"total\":%zu,\"ok\":%zu,\"errors\":%zu,"
      "\"quit_errors\":%u,\"wall_s\":%.6f,\"req_per_s\":%.1f,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"max_ms\":%.3f,\"setup_s\":%.6f,\"client_cpu_s\":%.3f,"
      "\"first_error\":%s}\n",
      o.clients, o.requests, total, ok, total - ok, run.quit_failures, wall_s,
      wall_s > 0 ? static_cast<double>(ok) / wall_s : 0.0, percentile_ms(lat, 50),
      percentile_ms(lat, 90), percentile_ms(lat, 99), lat.empty() ? 0.0 : lat.back() / 1000.0,
      setup_s, cpu1 - cpu0, first_error.empty() ? "null" : json_string(first_error).c_str());
  std::fflush(stdout);
  return (ok == total && run.quit_failures == 0) ? 0 : 1;
}
