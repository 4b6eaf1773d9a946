#include "descriptor_budget.hpp"

#include <sys/resource.h>

#include <algorithm>

#include <fmt/format.h>

namespace ferryd {

DescriptorBudget plan_descriptors(std::uint64_t descriptors, std::size_t sessions,
                                  bool sessions_given, std::size_t transfers,
                                  std::size_t transfers_per_address,
                                  std::size_t transfers_per_session) {
  DescriptorBudget budget;
  const std::uint64_t usable =
      descriptors > kReservedDescriptors ? descriptors - kReservedDescriptors : 0;
  const auto fit_sessions = static_cast<std::size_t>(std::max<std::uint64_t>(1, usable / 4));
  budget.sessions = sessions_given ? sessions : std::min(sessions, fit_sessions);

  const std::uint64_t session_cost = std::uint64_t{budget.sessions} * kDescriptorsPerSession;
  const std::uint64_t left = usable > session_cost ? usable - session_cost : 0;
  const auto fit_transfers =
      static_cast<std::size_t>(std::max<std::uint64_t>(1, left / kDescriptorsPerTransfer));
  budget.transfers = transfers != 0 ? transfers : fit_transfers;
  budget.transfers_per_address =
      transfers_per_address != 0
          ? transfers_per_address
          : std::min(budget.transfers, std::max(transfers_per_session, budget.transfers / 4));

  const std::uint64_t needed = std::uint64_t{budget.sessions} * kDescriptorsPerSession +
                               std::uint64_t{budget.transfers} * kDescriptorsPerTransfer +
                               kReservedDescriptors;
  if (needed > descriptors) {
    budget.warnings.push_back(fmt::format(
        "{} sessions and {} transfers may need {} descriptors, more than the limit of {}: "
        "clients may see 'Too many open files' before the limits refuse them",
        budget.sessions, budget.transfers, needed, descriptors));
  }
  return budget;
}

std::uint64_t raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur == RLIM_INFINITY ? std::uint64_t{1} << 20 : limit.rlim_cur;
}

}  // namespace ferryd
