#include "session_modes.hpp"

#include <poll.h>

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "commands.hpp"
#include "ferry/net/interrupt.hpp"

namespace ferry::cli {
namespace {

// Runs one line in a non-interactive mode; false when the session must stop.
bool run_one(ClientContext& context, const std::string& line, bool& any_failed) {
  net::clear_interrupt();
  const Outcome outcome = run_command_line(context, line);
  static_cast<void>(std::fflush(stdout));
  if (outcome == Outcome::failed) any_failed = true;
  return outcome != Outcome::quit && net::pending_signal() == 0;
}

int finish(ClientContext& context, bool any_failed) {
  const int signal_number = net::pending_signal();
  context.control.quit();
  if (signal_number != 0) return 128 + signal_number;
  return any_failed ? 1 : 0;
}

// Whether the input can be read now without waiting: then another command probably follows
// (or the end, and one prefetched port goes unused). Never reads ahead, so that a program
// that feeds commands one at a time and waits for their output cannot deadlock with us.
bool more_input_ready(std::FILE* input) {
  pollfd ready{::fileno(input), POLLIN, 0};
  return ::poll(&ready, 1, 0) > 0;
}

// getline()'s buffer, freed however the session ends (a LoginError or ForeignServerError
// ends it with an exception).
struct LineBuffer {
  char* data = nullptr;
  std::size_t capacity = 0;
  LineBuffer() = default;
  LineBuffer(const LineBuffer&) = delete;
  LineBuffer& operator=(const LineBuffer&) = delete;
  ~LineBuffer() { std::free(data); }  // NOLINT(cppcoreguidelines-no-malloc): getline's
};

// One command per line from `input`; `batch`: -b's echo, `-` prefix and stop at a failure.
int run_lines(ClientContext& context, std::FILE* input, bool batch) {
  bool any_failed = false;
  LineBuffer raw;
  for (;;) {
    const ssize_t length = ::getline(&raw.data, &raw.capacity, input);
    if (length < 0) break;
    std::string line(raw.data, static_cast<std::size_t>(length));
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r'))
      line.pop_back();
    const std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    context.control.set_prefetch(more_input_ready(input));
    if (!batch) {
      if (!run_one(context, line, any_failed)) break;
      continue;
    }
    const bool may_fail = line[first] == '-';
    const std::string command = may_fail ? line.substr(first + 1) : line.substr(first);
    fmt::print("ftp> {}\n", command);
    static_cast<void>(std::fflush(stdout));
    bool failed = false;
    const bool go_on = run_one(context, command, failed);
    if (failed && !may_fail) {
      any_failed = true;
      break;
    }
    if (!go_on) break;
  }
  return finish(context, any_failed);
}

}  // namespace

int run_command_list(ClientContext& context, const std::vector<std::string>& commands) {
  bool any_failed = false;
  for (std::size_t i = 0; i < commands.size(); ++i) {
    context.control.set_prefetch(i + 1 < commands.size());
    if (!run_one(context, commands[i], any_failed)) break;
  }
  return finish(context, any_failed);
}

int run_script(ClientContext& context, std::FILE* input) {
  return run_lines(context, input, false);
}

int run_batch(ClientContext& context, std::FILE* input) {
  return run_lines(context, input, true);
}

}  // namespace ferry::cli
