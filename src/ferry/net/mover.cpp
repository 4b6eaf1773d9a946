#include "ferry/net/mover.hpp"

#include <sys/sendfile.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace ferry::net {

int write_all_to(int fd, std::string_view data, off_t* offset) {
  const char* next = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n =
        offset != nullptr ? ::pwrite(fd, next, left, *offset) : ::write(fd, next, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // a regular file or pipe never takes 0 of a non-empty write
    next += n;
    left -= static_cast<std::size_t>(n);
    if (offset != nullptr) *offset += n;
  }
  return 0;
}

SendStep send_file_step(int socket, int file, off_t& offset, std::size_t max) {
  using State = SendStep::State;
  for (;;) {
    const ssize_t n = ::sendfile(socket, file, &offset, max);
    if (n > 0) return {State::moved, static_cast<std::size_t>(n), 0};
    if (n == 0) return {State::file_ended, 0, 0};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return {State::would_block, 0, 0};
    if (errno == EPIPE || errno == ECONNRESET) return {State::peer_closed, 0, errno};
    return {State::failed, 0, errno};
  }
}

char* thread_copy_buffer() {
  thread_local std::vector<char> buffer(kCopyBufferSize);
  return buffer.data();
}

}  // namespace ferry::net
