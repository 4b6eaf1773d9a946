#pragma once

// The prompt's own handling of the job-control and resize signals (readline's is off, see
// prompt.cpp): each arrival becomes a byte in a pipe that the prompt's poll() watches, so
// nothing is missed between two polls. SIGWINCH and SIGCONT are caught for the whole
// session (a resize or a continue during a command is dealt with at the next prompt);
// SIGTSTP only while the prompt waits, so that Ctrl-Z during a command stops it as usual.

namespace ferry::cli {

class TerminalSignals {
 public:
  struct Pending {
    bool stop = false;    // SIGTSTP: Ctrl-Z at the prompt
    bool resume = false;  // SIGCONT: continued after a stop
    bool resize = false;  // SIGWINCH
    bool any() const { return stop || resume || resize; }
  };

  TerminalSignals();
  ~TerminalSignals();
  TerminalSignals(const TerminalSignals&) = delete;
  TerminalSignals& operator=(const TerminalSignals&) = delete;

  int fd() const;  // readable while signals are pending
  Pending take();  // what arrived since the last take()

  void catch_stop(bool at_prompt);  // SIGTSTP caught, or its default action (stop)

  // Stops the process as SIGTSTP's default action would; returns once continued.
  void stop_now();
};

}  // namespace ferry::cli
