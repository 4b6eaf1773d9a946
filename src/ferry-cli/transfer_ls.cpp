#include <cstdio>

#include <fmt/format.h>

#include "answer.hpp"
#include "ferry/client/listing_table.hpp"
#include "ferry/client/requests.hpp"
#include "ferry/net/error.hpp"
#include "transfers.hpp"

namespace ferry::cli {
namespace {
constexpr std::size_t kMaxListingBytes = 64 << 20;
}

void list_remote(ClientContext& context, const std::optional<std::string>& directory) {
  fs::Fd connection = context.control.open_transfer();
  net::write_all(connection.get(), client::ls_body(directory), context.timeout);
  std::string body;
  const auto answer = parse_answer(net::read_head(connection.get(), body, context.timeout));
  if (!answer.is("OK")) throw_unexpected(answer, "OK");
  context.control.prefetch_next();

  char chunk[65536];
  for (;;) {
    const std::size_t n = net::read_some(connection.get(), chunk, sizeof chunk, context.timeout);
    if (n == 0) break;
    if (body.size() + n > kMaxListingBytes) {
      throw net::NetError(net::ErrorKind::protocol, "listing longer than 64 MiB");
    }
    body.append(chunk, n);
  }
  connection.reset();

  const auto listing = client::parse_listing(body);
  if (!listing.ok()) throw net::NetError(net::ErrorKind::protocol, listing.error);
  fmt::print("{}", client::format_listing(listing.entries));
}

}  // namespace ferry::cli
