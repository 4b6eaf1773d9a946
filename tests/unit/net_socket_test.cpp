#include <gtest/gtest.h>
#include <sys/socket.h>

#include <chrono>

#include "ferry/fs/fd.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/socket.hpp"

using namespace std::chrono_literals;
namespace net = ferry::net;

namespace {

struct SocketPair {
  ferry::fs::Fd a, b;
  SocketPair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    a.reset(fds[0]);
    b.reset(fds[1]);
  }
};

net::ErrorKind kind_of_read_head(int fd, std::string& buffer, net::Timeout timeout) {
  try {
    net::read_head(fd, buffer, timeout);
  } catch (const net::NetError& e) {
    return e.kind();
  }
  ADD_FAILURE() << "read_head did not throw";
  return net::ErrorKind::system;
}

}  // namespace

TEST(NetSocket, ReadHeadKeepsTheBytesAfterTheHead) {
  SocketPair pair;
  net::write_all(pair.a.get(), "OK\nFILESIZE: 5\n\nhello", 1000ms);
  std::string buffer;
  EXPECT_EQ(net::read_head(pair.b.get(), buffer, 1000ms), "OK\nFILESIZE: 5\n\n");
  EXPECT_EQ(buffer, "hello");
}

TEST(NetSocket, ReadHeadTimesOut) {
  SocketPair pair;
  std::string buffer;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(kind_of_read_head(pair.b.get(), buffer, 100ms), net::ErrorKind::timed_out);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 90ms);
}

TEST(NetSocket, ReadHeadReportsCloseBeforeAnyByte) {
  SocketPair pair;
  pair.a.reset();
  std::string buffer;
  EXPECT_EQ(kind_of_read_head(pair.b.get(), buffer, 1000ms), net::ErrorKind::closed);
}

TEST(NetSocket, ReadHeadReportsCloseInTheMiddle) {
  SocketPair pair;
  net::write_all(pair.a.get(), "OK\n", 1000ms);
  pair.a.reset();
  std::string buffer;
  EXPECT_EQ(kind_of_read_head(pair.b.get(), buffer, 1000ms), net::ErrorKind::protocol);
}

TEST(NetSocket, ReadHeadRefusesMoreThan8KiB) {
  SocketPair pair;
  net::write_all(pair.a.get(), "OK\nX: " + std::string(9000, 'a'), 1000ms);
  std::string buffer;
  EXPECT_EQ(kind_of_read_head(pair.b.get(), buffer, 1000ms), net::ErrorKind::protocol);
}

TEST(NetSocket, PeerHasClosed) {
  SocketPair pair;
  EXPECT_FALSE(net::peer_has_closed(pair.b.get()));
  pair.a.reset();
  EXPECT_TRUE(net::peer_has_closed(pair.b.get()));
}
