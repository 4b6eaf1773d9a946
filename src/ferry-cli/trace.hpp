#pragma once

// `-v`: every message head sent and received, on stderr (client/protocol_trace.hpp).

#include <string_view>

namespace ferry::cli {

void enable_trace();
void trace_sent(std::string_view heads);
void trace_received(std::string_view head);

}  // namespace ferry::cli
