// The interactive mode: readline's callback interface driven by our own poll() on the
// terminal, the interrupt pipe and the terminal-signal pipe, so that Ctrl-C at the prompt
// discards the line without racing with readline's own signal handling (rl_catch_signals
// and rl_catch_sigwinch are 0: in callback mode readline would act on a signal only at the
// next key). Ctrl-Z gives the terminal back (rl_cleanup_after_signal) and stops; SIGCONT
// takes it again and redraws the line; SIGWINCH tells readline the new size.

#include <poll.h>
#include <csignal>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>

#include <readline/history.h>
#include <readline/readline.h>

#include "commands.hpp"
#include "completion.hpp"
#include "ferry/net/interrupt.hpp"
#include "history.hpp"
#include "session_modes.hpp"
#include "terminal_signals.hpp"

namespace ferry::cli {
namespace {

constexpr const char* kPrompt = "ftp> ";

struct PromptState {
  bool have_line = false;
  bool end_of_input = false;
  std::string line;
};
PromptState g_prompt;

extern "C" void on_line(char* line) {
  if (line == nullptr) {
    g_prompt.end_of_input = true;
  } else {
    g_prompt.have_line = true;
    g_prompt.line = line;
    std::free(line);
  }
  rl_callback_handler_remove();  // the terminal goes back to normal mode while a command runs
}

void handle_terminal_signals(TerminalSignals& signals) {
  const TerminalSignals::Pending pending = signals.take();
  if (pending.stop) {
    rl_cleanup_after_signal();
    signals.stop_now();
  }
  if (pending.resize) rl_resize_terminal();
  if (pending.stop || pending.resume) {
    static_cast<void>(signals.take());  // the SIGCONT that ended our own stop
    rl_reset_after_signal();
    // The cursor may be anywhere on the line (after a shell's message it is at its start).
    static_cast<void>(std::fputs("\r", rl_outstream));
    rl_forced_update_display();
  }
}

// Waits for one line; nullopt on Ctrl-D or a terminating signal.
std::optional<std::string> read_line(TerminalSignals& signals) {
  g_prompt = PromptState{};
  net::clear_interrupt();
  // What came while a command ran: a resize matters, a continue needs no redraw yet.
  if (signals.take().resize) rl_resize_terminal();
  signals.catch_stop(true);
  rl_callback_handler_install(kPrompt, on_line);
  for (;;) {
    pollfd fds[3] = {{fileno(rl_instream), POLLIN, 0},
                     {net::interrupt_fd(), POLLIN, 0},
                     {signals.fd(), POLLIN, 0}};
    const int n = ::poll(fds, 3, -1);
    if (n < 0 && errno != EINTR) break;
    if (n > 0 && (fds[2].revents & POLLIN) != 0) handle_terminal_signals(signals);
    if (const int signal_number = net::pending_signal(); signal_number != 0) {
      if (signal_number != SIGINT) break;
      // Ctrl-C: forget the line, new prompt.
      net::clear_interrupt();
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_callback_handler_remove();
      static_cast<void>(std::fputs("\n", rl_outstream));
      rl_callback_handler_install(kPrompt, on_line);
      continue;
    }
    if (n > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      rl_callback_read_char();
      if (g_prompt.have_line || g_prompt.end_of_input) {
        signals.catch_stop(false);
        if (g_prompt.have_line) return g_prompt.line;
        return std::nullopt;  // readline has ended the line
      }
    }
  }
  signals.catch_stop(false);
  rl_callback_handler_remove();
  static_cast<void>(std::fputs("\n", rl_outstream));
  return std::nullopt;
}

}  // namespace

int run_interactive(ClientContext& context) {
  rl_catch_signals = 0;
  rl_catch_sigwinch = 0;
  rl_readline_name = "ferry";
  install_completion(context);
  TerminalSignals signals;
  PromptHistory history;
  int exit_signal = 0;
  while (const auto line = read_line(signals)) {
    if (line->find_first_not_of(" \t") == std::string::npos) continue;
    history.add(*line);
    net::clear_interrupt();
    const Outcome outcome = run_command_line(context, *line);
    forget_completion_listings();
    static_cast<void>(std::fflush(stdout));
    if (outcome == Outcome::quit) break;
    if (const int signal_number = net::pending_signal();
        signal_number != 0 && signal_number != SIGINT) {
      exit_signal = signal_number;
      break;
    }
  }
  if (exit_signal == 0 && net::pending_signal() != 0 && net::pending_signal() != SIGINT) {
    exit_signal = net::pending_signal();
  }
  context.control.quit();
  // At the prompt the user has seen every error as it happened: leaving is a success.
  return exit_signal != 0 ? 128 + exit_signal : 0;
}

}  // namespace ferry::cli
