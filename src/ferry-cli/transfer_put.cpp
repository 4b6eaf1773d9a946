#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "answer.hpp"
#include "errors.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/link.hpp"
#include "ferry/protocol/message.hpp"
#include "ferry/util/errno_text.hpp"
#include "prefetch_trigger.hpp"
#include "progress_line.hpp"
#include "trace.hpp"
#include "transfers.hpp"

namespace ferry::cli {
namespace {

// The server answered (or closed) before it got every byte: its answer, if any, is an
// ERROR that says why; it is read with a short wait.
[[noreturn]] void report_early_end(net::Link& connection, std::uint64_t sent, std::uint64_t size,
                                   net::Timeout timeout) {
  std::string buffer;
  protocol::Message answer;
  try {
    const std::string head = connection.read_head(buffer, std::min(timeout, net::Timeout(5000)));
    trace_received(head);
    answer = parse_answer(head);
  } catch (const net::NetError&) {
    throw net::NetError(
        net::ErrorKind::protocol,
        fmt::format("the server closed the connection after {} of {} bytes", sent, size));
  }
  throw_unexpected(answer, "ERROR before all bytes were sent");
}

}  // namespace

void put_file(ClientContext& context, const std::string& local, const std::string& remote_name) {
  fs::Fd file(::open(local.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!file.valid())
    throw LocalError("cannot read " + local + ": " + ferry::util::errno_text(errno));
  struct stat st {};
  if (::fstat(file.get(), &st) != 0) {
    throw LocalError("cannot read " + local + ": " + ferry::util::errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) throw LocalError(local + " is not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);

  auto transfer = context.control.open_transfer(size <= ControlConnection::kPrefetchDistance
                                                    ? ControlConnection::Prefetch::before_connecting
                                                    : ControlConnection::Prefetch::later);
  net::Link& connection = transfer.socket;
  try {
    const std::string body = transfer.request(client::put_body(remote_name, size));
    trace_sent(body);
    connection.write_all(body, context.timeout);
  } catch (const net::NetError& e) {
    if (e.kind() != net::ErrorKind::system) throw;
    report_early_end(connection, 0, size, context.timeout);
  }

  const std::string name = client::base_name(local);
  ProgressLine progress(context.progress, name, size);
  PrefetchTrigger prefetch(context.control, size, progress, connection.fd());
  std::uint64_t sent = 0;
  const auto end = connection.send_file(file.get(), size, context.timeout, prefetch, sent);
  if (end != net::SendEnd::complete) report_early_end(connection, sent, size, context.timeout);

  std::string buffer;
  const std::string head = connection.read_head(buffer, context.timeout);
  trace_received(head);
  const auto answer = parse_answer(head);
  const std::string* size_text = answer.header("FILESIZE");
  const auto stored = size_text != nullptr ? protocol::parse_file_size(*size_text) : std::nullopt;
  if (!answer.is("OK") || !stored) throw_unexpected(answer, "OK with FILESIZE");
  if (*stored != size) {
    throw net::NetError(net::ErrorKind::protocol,
                        fmt::format("the server stored {} bytes of {}", *size_text, size));
  }
  connection.reset();
  progress.erase();
  if (!context.quiet) {
    fmt::print("{}\n", client::format_summary("sent", name, size, progress.seconds()));
  }
}

}  // namespace ferry::cli
