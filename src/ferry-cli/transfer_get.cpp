#include <cstdio>

#include <fmt/format.h>

#include "answer.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/client/terminal_text.hpp"
#include "ferry/net/error.hpp"
#include "ferry/net/link.hpp"
#include "ferry/protocol/message.hpp"
#include "local_target.hpp"
#include "prefetch_trigger.hpp"
#include "progress_line.hpp"
#include "trace.hpp"
#include "transfers.hpp"

namespace ferry::cli {

void get_file(ClientContext& context, const std::string& remote,
              const std::optional<std::string>& local) {
  LocalTarget target = LocalTarget::open(remote, local);
  auto transfer = context.control.open_transfer();
  net::Link& connection = transfer.socket;
  const std::string body = transfer.request(client::get_body(remote));
  trace_sent(body);
  connection.write_all(body, context.timeout);

  std::string data;  // the bytes that came with the answer head
  const std::string head = connection.read_head(data, context.timeout);
  trace_received(head);
  const auto answer = parse_answer(head);
  const std::string* size_text = answer.header("FILESIZE");
  const auto announced =
      size_text != nullptr ? protocol::parse_file_size(*size_text) : std::nullopt;
  if (!answer.is("OK") || !announced) throw_unexpected(answer, "OK with FILESIZE");
  const std::uint64_t size = *announced;

  const std::string name = client::base_name(remote);
  ProgressLine progress(context.progress, name, size);
  PrefetchTrigger prefetch(context.control, size, progress);
  prefetch.check(0);
  connection.receive_exact(data, size, target.fd(), target.name(), context.timeout, prefetch);
  connection.reset();
  target.commit();
  progress.erase();
  if (!context.quiet) {
    // With `get x -`, standard output carries the file: the summary goes to stderr.
    std::FILE* stream = target.is_stdout() ? stderr : stdout;
    fmt::print(stream, "{}\n", client::format_summary("received", name, size, progress.seconds()));
  }
}

}  // namespace ferry::cli
