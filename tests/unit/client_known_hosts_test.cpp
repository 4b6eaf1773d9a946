#include "ferry/client/known_hosts.hpp"

#include <gtest/gtest.h>

namespace client = ferry::client;
using client::TrustVerdict;

TEST(KnownHosts, FindsTheLineOfHostAndPort) {
  const std::string text =
      "# ferry's known hosts\n"
      "example.org 2121 SHA256:aaa\n"
      "example.org 2122 SHA256:bbb\n"
      "\n"
      "::1 2121 SHA256:ccc\n";
  const auto found = client::find_known_host(text, "EXAMPLE.org", "2122");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->fingerprint, "SHA256:bbb");
  EXPECT_EQ(found->line, 3U);
  EXPECT_EQ(client::find_known_host(text, "::1", "2121")->fingerprint, "SHA256:ccc");
  EXPECT_FALSE(client::find_known_host(text, "example.org", "21"));
  EXPECT_FALSE(client::find_known_host(text, "other.org", "2121"));
  EXPECT_FALSE(client::find_known_host("", "example.org", "2121"));
}

TEST(KnownHosts, SkipsMalformedAndCommentLines) {
  const std::string text =
      "#example.org 2121 SHA256:commented\n"
      "example.org 2121\n"
      "example.org 2121 SHA256:x extra\n"
      "example.org 2121 SHA256:good\n";
  const auto found = client::find_known_host(text, "example.org", "2121");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->fingerprint, "SHA256:good");
  EXPECT_EQ(found->line, 4U);
}

TEST(KnownHosts, AddsAtTheEndAndKeepsEveryOtherLine) {
  EXPECT_EQ(client::with_known_host("", "Host.Example", "1", "SHA256:k"),
            "host.example 1 SHA256:k\n");
  EXPECT_EQ(client::with_known_host("# mine\na 1 SHA256:x\n", "b", "2", "SHA256:y"),
            "# mine\na 1 SHA256:x\nb 2 SHA256:y\n");
  // A file without a final line break gets one.
  EXPECT_EQ(client::with_known_host("a 1 SHA256:x", "b", "2", "SHA256:y"),
            "a 1 SHA256:x\nb 2 SHA256:y\n");
}

TEST(KnownHosts, ReplacesTheLineOfTheSameHostAndPortInPlace) {
  const std::string text = "a 1 SHA256:x\nb 2 SHA256:old\n\nc 3 SHA256:z\nb 2 SHA256:dup\n";
  EXPECT_EQ(client::with_known_host(text, "b", "2", "SHA256:new"),
            "a 1 SHA256:x\nb 2 SHA256:new\n\nc 3 SHA256:z\n");
}

namespace {
client::TrustInput input(std::string fingerprint = "SHA256:offered") {
  client::TrustInput in;
  in.fingerprint = std::move(fingerprint);
  return in;
}
}  // namespace

TEST(TrustDecision, UnknownKeyIsAskedAtATerminalAndRefusedInAScript) {
  auto in = input();
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::refused_new);
  in.can_ask = true;
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::ask);
  in.accept_new = true;
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::trusted_new);
}

TEST(TrustDecision, KnownKeyIsTrustedAndAChangedOneRefusedWhateverTheFlags) {
  auto in = input();
  in.known = client::KnownHost{"SHA256:offered", 3};
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::trusted);
  in.known = client::KnownHost{"SHA256:pinned", 3};
  in.accept_new = true;  // --accept-new takes new hosts, never changed keys (as OpenSSH)
  in.can_ask = true;
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::changed);
}

TEST(TrustDecision, ExpectedFingerprintDecidesAlone) {
  auto in = input();
  in.expected = "SHA256:offered";
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::trusted_new);
  in.known = client::KnownHost{"SHA256:offered", 2};
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::trusted);
  in.known.reset();
  in.expected = "SHA256:other";
  in.ca_verified = true;
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::mismatch);
}

TEST(TrustDecision, CaVerifiedKeyIsTrustedAndRecorded) {
  auto in = input();
  in.ca_verified = true;
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::trusted_new);
  in.known = client::KnownHost{"SHA256:offered", 1};
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::trusted);
  // A renewed CA certificate with a new key: brought up to date, not refused.
  in.known = client::KnownHost{"SHA256:before-renewal", 1};
  EXPECT_EQ(client::decide_trust(in), TrustVerdict::trusted_new);
}
