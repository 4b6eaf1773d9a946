#include "terminal_signals.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace ferry::cli {
namespace {

int g_pipe[2] = {-1, -1};

extern "C" void on_terminal_signal(int signal_number) {
  const int saved = errno;
  const auto byte = static_cast<char>(signal_number);
  static_cast<void>(::write(g_pipe[1], &byte, 1));
  errno = saved;
}

void set_action(int signal_number, void (*handler)(int)) {
  struct sigaction action {};
  action.sa_handler = handler;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // the prompt learns of it from the pipe, not from EINTR
  static_cast<void>(::sigaction(signal_number, &action, nullptr));
}

}  // namespace

TerminalSignals::TerminalSignals() {
  if (g_pipe[0] < 0 && ::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return;
  set_action(SIGWINCH, on_terminal_signal);
  set_action(SIGCONT, on_terminal_signal);
}

TerminalSignals::~TerminalSignals() {
  set_action(SIGWINCH, SIG_DFL);
  set_action(SIGCONT, SIG_DFL);
  set_action(SIGTSTP, SIG_DFL);
}

int TerminalSignals::fd() const {
  return g_pipe[0];
}

TerminalSignals::Pending TerminalSignals::take() {
  Pending pending;
  char bytes[64];
  for (int round = 0; round < 16; ++round) {
    const ssize_t n = ::read(g_pipe[0], bytes, sizeof bytes);
    if (n <= 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      pending.stop = pending.stop || bytes[i] == SIGTSTP;
      pending.resume = pending.resume || bytes[i] == SIGCONT;
      pending.resize = pending.resize || bytes[i] == SIGWINCH;
    }
  }
  return pending;
}

void TerminalSignals::catch_stop(bool at_prompt) {
  set_action(SIGTSTP, at_prompt ? on_terminal_signal : SIG_DFL);
}

void TerminalSignals::stop_now() {
  set_action(SIGTSTP, SIG_DFL);
  static_cast<void>(::raise(SIGTSTP));
  set_action(SIGTSTP, on_terminal_signal);
}

}  // namespace ferry::cli
