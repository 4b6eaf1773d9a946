#pragma once

#include "config.hpp"

namespace ferryd {

// Listens, serves until SIGINT or SIGTERM, then drains and returns the exit code.
int run_server(const ServerConfig& given);

}  // namespace ferryd
