#pragma once

#include <spdlog/spdlog.h>

#include <exception>
#include <string>

namespace ferryd {

// A co_spawn completion handler: a coroutine that ends with an exception is logged,
// never silently dropped. Only that connection ends; the server goes on.
inline auto log_failure(std::string what) {
  return [what = std::move(what)](const std::exception_ptr& error) {
    if (!error) return;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      spdlog::error("{}: {}", what, e.what());
    }
  };
}

}  // namespace ferryd
