// LS: `OK`, then the entries, streamed in directory order in batches of about 64 KiB. Each
// batch is read and stat'ed on a file thread, so that a huge or slow directory never holds
// up the worker, and at most one batch is in memory: a listing costs the same whatever the
// directory's size and however slowly the client reads.

#include <fmt/format.h>
#include <asio/write.hpp>
#include "use_nothrow.hpp"

#include <atomic>
#include <optional>

#include "ferry/fs/request_error.hpp"
#include "ferry/protocol/message.hpp"
#include "transfer.hpp"

namespace ferryd {
namespace {

using asio::awaitable;

constexpr std::size_t kListingBatch = std::size_t{64} * 1024;

// A place among the listings running at once, given back at the end of the request.
class ListingPlace {
 public:
  ListingPlace(std::atomic<std::size_t>& running, std::size_t limit)
      : running_(running), taken_(running.fetch_add(1) < limit) {}
  ListingPlace(const ListingPlace&) = delete;
  ListingPlace& operator=(const ListingPlace&) = delete;
  ~ListingPlace() { running_.fetch_sub(1); }
  bool taken() const { return taken_; }

 private:
  std::atomic<std::size_t>& running_;
  bool taken_;
};

}  // namespace

awaitable<Outcome> Transfer::list(const ferry::protocol::Ls& request) {
  const std::string& path = request.path;
  const ListingPlace place(state_.listings, state_.config.max_listings);
  if (!place.taken()) {
    ferry::protocol::Error busy{ferry::protocol::ErrorKind::busy,
                                fmt::format("server busy: too many listings at once (limit {})",
                                            state_.config.max_listings)};
    co_return co_await refuse(std::move(busy));
  }

  std::optional<ferry::fs::DirectoryListing> listing;
  pause_rate();
  const ferry::fs::SysError opened = co_await on_file_thread(state_, [&] {
    auto result = ferry::fs::DirectoryListing::open(*context_.root, path);
    if (!result) return result.error();
    listing.emplace(std::move(*result));
    return ferry::fs::SysError{};
  });
  resume_rate();
  if (opened.code != 0) {
    // Built outside the co_await expression: GCC 12 destroys the temporary of a conditional
    // expression inside one twice (a double free that crashed the server on `LS nope`).
    ferry::protocol::Error error = ferry::fs::request_error(opened, path.empty() ? "/" : path);
    co_return co_await refuse(std::move(error));
  }

  Outcome outcome;
  std::string batch = ferry::protocol::format_message("OK");
  for (bool more = true; more;) {
    pause_rate();
    ferry::fs::SysError failed;
    more = co_await on_file_thread(state_, [&] {
      auto result = listing->next_batch(batch, kListingBatch);
      if (!result) {
        failed = result.error();
        return false;
      }
      return *result;
    });
    resume_rate();
    if (failed.code != 0) {
      // The answer has begun: all that is left is to stop early. The log says why.
      outcome.error = "listing failed: " + ferry::fs::describe(failed);
      co_return outcome;
    }
    if (!co_await send(batch)) {
      outcome.error = cause("connection lost");
      co_return outcome;
    }
    outcome.bytes += batch.size();
    batch.clear();
  }
  co_return outcome;  // run() closes: the FIN follows the data
}

}  // namespace ferryd
