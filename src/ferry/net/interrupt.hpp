#pragma once

// Ctrl-C as cancellation of the current wait. A signal handler (installed without
// SA_RESTART) records the signal and writes a byte into a pipe; every network wait polls
// that pipe beside its socket, so a signal that arrives just before poll() still wakes it.

namespace ferry::net {

// Installs the handler for SIGINT, SIGTERM and SIGHUP, and ignores SIGPIPE.
void install_interrupt_handler();

// Readable once a signal arrived and until clear_interrupt(); -1 before installation.
int interrupt_fd();

// The signal that arrived since the last clear_interrupt(), or 0.
int pending_signal();

// Forgets a pending signal (before the next command or prompt).
void clear_interrupt();

// Throws NetError(cancelled) when a signal is pending.
void throw_if_interrupted();

}  // namespace ferry::net
