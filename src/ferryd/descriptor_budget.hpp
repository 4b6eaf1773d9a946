#pragma once

// How many control sessions and transfers the process's descriptor limit can hold, with
// descriptors kept in reserve for the server itself: at the limits, new sessions are still
// accepted and answered and running transfers still open their files.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ferryd {

// The listener, the signalfd, epoll and eventfds of the workers, the log, the file threads,
// the start-up sweep's directories, and the spare one the accept loop keeps.
inline constexpr std::size_t kReservedDescriptors = 128;
// A control session: its socket.
inline constexpr std::size_t kDescriptorsPerSession = 1;
// The most a transfer holds: a PUT's socket, temporary file, directory and its splice pipe's
// two ends (a GET holds two, an LS two, an opened port one).
inline constexpr std::size_t kDescriptorsPerTransfer = 5;

struct DescriptorBudget {
  std::size_t sessions = 0;
  std::size_t transfers = 0;
  std::size_t transfers_per_address = 0;
  std::vector<std::string> warnings;  // a limit given on the command line that cannot be held
};

// `descriptors`: the descriptor limit in force. A requested value of 0 (transfers,
// per_address) means "size it"; `sessions_given` keeps the requested sessions as they are.
// Sessions take at most a quarter of what is not reserved; transfers the rest; one address
// at most a quarter of the transfers (and no fewer than one session's worth).
DescriptorBudget plan_descriptors(std::uint64_t descriptors, std::size_t sessions,
                                  bool sessions_given, std::size_t transfers,
                                  std::size_t transfers_per_address,
                                  std::size_t transfers_per_session);

// Raises the soft descriptor limit to the hard one; the limit in force afterwards.
std::uint64_t raise_descriptor_limit();

}  // namespace ferryd
