#pragma once

// The data movers of client and server: the loops over write(2), sendfile(2) and splice(2)
// that retry EINTR and short writes, written once. Nothing here waits for a socket: each
// call does what the descriptors take now and says why it stopped, so the client waits
// with poll(2) (data_copy.hpp) and the server with asio (src/ferryd/transfer_*.cpp).
//
// Offsets: a null `offset` means the descriptor's own file position; a pointer means that
// position, which is advanced and the file position left alone (pwrite(2), splice's off_out,
// sendfile's offset), for a resume that writes into the middle of a file.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ferry::net {

// Writes all of `data`; 0 or the errno of the write that failed.
int write_all_to(int fd, std::string_view data, off_t* offset = nullptr);

// One sendfile(2) of at most `max` bytes of `file` from `offset` (advanced) into `socket`.
struct SendStep {
  enum class State {
    moved,        // `bytes` went out
    would_block,  // the socket's buffer is full: wait until it is writable
    file_ended,   // the file has no byte at `offset`: it shrank
    peer_closed,  // EPIPE / ECONNRESET
    failed,       // `error` is the errno
  };
  State state = State::moved;
  std::size_t bytes = 0;
  int error = 0;
};
SendStep send_file_step(int socket, int file, off_t& offset, std::size_t max);

// A buffer of the calling thread for the copies that cannot splice (kCopyBufferSize bytes):
// a transfer never allocates per chunk, and one thread's buffer is never another's.
constexpr std::size_t kCopyBufferSize = std::size_t{256} * 1024;
char* thread_copy_buffer();

}  // namespace ferry::net
