#include "ferry/client/history_path.hpp"

namespace ferry::client {

std::string history_path(const char* xdg_state_home, const char* home) {
  if (xdg_state_home != nullptr && xdg_state_home[0] == '/') {
    return std::string(xdg_state_home) + "/ferry/history";
  }
  if (home != nullptr && home[0] == '/') return std::string(home) + "/.local/state/ferry/history";
  return {};
}

}  // namespace ferry::client
