// SIGINT and SIGTERM (stop) and SIGHUP (reload the TLS certificate), taken as data from a
// signalfd instead of by a handler.
//
// main() blocks both before it starts any thread, so every thread inherits them blocked and
// none is ever interrupted by them; a signal sent at any moment stays pending until the
// server reads it from the descriptor. Compared with a handler (asio::signal_set), there is
// no window in which the default action could end the process, and no dependence on which
// thread the kernel picks: under ThreadSanitizer a handled SIGTERM sent right after the
// listening line was lost in about 1 start of 100, and the server never stopped.
#pragma once

namespace ferryd {

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and in the threads it starts afterwards.
void block_stop_signals();

// A non-blocking signalfd that is readable while one of them is pending; -1 (errno set)
// on failure.
int open_stop_signal_fd();

// Takes one pending signal from that descriptor: its number, or 0 when none is pending.
int read_stop_signal(int fd);

}  // namespace ferryd
