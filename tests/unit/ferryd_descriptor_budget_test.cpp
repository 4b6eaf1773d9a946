#include "descriptor_budget.hpp"

#include <gtest/gtest.h>

#include "address_limits.hpp"

namespace ferryd {
namespace {

TEST(DescriptorBudget, SizesTransfersFromWhatTheSessionsLeave) {
  const DescriptorBudget budget = plan_descriptors(20000, 1000, false, 0, 0, 16);
  EXPECT_EQ(budget.sessions, 1000u);
  EXPECT_EQ(budget.transfers, (20000u - 128 - 1000) / 5);
  EXPECT_EQ(budget.transfers_per_address, budget.transfers / 4);
  EXPECT_TRUE(budget.warnings.empty());
}

TEST(DescriptorBudget, ASmallLimitLowersTheSessionsTooAndEverythingFits) {
  for (const std::uint64_t limit : {256u, 1024u, 4096u}) {
    const DescriptorBudget budget = plan_descriptors(limit, 1000, false, 0, 0, 16);
    EXPECT_LE(budget.sessions, (limit - kReservedDescriptors) / 4) << limit;
    EXPECT_LE(budget.sessions * kDescriptorsPerSession +
                  budget.transfers * kDescriptorsPerTransfer + kReservedDescriptors,
              limit)
        << limit;
    EXPECT_GE(budget.transfers, 1u);
    EXPECT_TRUE(budget.warnings.empty()) << limit;
  }
}

TEST(DescriptorBudget, PerAddressIsAQuarterButNeverBelowOneSessionsWorth) {
  EXPECT_EQ(plan_descriptors(256, 1000, false, 0, 0, 16).transfers_per_address, 16u);
  EXPECT_EQ(plan_descriptors(256, 1000, false, 8, 0, 16).transfers_per_address, 8u);
}

TEST(DescriptorBudget, GivenLimitsAreKeptAndWarnedAboutWhenTheyCannotBeHeld) {
  const DescriptorBudget budget = plan_descriptors(1024, 5000, true, 9000, 50, 16);
  EXPECT_EQ(budget.sessions, 5000u);
  EXPECT_EQ(budget.transfers, 9000u);
  EXPECT_EQ(budget.transfers_per_address, 50u);
  EXPECT_EQ(budget.warnings.size(), 1u);
}

TEST(AddressLimits, CountsInAllAndPerAddress) {
  AddressLimits limits(3, 2);
  using Admission = AddressLimits::Admission;
  EXPECT_EQ(limits.admit("a"), Admission::admitted);
  EXPECT_EQ(limits.admit("a"), Admission::admitted);
  EXPECT_EQ(limits.admit("a"), Admission::over_address);
  EXPECT_EQ(limits.admit("b"), Admission::admitted);
  EXPECT_EQ(limits.admit("c"), Admission::over_total);
  limits.release("a");
  EXPECT_EQ(limits.admit("c"), Admission::admitted);
  EXPECT_EQ(limits.held(), 3u);
}

TEST(AddressLimits, NoPerAddressLimitWhenZero) {
  AddressLimits limits(10, 0);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(limits.admit("a"), AddressLimits::Admission::admitted);
  EXPECT_EQ(limits.admit("a"), AddressLimits::Admission::over_total);
}

}  // namespace
}  // namespace ferryd
