#include "trace.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "ferry/client/protocol_trace.hpp"

namespace ferry::cli {
namespace {
bool g_trace = false;  // set once, from the command line
}

void enable_trace() {
  g_trace = true;
}

void trace_sent(std::string_view heads) {
  if (g_trace) fmt::print(stderr, "{}", client::format_trace("> ", heads));
}

void trace_note(std::string_view note) {
  if (g_trace) fmt::print(stderr, "* {}\n", note);
}

void trace_received(std::string_view head) {
  if (g_trace) fmt::print(stderr, "{}", client::format_trace("< ", head));
}

}  // namespace ferry::cli
