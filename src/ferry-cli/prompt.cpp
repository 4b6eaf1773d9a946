// The interactive mode: readline's callback interface driven by our own poll() on the
// terminal and the interrupt pipe, so that Ctrl-C at the prompt discards the line without
// racing with readline's own signal handling (rl_catch_signals = 0).

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
#include "ferry/net/interrupt.hpp"
#include "session_modes.hpp"

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

// Waits for one line; nullopt on Ctrl-D or a terminating signal.
std::optional<std::string> read_line() {
  g_prompt = PromptState{};
  net::clear_interrupt();
  rl_callback_handler_install(kPrompt, on_line);
  for (;;) {
    pollfd fds[2] = {{fileno(rl_instream), POLLIN, 0}, {net::interrupt_fd(), POLLIN, 0}};
    const int n = ::poll(fds, 2, -1);
    if (n < 0 && errno != EINTR) break;
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
      if (g_prompt.have_line) return g_prompt.line;
      if (g_prompt.end_of_input) return std::nullopt;  // readline has ended the line
    }
  }
  rl_callback_handler_remove();
  static_cast<void>(std::fputs("\n", rl_outstream));
  return std::nullopt;
}

}  // namespace

int run_interactive(ClientContext& context) {
  rl_catch_signals = 0;
  rl_readline_name = "ferry";
  int exit_signal = 0;
  while (const auto line = read_line()) {
    if (line->find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line->c_str());
    net::clear_interrupt();
    const Outcome outcome = run_command_line(context, *line);
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
