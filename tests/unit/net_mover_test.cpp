// The movers of client and server (ferry/net/mover.hpp, splice_pipe.hpp): EINTR and short
// writes aside, what each step says about the descriptors it was given, and offsets.

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "ferry/fs/fd.hpp"
#include "ferry/net/mover.hpp"
#include "ferry/net/splice_pipe.hpp"

namespace {

using ferry::fs::Fd;
using ferry::net::SendStep;
using ferry::net::SplicePipe;

class MoverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/ferry-mover-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Fd open_file(const std::string& name, int flags) {
    return Fd(::open((dir_ + "/" + name).c_str(), flags | O_CLOEXEC, 0644));
  }
  static std::string read_all(int fd) {
    std::string text;
    char buffer[4096];
    ::lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
      text.append(buffer, n);
    return text;
  }
  // A connected stream pair: [0] writes what [1] reads. Non-blocking, as the movers expect.
  static void stream_pair(Fd& a, Fd& b) {
    int ends[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, ends), 0);
    a = Fd(ends[0]);
    b = Fd(ends[1]);
  }

  std::string dir_;
};

TEST_F(MoverTest, WriteAllAtAnOffsetLeavesTheFilePositionAlone) {
  Fd file = open_file("f", O_RDWR | O_CREAT);
  ASSERT_EQ(ferry::net::write_all_to(file.get(), "hello world"), 0);
  off_t offset = 6;
  ASSERT_EQ(ferry::net::write_all_to(file.get(), "WORLD", &offset), 0);
  EXPECT_EQ(offset, 11);
  EXPECT_EQ(::lseek(file.get(), 0, SEEK_CUR), 11);  // where the plain write left it
  EXPECT_EQ(read_all(file.get()), "hello WORLD");
}

TEST_F(MoverTest, WriteAllReportsTheErrno) {
  Fd file = open_file("r", O_RDONLY | O_CREAT);
  EXPECT_EQ(ferry::net::write_all_to(file.get(), "x"), EBADF);
}

TEST_F(MoverTest, SendFileStepsFromAnOffsetThenSaysTheFileEnded) {
  Fd file = open_file("s", O_RDWR | O_CREAT);
  ASSERT_EQ(ferry::net::write_all_to(file.get(), "0123456789"), 0);
  Fd out;
  Fd in;
  stream_pair(out, in);
  off_t offset = 4;
  auto step = ferry::net::send_file_step(out.get(), file.get(), offset, 100);
  ASSERT_EQ(step.state, SendStep::State::moved);
  EXPECT_EQ(step.bytes, 6U);
  EXPECT_EQ(offset, 10);
  char got[16] = {};
  ASSERT_EQ(::read(in.get(), got, sizeof got), 6);
  EXPECT_EQ(std::string_view(got, 6), "456789");
  step = ferry::net::send_file_step(out.get(), file.get(), offset, 100);
  EXPECT_EQ(step.state, SendStep::State::file_ended);
}

TEST_F(MoverTest, SendFileStepWouldBlockOnAFullSocketAndSeesAClosedPeer) {
  Fd file = open_file("big", O_RDWR | O_CREAT);
  const std::string block(1 << 20, 'b');
  for (int i = 0; i < 16; ++i)
    ASSERT_EQ(ferry::net::write_all_to(file.get(), block), 0);
  Fd out;
  Fd in;
  stream_pair(out, in);
  off_t offset = 0;
  SendStep step;
  for (int i = 0; i < 64 && step.state == SendStep::State::moved; ++i) {
    step = ferry::net::send_file_step(out.get(), file.get(), offset, 1 << 20);
  }
  EXPECT_EQ(step.state, SendStep::State::would_block);
  in.reset();
  (void)std::signal(SIGPIPE, SIG_IGN);
  step = ferry::net::send_file_step(out.get(), file.get(), offset, 1 << 20);
  EXPECT_EQ(step.state, SendStep::State::peer_closed);
}

TEST_F(MoverTest, SplicePipeFillsThenDrainsAtAnOffset) {
  auto pipe = SplicePipe::open(1 << 16);
  ASSERT_TRUE(pipe);
  Fd out;
  Fd in;
  stream_pair(out, in);
  Fd file = open_file("p", O_RDWR | O_CREAT);
  ASSERT_EQ(ferry::net::write_all_to(file.get(), "----------"), 0);
  auto step = pipe->fill(in.get(), 100);
  EXPECT_EQ(step.state, SplicePipe::Step::State::would_block);
  ASSERT_EQ(::write(out.get(), "abc", 3), 3);
  step = pipe->fill(in.get(), 100);
  ASSERT_EQ(step.state, SplicePipe::Step::State::moved);
  ASSERT_EQ(step.bytes, 3U);
  off_t offset = 2;
  step = pipe->drain(file.get(), step.bytes, &offset);
  ASSERT_EQ(step.state, SplicePipe::Step::State::moved);
  EXPECT_TRUE(step.spliced);
  EXPECT_EQ(offset, 5);
  EXPECT_EQ(read_all(file.get()), "--abc-----");
  out.reset();
  EXPECT_EQ(pipe->fill(in.get(), 100).state, SplicePipe::Step::State::end_of_stream);
}

// splice(2) refuses a file opened with O_APPEND: the bytes already in the pipe go through the
// buffer, none is lost, and the caller is told to stop splicing.
TEST_F(MoverTest, SplicePipeDrainsThroughTheBufferWhereTheFileRefusesSplice) {
  auto pipe = SplicePipe::open(1 << 16);
  ASSERT_TRUE(pipe);
  Fd out;
  Fd in;
  stream_pair(out, in);
  Fd file = open_file("a", O_RDWR | O_CREAT | O_APPEND);
  ASSERT_EQ(::write(out.get(), "appended", 8), 8);
  auto step = pipe->fill(in.get(), 100);
  ASSERT_EQ(step.state, SplicePipe::Step::State::moved);
  step = pipe->drain(file.get(), step.bytes);
  ASSERT_EQ(step.state, SplicePipe::Step::State::moved);
  EXPECT_EQ(step.bytes, 8U);
  EXPECT_FALSE(step.spliced);
  EXPECT_EQ(read_all(file.get()), "appended");
}

TEST_F(MoverTest, SplicePipeReportsAnOutputError) {
  auto pipe = SplicePipe::open(1 << 16);
  ASSERT_TRUE(pipe);
  Fd out;
  Fd in;
  stream_pair(out, in);
  Fd file = open_file("ro", O_RDONLY | O_CREAT);
  ASSERT_EQ(::write(out.get(), "x", 1), 1);
  auto step = pipe->fill(in.get(), 100);
  ASSERT_EQ(step.state, SplicePipe::Step::State::moved);
  step = pipe->drain(file.get(), step.bytes);
  EXPECT_EQ(step.state, SplicePipe::Step::State::output_error);
  EXPECT_EQ(step.error, EBADF);
}

}  // namespace
