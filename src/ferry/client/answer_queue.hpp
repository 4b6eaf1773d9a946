#pragma once

// The answers the control connection waits for, in the order of its requests: answers
// come in that order (PROTOCOL.md, section 2), so each one read belongs to the oldest
// request still unanswered. An answer read while the caller waits for a later one (a
// prefetched OPEN's, read before a STAT's) is kept until its owner takes it.

#include <array>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>

namespace ferry::client {

class AnswerQueue {
 public:
  enum class Kind { features, open, reply };

  // A request of this kind has been sent.
  void sent(Kind kind) { awaited_.push_back(kind); }

  // Answers still to arrive, of every kind.
  std::size_t awaited() const { return awaited_.size(); }

  // Whether an answer of this kind is still to arrive.
  bool awaiting(Kind kind) const;

  // Answers of this kind still to arrive or arrived and not yet taken.
  std::size_t pending(Kind kind) const;

  // Files the answer just read under the oldest request; that request's kind, or nullopt
  // when no answer was awaited (the peer sent one nobody asked for).
  std::optional<Kind> arrived(std::string head);

  // The oldest arrived answer of this kind, removed from the queue.
  std::optional<std::string> take(Kind kind);

  void clear();

 private:
  std::deque<Kind> awaited_;
  std::array<std::deque<std::string>, 3> arrived_;
};

}  // namespace ferry::client
