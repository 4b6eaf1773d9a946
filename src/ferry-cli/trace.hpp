#pragma once

// `-v`: every message head sent and received, on stderr (client/protocol_trace.hpp).

#include <string_view>

namespace ferry::cli {

void enable_trace();
void trace_sent(std::string_view heads);
void trace_received(std::string_view head);
// A line about the connection itself (`* TLSv1.3 TLS_AES_256_GCM_SHA384, ...`), as curl -v.
void trace_note(std::string_view note);

}  // namespace ferry::cli
