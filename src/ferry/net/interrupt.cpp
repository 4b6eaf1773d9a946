#include "ferry/net/interrupt.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "ferry/net/error.hpp"

namespace ferry::net {
namespace {

volatile std::sig_atomic_t g_signal = 0;
int g_pipe[2] = {-1, -1};

extern "C" void on_signal(int signal_number) {
  const int saved_errno = errno;
  g_signal = signal_number;
  if (g_pipe[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] const ssize_t n = ::write(g_pipe[1], &byte, 1);  // full pipe: already woken
  }
  errno = saved_errno;
}

}  // namespace

void install_interrupt_handler() {
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
    g_pipe[0] = g_pipe[1] = -1;
  }
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: a blocking call returns EINTR
  for (const int signal_number : {SIGINT, SIGTERM, SIGHUP}) {
    ::sigaction(signal_number, &action, nullptr);
  }
  static_cast<void>(std::signal(SIGPIPE, SIG_IGN));
}

int interrupt_fd() {
  return g_pipe[0];
}

int pending_signal() {
  return g_signal;
}

void clear_interrupt() {
  g_signal = 0;
  if (g_pipe[0] >= 0) {
    char buffer[64];
    while (::read(g_pipe[0], buffer, sizeof buffer) > 0) {
    }
  }
}

void throw_if_interrupted() {
  if (g_signal != 0) throw NetError(ErrorKind::cancelled, "cancelled");
}

}  // namespace ferry::net
