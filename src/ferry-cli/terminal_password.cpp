#include "terminal_password.hpp"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "ferry/fs/fd.hpp"
#include "ferry/net/interrupt.hpp"

namespace ferry::cli {
namespace {

constexpr std::size_t kMaxPassword = 4096;  // the rest of a longer line is read and dropped

// Echo off on a terminal (ECHONL too: the line feed is ours to write), restored when this
// ends. Ctrl-C still signals: ISIG stays.
class EchoOff {
 public:
  explicit EchoOff(int fd) : fd_(fd), saved_{} {
    if (::tcgetattr(fd_, &saved_) != 0) return;
    termios quiet = saved_;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
    // TCSAFLUSH: what was typed before the prompt is not taken for the password.
    active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;
  ~EchoOff() {
    if (active_) static_cast<void>(::tcsetattr(fd_, TCSANOW, &saved_));
  }

 private:
  int fd_;
  termios saved_;
  bool active_ = false;
};

void write_text(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // a terminal that takes no output: the answer is read all the same
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// One line from the terminal `fd`, without its line feed; nullopt at its end or on a signal.
std::optional<std::string> read_secret_line(int fd) {
  std::string line;
  for (;;) {
    // Polled with the interrupt pipe: a Ctrl-C just before the read still ends the wait.
    pollfd fds[2] = {{fd, POLLIN, 0}, {net::interrupt_fd(), POLLIN, 0}};
    const int ready = ::poll(fds, net::interrupt_fd() >= 0 ? 2 : 1, -1);
    if (net::pending_signal() != 0) return std::nullopt;
    if (ready < 0) {
      if (errno == EINTR) continue;
      return std::nullopt;
    }
    char c = 0;
    const ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;  // Ctrl-D, or the terminal went away
    if (c == '\n' || c == '\r') return line;
    if (line.size() < kMaxPassword) line += c;
  }
}

}  // namespace

bool can_ask_password() {
  return ::isatty(STDIN_FILENO) == 1;
}

std::optional<std::string> ask_password(std::string_view prompt) {
  const fs::Fd tty(::open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY));
  const int input = tty.valid() ? tty.get() : STDIN_FILENO;
  const int output = tty.valid() ? tty.get() : STDERR_FILENO;
  if (::isatty(input) != 1) return std::nullopt;
  std::optional<std::string> line;
  {
    const EchoOff quiet(input);
    write_text(output, prompt);
    line = read_secret_line(input);
  }
  write_text(output, "\n");
  return line;
}

}  // namespace ferry::cli
