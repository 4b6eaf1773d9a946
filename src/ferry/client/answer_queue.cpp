#include "ferry/client/answer_queue.hpp"

#include <algorithm>
#include <utility>

namespace ferry::client {
namespace {
std::size_t slot(AnswerQueue::Kind kind) {
  return static_cast<std::size_t>(kind);
}
}  // namespace

bool AnswerQueue::awaiting(Kind kind) const {
  return std::find(awaited_.begin(), awaited_.end(), kind) != awaited_.end();
}

std::size_t AnswerQueue::pending(Kind kind) const {
  const auto coming = static_cast<std::size_t>(std::count(awaited_.begin(), awaited_.end(), kind));
  return coming + arrived_[slot(kind)].size();
}

std::optional<AnswerQueue::Kind> AnswerQueue::arrived(std::string head) {
  if (awaited_.empty()) return std::nullopt;
  const Kind kind = awaited_.front();
  awaited_.pop_front();
  arrived_[slot(kind)].push_back(std::move(head));
  return kind;
}

std::optional<std::string> AnswerQueue::take(Kind kind) {
  auto& answers = arrived_[slot(kind)];
  if (answers.empty()) return std::nullopt;
  std::string head = std::move(answers.front());
  answers.pop_front();
  return head;
}

void AnswerQueue::clear() {
  awaited_.clear();
  for (auto& answers : arrived_)
    answers.clear();
}

}  // namespace ferry::client
