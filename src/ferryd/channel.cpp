#include "channel.hpp"

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <cerrno>

#include "ferry/util/errno_text.hpp"

namespace ferryd {
namespace {

using ferry::tls::Step;
using ferry::tls::Want;

// What OpenSSL reads at once on a transfer connection: four full records.
constexpr std::size_t kTransferReadBuffer = std::size_t{4} * (16384 + 256);

Step failed(int error) {
  return Step{Want::failed, 0, ferry::util::errno_text(error)};
}

}  // namespace

Step Channel::open(const std::shared_ptr<const ferry::tls::Context>& context) {
  if (stage_ == Stage::first_byte) {
    unsigned char first = 0;
    ssize_t n = 0;
    do {
      n = ::recv(fd_, &first, 1, MSG_PEEK | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) return errno == EAGAIN ? Step{Want::read, 0, {}} : failed(errno);
    if (n == 0) return Step{Want::closed, 0, {}};
    if (first != kTlsHandshakeByte || !context) {
      stage_ = Stage::open;
      return Step{};
    }
    context_ = context;
    session_ = ferry::tls::Session::accept(*context_, fd_);
    if (!session_) return Step{Want::failed, 0, "cannot start TLS"};
    SSL_set_num_tickets(session_->native(), static_cast<std::size_t>(tickets_));
    if (tickets_ == 0) {  // a transfer connection
      session_->read_ahead(kTransferReadBuffer);
    }
    stage_ = Stage::handshake;
  }
  if (stage_ == Stage::handshake) {
    Step step = session_->handshake();
    if (step.want != Want::done) return step;
    stage_ = Stage::open;
  }
  return Step{};
}

Step Channel::read(char* data, std::size_t size) {
  if (session_) return session_->read(data, size);
  for (;;) {
    const ssize_t n = ::recv(fd_, data, size, MSG_DONTWAIT);
    if (n > 0) return Step{Want::done, static_cast<std::size_t>(n), {}};
    if (n == 0) return Step{Want::closed, 0, {}};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return Step{Want::read, 0, {}};
    if (errno == ECONNRESET) return Step{Want::closed, 0, ferry::util::errno_text(errno)};
    return failed(errno);
  }
}

Step Channel::write(const char* data, std::size_t size) {
  if (session_) return session_->write(data, size);
  for (;;) {
    const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n >= 0) return Step{Want::done, static_cast<std::size_t>(n), {}};
    if (errno == EINTR) continue;
    if (errno == EAGAIN) return Step{Want::write, 0, {}};
    return failed(errno);
  }
}

void Channel::close_notify() {
  if (session_ && stage_ == Stage::open) session_->close_notify();
}

}  // namespace ferryd
