// ferry-mover-compare: the ways to move a file through a TCP connection, side by side on
// loopback (issue 8, section 4; `bench/run.py --only movers`; docs/DESIGN.md, "Performance").
//
//   ferry-mover-compare [--dir DIR] [--size BYTES] [--repeats N] [--max-seconds S]
//                       [--timeout S] [--pin] [--json]
//
// One cached file (--size, default 1 GiB, with a K, M or G suffix; made in --dir, default
// /dev/shm, as an O_TMPFILE: nothing is left behind) goes from a sending thread to a
// receiving thread of this process over a fresh 127.0.0.1 connection, once per method and
// repeat. Two groups:
//
//   sending, the receiver fixed (read(2) into 1 MiB, discarded):
//     sendfile      sendfile(2) in 8 MiB calls (ferryd's GET, the ferry client's PUT)
//     splice        splice(2) file -> pipe -> socket, a 1 MiB pipe
//     rw-1MiB       pread(2) + write(2), 1 MiB buffer
//     rw-256KiB     the same, 256 KiB (ferry's buffer fallback)
//   receiving into a new file in --dir, the sender fixed (sendfile):
//     splice        splice(2) socket -> pipe -> file, a 1 MiB pipe (ferryd's PUT)
//     rw-1MiB       read(2) + write(2), 1 MiB buffer
//     rw-256KiB     the same, 256 KiB
//
// Within a repeat the methods are interleaved, the order rotated from repeat to repeat.
// Throughput = bytes / (the sender's first call to the receiver's EOF); CPU = each thread's
// CPU time (CLOCK_THREAD_CPUTIME_ID) over its own loop, per GiB moved, and the two added.
// On this kernel (tick accounting, no IRQ_TIME_ACCOUNTING) the softirq work that runs on a
// thread's stack is charged to that thread. On loopback the receiving side's TCP processing
// runs in softirq either on the sender's stack (its transmit runs the loopback receive) or
// on the receiver's (when it holds the socket at that moment), so the split between sender
// and receiver moves with the scheduling, and part of what a real NIC would leave to the
// receiving host is in the sender's figure; their sum is the stable one. Work deferred to
// ksoftirqd is charged to neither thread.
//
// --pin puts the sending thread on CPU 0 and the receiving one on CPU 1 (otherwise the
// scheduler places them, as it does ferryd and its clients).
//
// Before the measured repeats every method moves 8 MiB + 12,345 bytes into a file that is
// compared with the source (a wrong mover fails the run); in the measured repeats every
// received file is compared with the source after its timing ends. Bounded: every socket
// wait by --timeout (default 30 s), the whole run by --max-seconds (default 300 s: no trial
// starts after it, and the run counts as failed). Prints a table; with --json one JSON line
// after it. Exit status 1 when a trial failed or the time ran out, 2 on bad arguments.

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "json_text.hpp"

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;
constexpr std::uint64_t kGiB = kMiB * 1024;
constexpr std::size_t kSendfileChunk = std::size_t{8} * kMiB;  // as ferryd's cache window
constexpr std::size_t kPipeSize = std::size_t{1} * kMiB;       // as ferryd's PUT pipe
constexpr std::size_t kDiscardBuffer = std::size_t{1} * kMiB;
constexpr std::uint64_t kCheckSize = 8 * kMiB + 12345;

struct Options {
  std::string dir = "/dev/shm";
  std::uint64_t size = kGiB;
  unsigned repeats = 5;
  double max_seconds = 300;
  int timeout_ms = 30000;
  bool json = false;
  bool pin = false;
};

enum class Send { sendfile, splice, read_write };
enum class Receive { discard, splice, read_write };

struct Method {
  std::string group;  // "send" or "receive"
  std::string name;
  Send send = Send::sendfile;
  std::size_t send_buffer = 0;
  Receive receive = Receive::discard;
  std::size_t receive_buffer = 0;
};

std::vector<Method> methods() {
  constexpr std::size_t big = kMiB;
  constexpr std::size_t small = 256 * kKiB;
  return {
      {"send", "sendfile", Send::sendfile, 0, Receive::discard, kDiscardBuffer},
      {"send", "splice", Send::splice, 0, Receive::discard, kDiscardBuffer},
      {"send", "rw-1MiB", Send::read_write, big, Receive::discard, kDiscardBuffer},
      {"send", "rw-256KiB", Send::read_write, small, Receive::discard, kDiscardBuffer},
      {"receive", "splice", Send::sendfile, 0, Receive::splice, 0},
      {"receive", "rw-1MiB", Send::sendfile, 0, Receive::read_write, big},
      {"receive", "rw-256KiB", Send::sendfile, 0, Receive::read_write, small},
  };
}

std::string errno_text(int error) {
  return std::generic_category().message(error);
}

// snprintf into a std::string (every use here is short: numbers and a few words).
template <class... Args>
std::string text(const char* format, Args... args) {
  std::array<char, 128> buffer{};
  const int n = std::snprintf(buffer.data(), buffer.size(), format, args...);
  return n < 0 ? std::string() : std::string(buffer.data());
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail_errno(const std::string& what) {
  throw Failure(what + ": " + errno_text(errno));
}

// A file in `dir` with no name (O_TMPFILE), or a named one unlinked at once where the file
// system lacks O_TMPFILE: either way it goes when its descriptor closes.
Fd anonymous_file(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return Fd(fd);
  std::string name = dir + "/ferry-mover-compare-XXXXXX";
  const int named = ::mkostemp(name.data(), O_CLOEXEC);
  if (named < 0) fail_errno("cannot create a file in " + dir);
  ::unlink(name.c_str());
  return Fd(named);
}

// `size` bytes of xorshift64 output: incompressible, and a misplaced block shows.
void fill(int fd, std::uint64_t size) {
  std::vector<std::uint64_t> block(kMiB / sizeof(std::uint64_t));
  std::uint64_t state = 0x9e3779b97f4a7c15ULL;
  for (std::uint64_t done = 0; done < size;) {
    for (auto& word : block) {
      state ^= state << 13U;
      state ^= state >> 7U;
      state ^= state << 17U;
      word = state;
    }
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(size - done, kMiB));
    const ssize_t n = ::pwrite(fd, block.data(), want, static_cast<off_t>(done));
    if (n <= 0) fail_errno("cannot write the source file");
    done += static_cast<std::uint64_t>(n);
  }
}

void write_all(int fd, const char* data, std::size_t length, const char* what) {
  while (length > 0) {
    const ssize_t n = ::write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(what);
    data += n;
    length -= static_cast<std::size_t>(n);
  }
}

// Both ends of a pipe of kPipeSize bytes (root and below /proc/sys/fs/pipe-max-size: granted).
struct Pipe {
  Fd read_end;
  Fd write_end;
  Pipe() {
    std::array<int, 2> ends{};
    if (::pipe2(ends.data(), O_CLOEXEC) != 0) fail_errno("pipe2");
    read_end = Fd(ends[0]);
    write_end = Fd(ends[1]);
    ::fcntl(write_end.get(), F_SETPIPE_SZ, static_cast<int>(kPipeSize));
  }
};

// Everything from the pipe into `out` (at *offset when given).
void drain(Pipe& pipe, int out, std::size_t in_pipe, loff_t* offset, unsigned flags,
           const char* what) {
  while (in_pipe > 0) {
    const ssize_t n = ::splice(pipe.read_end.get(), nullptr, out, offset, in_pipe, flags);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail_errno(what);
    in_pipe -= static_cast<std::size_t>(n);
  }
}

// CPU seconds of the calling thread: its scheduler run time (CLOCK_THREAD_CPUTIME_ID), exact
// to the nanosecond. The user/system split is left out: with tick accounting it is a sample
// of 250 ticks a second, too coarse to split a transfer of a few hundred milliseconds.
double thread_cpu() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

struct Side {
  std::string error;  // empty: fine
  double cpu = 0;     // CPU seconds over the side's loop
  Clock::time_point start;
  Clock::time_point end;
  std::uint64_t bytes = 0;
};

void send_file(const Method& m, int socket, int file, std::uint64_t size) {
  if (m.send == Send::sendfile) {
    off_t offset = 0;
    while (static_cast<std::uint64_t>(offset) < size) {
      const auto want = static_cast<std::size_t>(
          std::min<std::uint64_t>(size - static_cast<std::uint64_t>(offset), kSendfileChunk));
      const ssize_t n = ::sendfile(socket, file, &offset, want);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail_errno("sendfile");
    }
  } else if (m.send == Send::splice) {
    Pipe pipe;
    loff_t offset = 0;
    while (static_cast<std::uint64_t>(offset) < size) {
      const std::uint64_t left = size - static_cast<std::uint64_t>(offset);
      const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kPipeSize));
      const unsigned more = want < left ? SPLICE_F_MORE : 0U;
      const ssize_t n =
          ::splice(file, &offset, pipe.write_end.get(), nullptr, want, SPLICE_F_MOVE | more);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail_errno("splice file -> pipe");
      drain(pipe, socket, static_cast<std::size_t>(n), nullptr, SPLICE_F_MOVE | more,
            "splice pipe -> socket");
    }
  } else {
    std::vector<char> buffer(m.send_buffer);
    for (std::uint64_t done = 0; done < size;) {
      const auto want =
          static_cast<std::size_t>(std::min<std::uint64_t>(size - done, buffer.size()));
      const ssize_t n = ::pread(file, buffer.data(), want, static_cast<off_t>(done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) fail_errno("pread");
      write_all(socket, buffer.data(), static_cast<std::size_t>(n), "write to the socket");
      done += static_cast<std::uint64_t>(n);
    }
  }
}

// Reads to EOF; returns the bytes received (into `out` unless the method discards them).
std::uint64_t receive_file(const Method& m, int socket, int out) {
  std::uint64_t done = 0;
  if (m.receive == Receive::splice) {
    Pipe pipe;
    loff_t offset = 0;
    for (;;) {
      const ssize_t n =
          ::splice(socket, nullptr, pipe.write_end.get(), nullptr, kPipeSize, SPLICE_F_MOVE);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail_errno("splice socket -> pipe");
      if (n == 0) return done;
      drain(pipe, out, static_cast<std::size_t>(n), &offset, SPLICE_F_MOVE, "splice pipe -> file");
      done += static_cast<std::uint64_t>(n);
    }
  }
  std::vector<char> buffer(m.receive_buffer);
  for (;;) {
    const ssize_t n = ::read(socket, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("read from the socket");
    if (n == 0) return done;
    if (m.receive == Receive::read_write) {
      write_all(out, buffer.data(), static_cast<std::size_t>(n), "write to the file");
    }
    done += static_cast<std::uint64_t>(n);
  }
}

// The calling thread on one CPU only (best effort: a CPU this process may not use is ignored).
void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  static_cast<void>(pthread_setaffinity_np(pthread_self(), sizeof set, &set));
}

void set_timeouts(int socket, int timeout_ms) {
  timeval tv{};
  tv.tv_sec = timeout_ms / 1000;
  tv.tv_usec = static_cast<suseconds_t>(timeout_ms % 1000) * 1000;
  ::setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

// Runs `body` and records its thread's CPU time and the clock around it; a Failure (or any
// other exception) becomes the side's error.
template <class Body>
void timed_side(Side& side, Body body) {
  try {
    const double cpu0 = thread_cpu();
    side.start = Clock::now();
    side.bytes = body();
    side.end = Clock::now();
    side.cpu = thread_cpu() - cpu0;
  } catch (const std::exception& e) {
    side.error = e.what();
  }
}

struct Trial {
  std::string error;  // empty: fine
  double seconds = 0;
  double send_cpu = 0;     // seconds
  double receive_cpu = 0;  // seconds
};

// One transfer of the first `size` bytes of `source` with method `m`; when `verify`, the
// received file is compared with the source (`source_map`, outside the timing).
Trial run_trial(const Method& m, int source, const char* source_map, std::uint64_t size,
                const Options& o, bool verify) {
  Trial t;
  Fd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!listener.valid()) fail_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  auto* generic = reinterpret_cast<sockaddr*>(&address);  // NOLINT: the sockets API
  if (::bind(listener.get(), generic, sizeof address) != 0) fail_errno("bind 127.0.0.1");
  if (::listen(listener.get(), 1) != 0) fail_errno("listen");
  if (::getsockname(listener.get(), generic, &length) != 0) fail_errno("getsockname");

  Fd out;
  if (m.receive != Receive::discard) out = anonymous_file(o.dir);
  Side sender;
  Side receiver;
  std::thread receiving([&] {
    if (o.pin) pin_to(1);
    timed_side(receiver, [&]() -> std::uint64_t {
      pollfd p{listener.get(), POLLIN, 0};
      const int ready = ::poll(&p, 1, o.timeout_ms);
      if (ready <= 0) throw Failure("no connection to accept within the timeout");
      Fd socket(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!socket.valid()) fail_errno("accept");
      set_timeouts(socket.get(), o.timeout_ms);
      return receive_file(m, socket.get(), out.get());
    });
    listener.reset();  // a sender still connecting is reset rather than left waiting
  });
  std::thread sending([&] {
    if (o.pin) pin_to(0);
    Fd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid() || ::connect(socket.get(), generic, sizeof address) != 0) {
      sender.error = "connect to 127.0.0.1: " + errno_text(errno);
      return;
    }
    set_timeouts(socket.get(), o.timeout_ms);
    timed_side(sender, [&]() -> std::uint64_t {
      send_file(m, socket.get(), source, size);
      return size;
    });
    ::shutdown(socket.get(), SHUT_WR);  // the receiver's EOF
  });
  sending.join();
  receiving.join();

  if (!sender.error.empty()) {
    t.error = "sender: " + sender.error;
  } else if (!receiver.error.empty()) {
    t.error = "receiver: " + receiver.error;
  } else if (receiver.bytes != size) {
    t.error = "received " + std::to_string(receiver.bytes) + " bytes of " + std::to_string(size);
  }
  if (t.error.empty() && verify && out.valid()) {
    struct stat st {};
    if (::fstat(out.get(), &st) != 0 || static_cast<std::uint64_t>(st.st_size) != size) {
      t.error = "the received file has the wrong size";
    } else if (size > 0) {
      void* mapped = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, out.get(), 0);
      if (mapped == MAP_FAILED) fail_errno("mmap the received file");
      if (std::memcmp(mapped, source_map, size) != 0) t.error = "the received bytes differ";
      ::munmap(mapped, size);
    }
  }
  t.seconds = std::chrono::duration<double>(receiver.end - sender.start).count();
  t.send_cpu = sender.cpu;
  t.receive_cpu = receiver.cpu;
  return t;
}

// ---------------------------------------------------------------------------------------
// Statistics and output

struct Stats {
  double median = 0;
  double min = 0;
  double max = 0;
};

Stats stats(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  const double median = n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  return {median, v.front(), v.back()};
}

struct Series {
  std::vector<double> gbps;                    // 10^9 bytes per second
  std::vector<double> send_cpu;                // CPU seconds per GiB
  std::vector<double> receive_cpu;             // CPU seconds per GiB
  std::vector<double> both_cpu;                // the two added, per GiB
  std::vector<int> repeat;                     // the repeat of each value above
  std::vector<std::string> errors;             // failed trials
  std::map<int, std::size_t> index_of_repeat;  // repeat -> position in the vectors
};

// Per-repeat ratios a[i] / b[i] over the repeats both have.
std::vector<double> ratios(const Series& a, const std::vector<double>& av, const Series& b,
                           const std::vector<double>& bv) {
  std::vector<double> out;
  for (const auto& [rep, i] : a.index_of_repeat) {
    const auto j = b.index_of_repeat.find(rep);
    if (j != b.index_of_repeat.end() && bv[j->second] > 0) out.push_back(av[i] / bv[j->second]);
  }
  return out;
}

using ferry::bench::json_string;

std::string json_number(double v) {
  return text("%.6g", v);
}

std::string json_stats(const std::vector<double>& v) {
  if (v.empty()) return "null";
  const Stats s = stats(v);
  std::string out = "{\"median\":";
  out += json_number(s.median);
  out += ",\"min\":";
  out += json_number(s.min);
  out += ",\"max\":";
  out += json_number(s.max);
  out += ",\"runs\":[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out += ',';
    out += json_number(v[i]);
  }
  out += "]}";
  return out;
}

std::string cell(const std::vector<double>& v, const char* format) {
  if (v.empty()) return "failed";
  const Stats s = stats(v);
  const std::string f = std::string(format) + " (" + format + "-" + format + ")";
  return text(f.c_str(), s.median, s.min, s.max);
}

std::string load_average() {
  std::array<double, 3> load{};
  if (::getloadavg(load.data(), 3) != 3) return "unknown";
  return text("%.2f %.2f %.2f", load[0], load[1], load[2]);
}

[[noreturn]] void usage(const std::string& why) {
  static_cast<void>(
      std::fprintf(stderr,
                   "ferry-mover-compare: %s\nusage: ferry-mover-compare [--dir DIR] [--size BYTES"
                   "[K|M|G]] [--repeats N] [--max-seconds S] [--timeout S] [--pin] [--json]\n",
                   why.c_str()));
  std::exit(2);  // NOLINT(concurrency-mt-unsafe): before any thread starts
}

std::uint64_t number(std::string_view flag, std::string_view text, std::uint64_t lo,
                     std::uint64_t hi, bool suffix) {
  std::uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  std::uint64_t unit = 1;
  if (suffix && p + 1 == end) {
    const std::string_view units = "KMG";
    const auto k = units.find(static_cast<char>(*p & ~0x20));
    if (k != std::string_view::npos) {
      unit = std::uint64_t{1} << (10 * (k + 1));
      ++p;
    }
  }
  if (text.empty() || ec != std::errc() || p != end || v > hi / unit || v * unit < lo) {
    usage("bad value for " + std::string(flag) + ": " + std::string(text));
  }
  return v * unit;
}

Options parse(int argc, char** argv) {
  Options o;
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "-h" || a == "--help") usage("sendfile, splice and read/write side by side");
    if (a == "--json") {
      o.json = true;
      continue;
    }
    if (a == "--pin") {
      o.pin = true;
      continue;
    }
    if (i + 1 >= args.size()) usage("missing value after " + std::string(a));
    const std::string_view v = args[++i];
    if (a == "--dir") {
      o.dir = v;
    } else if (a == "--size") {
      o.size = number(a, v, kMiB, 16 * kGiB, true);
    } else if (a == "--repeats") {
      o.repeats = static_cast<unsigned>(number(a, v, 1, 50, false));
    } else if (a == "--max-seconds") {
      o.max_seconds = static_cast<double>(number(a, v, 1, 3600, false));
    } else if (a == "--timeout") {
      o.timeout_ms = static_cast<int>(number(a, v, 1, 600, false)) * 1000;
    } else {
      usage("unknown option " + std::string(a));
    }
  }
  return o;
}

int run(const Options& o) {
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(o.max_seconds));
  const std::string load_start = load_average();
  struct statvfs fs {};
  if (::statvfs(o.dir.c_str(), &fs) != 0) fail_errno("statvfs " + o.dir);
  const std::uint64_t free_bytes = std::uint64_t{fs.f_bavail} * fs.f_frsize;
  if (free_bytes < 2 * o.size + 64 * kMiB) {
    throw Failure(o.dir + " has " + std::to_string(free_bytes / kMiB) + " MiB free, " +
                  std::to_string((2 * o.size + 64 * kMiB) / kMiB) +
                  " MiB needed (the file and one received copy)");
  }
  const Fd source = anonymous_file(o.dir);
  fill(source.get(), o.size);
  void* mapped = ::mmap(nullptr, o.size, PROT_READ, MAP_SHARED, source.get(), 0);
  if (mapped == MAP_FAILED) fail_errno("mmap the source file");
  const auto unmap = [o](void* p) { ::munmap(p, o.size); };
  const std::unique_ptr<void, decltype(unmap)> mapping(mapped, unmap);
  const auto* source_map = static_cast<const char*>(mapped);

  const std::vector<Method> all = methods();
  int status = 0;
  // Every method once on a small size, into a file compared with the source.
  for (const Method& m : all) {
    Method checked = m;
    if (checked.receive == Receive::discard) {
      checked.receive = Receive::read_write;
      checked.receive_buffer = kMiB;
    }
    const Trial t =
        run_trial(checked, source.get(), source_map, std::min(kCheckSize, o.size), o, true);
    if (!t.error.empty()) {
      static_cast<void>(std::fprintf(stderr, "ferry-mover-compare: check of %s %s failed: %s\n",
                                     m.group.c_str(), m.name.c_str(), t.error.c_str()));
      status = 1;
    }
  }
  if (status != 0) return status;

  std::vector<Series> series(all.size());
  const double gib = static_cast<double>(o.size) / static_cast<double>(kGiB);
  unsigned repeats_done = 0;
  bool out_of_time = false;
  for (unsigned r = 0; r < o.repeats && !out_of_time; ++r) {
    for (std::size_t k = 0; k < all.size(); ++k) {
      if (Clock::now() > deadline) {
        out_of_time = true;
        break;
      }
      const std::size_t i = (k + r) % all.size();
      const Trial t = run_trial(all[i], source.get(), source_map, o.size, o, true);
      Series& s = series[i];
      if (!t.error.empty()) {
        static_cast<void>(std::fprintf(stderr, "ferry-mover-compare: %s %s, repeat %u: %s\n",
                                       all[i].group.c_str(), all[i].name.c_str(), r + 1,
                                       t.error.c_str()));
        s.errors.push_back(t.error);
        status = 1;
        continue;
      }
      s.index_of_repeat[static_cast<int>(r)] = s.gbps.size();
      s.repeat.push_back(static_cast<int>(r));
      s.gbps.push_back(static_cast<double>(o.size) / t.seconds / 1e9);
      s.send_cpu.push_back(t.send_cpu / gib);
      s.receive_cpu.push_back(t.receive_cpu / gib);
      s.both_cpu.push_back((t.send_cpu + t.receive_cpu) / gib);
    }
    if (!out_of_time) ++repeats_done;
  }
  if (out_of_time) {
    static_cast<void>(
        std::fprintf(stderr, "ferry-mover-compare: stopped at the %.0f s limit after %u repeats\n",
                     o.max_seconds, repeats_done));
    status = 1;
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - started).count();
  const std::string load_end = load_average();

  std::printf(
      "ferry-mover-compare: %llu MiB from %s over 127.0.0.1, %u of %u repeats, methods "
      "interleaved, %s, %.0f s; load average %s at the start, %s at the end\n"
      "cells: median (min-max); GB/s = 10^9 bytes/s; CPU = CPU seconds of the "
      "thread per GiB moved (lower is better); ratios: per-repeat pairs against the group's "
      "first method, median\n",
      static_cast<unsigned long long>(o.size / kMiB), o.dir.c_str(), repeats_done, o.repeats,
      o.pin ? "sender on CPU 0, receiver on CPU 1" : "threads not pinned", seconds,
      load_start.c_str(), load_end.c_str());
  std::string json = "{\"size\":" + std::to_string(o.size) + ",\"dir\":" + json_string(o.dir) +
                     ",\"repeats\":" + std::to_string(o.repeats) +
                     ",\"repeats_done\":" + std::to_string(repeats_done) +
                     ",\"pinned\":" + std::string(o.pin ? "true" : "false") +
                     ",\"seconds\":" + json_number(seconds) +
                     ",\"load_average_start\":" + json_string(load_start) +
                     ",\"load_average_end\":" + json_string(load_end) + ",\"methods\":[";
  std::string group;
  std::size_t base = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Method& m = all[i];
    const Series& s = series[i];
    if (m.group != group) {
      group = m.group;
      base = i;
      std::printf("\n%s\n%-10s %-20s %-22s %-22s %-22s %-9s %-9s %-9s %-9s\n",
                  m.group == "send" ? "SENDING (receiver: read(2) into 1 MiB, discarded)"
                                    : "RECEIVING into a new file (sender: sendfile)",
                  "method", "GB/s", "sender CPU s/GiB", "receiver CPU s/GiB", "both CPU s/GiB",
                  "GB/s/base", "send/base", "recv/base", "both/base");
    }
    const Series& b = series[base];
    const auto r_gbps = ratios(s, s.gbps, b, b.gbps);
    const auto r_send = ratios(s, s.send_cpu, b, b.send_cpu);
    const auto r_recv = ratios(s, s.receive_cpu, b, b.receive_cpu);
    const auto r_both = ratios(s, s.both_cpu, b, b.both_cpu);
    const auto ratio_cell = [](const std::vector<double>& v) {
      return v.empty() ? std::string("-") : text("%.2f", stats(v).median);
    };
    const std::string failed =
        s.errors.empty() ? "" : " " + std::to_string(s.errors.size()) + " failed";
    std::printf("%-10s %-20s %-22s %-22s %-22s %-9s %-9s %-9s %-9s%s\n", m.name.c_str(),
                cell(s.gbps, "%.2f").c_str(), cell(s.send_cpu, "%.3f").c_str(),
                cell(s.receive_cpu, "%.3f").c_str(), cell(s.both_cpu, "%.3f").c_str(),
                ratio_cell(r_gbps).c_str(), ratio_cell(r_send).c_str(), ratio_cell(r_recv).c_str(),
                ratio_cell(r_both).c_str(), failed.c_str());
    json += std::string(i == 0 ? "" : ",") + "{\"group\":" + json_string(m.group) +
            ",\"name\":" + json_string(m.name) + ",\"baseline\":" + json_string(all[base].name) +
            ",\"gbps\":" + json_stats(s.gbps) +
            ",\"send_cpu_s_per_gib\":" + json_stats(s.send_cpu) +
            ",\"receive_cpu_s_per_gib\":" + json_stats(s.receive_cpu) +
            ",\"both_cpu_s_per_gib\":" + json_stats(s.both_cpu) +
            ",\"gbps_vs_baseline\":" + json_stats(r_gbps) +
            ",\"send_cpu_vs_baseline\":" + json_stats(r_send) +
            ",\"receive_cpu_vs_baseline\":" + json_stats(r_recv) +
            ",\"both_cpu_vs_baseline\":" + json_stats(r_both) +
            ",\"failed\":" + std::to_string(s.errors.size()) + ",\"first_error\":" +
            (s.errors.empty() ? std::string("null") : json_string(s.errors.front())) + "}";
  }
  json += "]}";
  if (o.json) std::printf("\n%s\n", json.c_str());
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  // A receiver that fails makes the sender's next write EPIPE, not a SIGPIPE.
  static_cast<void>(std::signal(SIGPIPE, SIG_IGN));
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    static_cast<void>(std::fprintf(stderr, "ferry-mover-compare: %s\n", e.what()));
    return 1;
  }
}
