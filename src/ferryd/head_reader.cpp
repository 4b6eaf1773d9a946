#include "head_reader.hpp"

#include <algorithm>

#include "ferry/protocol/limits.hpp"

namespace ferryd {

asio::awaitable<HeadRead> read_head(const ReadSome& read_some, std::string& buffer,
                                    std::size_t read_size, Watchdog& watchdog,
                                    std::chrono::seconds head_timeout) {
  using ferry::protocol::HeadEnd;
  using ferry::protocol::kMaxHeadBytes;
  HeadRead result;
  bool deadline_set = false;
  for (;;) {
    const HeadEnd end = ferry::protocol::find_head_end(buffer, kMaxHeadBytes);
    if (end.state == HeadEnd::State::complete) {
      auto parsed = ferry::protocol::parse_head(std::string_view(buffer).substr(0, end.length));
      buffer.erase(0, end.length);
      result.started = true;
      if (parsed.ok()) {
        result.outcome = HeadRead::Outcome::message;
        result.message = std::move(parsed.message);
      } else {
        result.outcome = HeadRead::Outcome::malformed;
        result.error = std::move(parsed.error);
      }
      co_return result;
    }
    if (end.state == HeadEnd::State::too_long) {
      result.started = true;
      result.outcome = HeadRead::Outcome::malformed;
      result.error = "message head too long (limit 8192 bytes)";
      co_return result;
    }
    if (!buffer.empty() && !deadline_set) {
      deadline_set = true;
      watchdog.expire_at(std::min(watchdog.deadline(), Watchdog::Clock::now() + head_timeout));
    }
    const std::size_t old_size = buffer.size();
    const std::size_t room = std::min(read_size, kMaxHeadBytes + 1 - old_size);
    buffer.resize(old_size + room);
    const ferry::tls::Step got = co_await read_some(buffer.data() + old_size, room);
    buffer.resize(old_size + got.bytes);
    if (got.want != ferry::tls::Want::done) {
      result.started = !buffer.empty();
      result.outcome = HeadRead::Outcome::closed;
      co_return result;
    }
  }
}

}  // namespace ferryd
