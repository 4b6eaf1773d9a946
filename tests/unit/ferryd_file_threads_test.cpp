// The file threads (src/ferryd/file_threads.hpp): a thread per job in flight up to the bound,
// then a queue in order; idle threads end; join() runs what is queued.

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "file_threads.hpp"

namespace {

using namespace std::chrono_literals;
using ferryd::FileThreads;

// Holds every job that runs until released.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    ++waiting_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    changed_.notify_all();
  }
  bool wait_for_waiting(int count) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, 5s, [&] { return waiting_ >= count; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool open_ = false;
};

TEST(FileThreads, ASlowJobDoesNotHoldUpTheNext) {
  FileThreads threads(8, 10s);
  Gate gate;
  for (int i = 0; i < 5; ++i)
    threads.run([&gate] { gate.wait(); });
  // Five jobs wait at once: each got a thread of its own.
  ASSERT_TRUE(gate.wait_for_waiting(5));
  std::atomic<bool> ran{false};
  threads.run([&ran] { ran = true; });
  for (int i = 0; i < 500 && !ran; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_TRUE(ran);  // while the five still wait
  EXPECT_EQ(threads.most_threads(), 6U);
  gate.open();
}

TEST(FileThreads, PastTheBoundJobsQueueInOrder) {
  FileThreads threads(1, 10s);
  Gate gate;
  threads.run([&gate] { gate.wait(); });
  ASSERT_TRUE(gate.wait_for_waiting(1));
  std::mutex mutex;
  std::vector<int> order;
  for (int i = 0; i < 3; ++i) {
    threads.run([&, i] {
      std::lock_guard lock(mutex);
      order.push_back(i);
    });
  }
  std::this_thread::sleep_for(50ms);
  {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(order.empty());  // the one thread is held
  }
  EXPECT_EQ(threads.threads(), 1U);
  gate.open();
  threads.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2}));  // one thread: in the order queued
}

TEST(FileThreads, NeverMoreThreadsThanTheBound) {
  FileThreads threads(2, 10s);
  Gate gate;
  for (int i = 0; i < 6; ++i)
    threads.run([&gate] { gate.wait(); });
  ASSERT_TRUE(gate.wait_for_waiting(2));
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(threads.threads(), 2U);
  gate.open();
  threads.join();
  EXPECT_EQ(threads.most_threads(), 2U);
}

TEST(FileThreads, IdleThreadsEnd) {
  FileThreads threads(4, 50ms);
  std::atomic<int> ran{0};
  for (int i = 0; i < 3; ++i)
    threads.run([&ran] { ++ran; });
  for (int i = 0; i < 500 && threads.threads() > 0; ++i)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(ran, 3);
  EXPECT_EQ(threads.threads(), 0U);
  threads.run([&ran] { ++ran; });  // a new thread for the next job
  threads.join();
  EXPECT_EQ(ran, 4);
}

TEST(FileThreads, JoinRunsWhatIsQueued) {
  std::atomic<int> ran{0};
  {
    FileThreads threads(1, 10s);
    for (int i = 0; i < 20; ++i)
      threads.run([&ran] { ++ran; });
  }  // the destructor joins
  EXPECT_EQ(ran, 20);
}

}  // namespace
