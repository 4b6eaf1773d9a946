#include <utility>

#include "answer.hpp"
#include "ferry/client/listing_table.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/net/error.hpp"
#include "trace.hpp"
#include "transfers.hpp"

namespace ferry::cli {
namespace {
constexpr std::size_t kMaxListingBytes = 64 << 20;

// The wait allowed now: --timeout, or less when the control connection has a deadline
// (completion, which must not hold the prompt longer than --timeout in all).
net::Timeout budget(ClientContext& context) {
  return context.control.budget();
}
}  // namespace

std::vector<protocol::Entry> list_remote(ClientContext& context, const std::string& directory) {
  auto transfer = context.control.open_transfer();
  net::Link& connection = transfer.socket;
  const std::optional<std::string> argument =
      directory.empty() ? std::nullopt : std::optional(directory);
  const std::string request = transfer.request(client::ls_body(argument));
  trace_sent(request);
  connection.write_all(request, budget(context));
  std::string body;
  const std::string head = connection.read_head(body, budget(context));
  trace_received(head);
  const auto answer = parse_answer(head);
  if (!answer.is("OK")) throw_unexpected(answer, "OK");
  context.control.prefetch_next();

  char chunk[65536];
  for (;;) {
    const std::size_t n = connection.read_some(chunk, sizeof chunk, budget(context));
    if (n == 0) break;
    if (body.size() + n > kMaxListingBytes) {
      throw net::NetError(net::ErrorKind::protocol, "listing longer than 64 MiB");
    }
    body.append(chunk, n);
  }
  connection.reset();

  auto listing = client::parse_listing(body);
  if (!listing.ok()) throw net::NetError(net::ErrorKind::protocol, listing.error);
  return std::move(listing.entries);
}

}  // namespace ferry::cli
