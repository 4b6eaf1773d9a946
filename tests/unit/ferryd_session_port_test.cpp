// The transfer port on its own (transfer_port.cpp): which named ports are refused, picking
// and binding one of a range, the peer check (only the session's client address may
// connect; 127.0.0.2 is another address of loopback), and the timeout.

#include <fmt/format.h>

#include <gtest/gtest.h>

#include <asio/co_spawn.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "endpoint_text.hpp"
#include "ferryd_session_harness.hpp"
#include "transfer_port.hpp"

namespace ferryd::testing {
namespace {

using asio::ip::tcp;
using ferry::protocol::ErrorKind;

const asio::ip::address kLoopback = asio::ip::make_address("127.0.0.1");

// A listener of the test's on 127.0.0.1: a port that is certainly in use.
struct BusyPort {
  BusyPort() : fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    const sockaddr_in any = ipv4_address(kClientAddress, 0);
    EXPECT_EQ(::bind(fd.get(), reinterpret_cast<const sockaddr*>(&any), sizeof any), 0);
    EXPECT_EQ(::listen(fd.get(), 1), 0);
    port = local_port(fd.get());
  }
  ferry::fs::Fd fd;
  std::uint16_t port = 0;
};

// Whether the server could bind `port` of 127.0.0.1 now (with SO_REUSEADDR, as it binds).
bool port_is_free(std::uint16_t port) {
  const ferry::fs::Fd probe(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const int on = 1;
  ::setsockopt(probe.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  const sockaddr_in address = ipv4_address(kClientAddress, port);
  return ::bind(probe.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
}

class TransferPortTest : public SessionTest {
 protected:
  // A port bound on the worker's io_context (bind_transfer_port is synchronous).
  std::shared_ptr<OpenPort> bound(std::uint16_t requested, PortRange range,
                                  std::optional<ferry::protocol::Error>& error) {
    auto port = std::make_shared<OpenPort>(worker().context.get_executor());
    error = on_worker([&] { return bind_transfer_port(*port, kLoopback, requested, range); });
    return port;
  }

  // accept_from_client running on the worker; its result arrives in the future.
  std::future<std::optional<tcp::socket>> accepting(std::shared_ptr<OpenPort> port,
                                                    std::chrono::seconds timeout) {
    auto result = std::make_shared<std::promise<std::optional<tcp::socket>>>();
    auto future = result->get_future();
    on_worker([&] {
      asio::co_spawn(worker().context, accept_from_client(std::move(port), kLoopback, timeout, 7),
                     [result](const std::exception_ptr& error, std::optional<tcp::socket> socket) {
                       if (error) {
                         result->set_exception(error);
                       } else {
                         result->set_value(std::move(socket));
                       }
                     });
    });
    return future;
  }

  // Closes an accepted socket on its worker (its io_context's thread).
  void close_on_worker(std::optional<tcp::socket>& socket) {
    on_worker([&] { socket.reset(); });
  }
};

TEST_F(TransferPortTest, NamedPortsBelow1024OrOutsideTheRangeAreRefused) {
  const PortRange range{40000, 40100};
  EXPECT_EQ(refuse_requested_port(0, range), std::nullopt);
  EXPECT_EQ(refuse_requested_port(40000, range), std::nullopt);
  EXPECT_EQ(refuse_requested_port(40100, range), std::nullopt);
  const auto low = refuse_requested_port(80, range);
  ASSERT_TRUE(low);
  EXPECT_EQ(low->kind, ErrorKind::refused);
  EXPECT_EQ(low->text, "port 80 refused: ports below 1024 are not allowed");
  const auto outside = refuse_requested_port(40101, range);
  ASSERT_TRUE(outside);
  EXPECT_EQ(outside->text, "port 40101 refused: outside the data port range 40000-40100");
  EXPECT_TRUE(refuse_requested_port(39999, range));
  EXPECT_TRUE(refuse_requested_port(1024, range));
}

TEST_F(TransferPortTest, PicksAndBindsAFreePortOfTheRange) {
  // A range of two ports of which the test holds one: every pick lands on the other, found by
  // the random probes or by the scan after them. (Tests running alongside take ports too: the
  // held one's neighbour must be free to begin with.)
  std::optional<BusyPort> busy;
  std::uint16_t other = 0;
  for (int attempt = 0; attempt < 20 && other == 0; ++attempt) {
    busy.emplace();
    const std::uint16_t next = busy->port == 65535 ? busy->port - 1 : busy->port + 1;
    if (port_is_free(next)) other = next;
  }
  ASSERT_NE(other, 0) << "no free port next to a free port in 20 tries";
  const PortRange range{std::min(busy->port, other), std::max(busy->port, other)};
  std::set<std::uint16_t> picked;
  for (int i = 0; i < 8; ++i) {
    std::optional<ferry::protocol::Error> error;
    auto port = bound(0, range, error);
    if (error && error->kind == ErrorKind::busy) {
      GTEST_SKIP() << "port " << other << " was taken meanwhile";
    }
    ASSERT_FALSE(error) << error->text;
    EXPECT_EQ(port->port, other);
    EXPECT_TRUE(port->acceptor.is_open());
    picked.insert(port->port);
    on_worker([&] { port->acceptor.close(); });
  }
  EXPECT_EQ(picked.size(), 1u);

  // A wide range: ports spread over it, every one listening where it says.
  std::set<std::uint16_t> spread;
  for (int i = 0; i < 8; ++i) {
    std::optional<ferry::protocol::Error> error;
    auto port = bound(0, PortRange{32768, 60999}, error);
    ASSERT_FALSE(error) << error->text;
    EXPECT_GE(port->port, 32768);
    EXPECT_LE(port->port, 60999);
    EXPECT_EQ(on_worker([&] { return port->acceptor.local_endpoint().port(); }), port->port);
    spread.insert(port->port);
    on_worker([&] { port->acceptor.close(); });
  }
  EXPECT_GT(spread.size(), 1u);
}

TEST_F(TransferPortTest, ATakenPortIsBusy) {
  const BusyPort busy;
  std::optional<ferry::protocol::Error> error;
  auto named = bound(busy.port, PortRange{busy.port, busy.port}, error);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->kind, ErrorKind::busy);
  EXPECT_EQ(error->text, fmt::format("port {} is in use", busy.port));
  auto picked = bound(0, PortRange{busy.port, busy.port}, error);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->text, fmt::format("no free port in the range {}-{}", busy.port, busy.port));
  on_worker([&] {
    named->acceptor.close();
    picked->acceptor.close();
  });
}

TEST_F(TransferPortTest, OnlyTheClientsAddressMayConnect) {
  std::optional<ferry::protocol::Error> error;
  auto port = bound(0, PortRange{32768, 60999}, error);
  ASSERT_FALSE(error) << error->text;
  auto accepted = accepting(port, std::chrono::seconds(3));

  // From 127.0.0.2: accepted by the kernel, then closed by the port without a word.
  Peer stranger = connect_to(port->port, "127.0.0.2");
  ASSERT_TRUE(stranger.valid());
  EXPECT_TRUE(stranger.ends_without_more_data());
  EXPECT_FALSE(wait_for_log(fmt::format("session 7: refused a connection to transfer port {} "
                                        "from 127.0.0.2:",
                                        port->port))
                   .empty());
  EXPECT_EQ(accepted.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "the port goes on waiting for its client";

  // From the client's address: that connection is the transfer's.
  Peer client = connect_to(port->port, kClientAddress);
  ASSERT_TRUE(client.valid());
  ASSERT_EQ(accepted.wait_until(deadline()), std::future_status::ready);
  std::optional<tcp::socket> socket = accepted.get();
  ASSERT_TRUE(socket);
  EXPECT_EQ(on_worker([&] { return socket->remote_endpoint().port(); }), local_port(client.fd()));
  // The port takes no second connection.
  EXPECT_FALSE(on_worker([&] { return port->acceptor.is_open(); }));
  EXPECT_FALSE(connect_to(port->port).valid());
  EXPECT_FALSE(port->timed_out);
  close_on_worker(socket);
  EXPECT_TRUE(client.ends_without_more_data());
}

TEST_F(TransferPortTest, APortNobodyConnectsToClosesAfterTheTimeout) {
  std::optional<ferry::protocol::Error> error;
  auto port = bound(0, PortRange{32768, 60999}, error);
  ASSERT_FALSE(error) << error->text;
  const auto started = Clock::now();
  auto accepted = accepting(port, std::chrono::seconds(1));
  ASSERT_EQ(accepted.wait_until(deadline()), std::future_status::ready);
  EXPECT_GE(Clock::now() - started, std::chrono::milliseconds(900));
  EXPECT_FALSE(accepted.get());
  EXPECT_TRUE(port->timed_out);
  EXPECT_FALSE(connect_to(port->port).valid());
  EXPECT_FALSE(wait_for_log(fmt::format("session 7: transfer port {} closed: nobody connected "
                                        "within 1 s",
                                        port->port))
                   .empty());
}

TEST_F(TransferPortTest, ClosingTheAcceptorEndsTheWaitAtOnce) {
  std::optional<ferry::protocol::Error> error;
  auto port = bound(0, PortRange{32768, 60999}, error);
  ASSERT_FALSE(error) << error->text;
  auto accepted = accepting(port, std::chrono::seconds(3));
  on_worker([&] {
    // What a control session does at its end.
    port->timer.cancel();
    port->acceptor.close();
  });
  ASSERT_EQ(accepted.wait_for(std::chrono::seconds(1)), std::future_status::ready);
  EXPECT_FALSE(accepted.get());
  EXPECT_FALSE(port->timed_out);
}

TEST(EndpointText, NormalizesMappedAddresses) {
  EXPECT_EQ(normalize(asio::ip::make_address("::ffff:127.0.0.2")),
            asio::ip::make_address("127.0.0.2"));
  EXPECT_EQ(normalize(asio::ip::make_address("::1")), asio::ip::make_address("::1"));
  EXPECT_EQ(to_text(tcp::endpoint(asio::ip::make_address("::ffff:10.0.0.1"), 5)), "10.0.0.1:5");
  EXPECT_EQ(to_text(tcp::endpoint(asio::ip::make_address("::1"), 2121)), "[::1]:2121");
}

}  // namespace
}  // namespace ferryd::testing
