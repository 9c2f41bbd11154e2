// The queue between the threads that submit commands and an engine's single writer thread:
// bounded (submitters wait for room), taken by the writer in batches of at most `max_batch`, with
// the writer's statistics and flush(). Both persistent engines use it. Thread-safe.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include "store/store.h"

namespace pointsmall::store {

template <typename Item>
class WriterQueue {
 public:
  WriterQueue(std::size_t max_queue, std::size_t max_batch)
      : max_queue_(max_queue), max_batch_(std::max<std::size_t>(1, max_batch)) {}

  // Queues `item` (moving from it only then), waiting while the queue is full. False when the
  // queue is closed: `item` is left as it was, e.g. to answer its callback.
  bool push(Item& item) {
    {
      std::unique_lock lock(mutex_);
      space_ready_.wait(lock, [&] { return queue_.size() < max_queue_ || closed_; });
      if (closed_) return false;
      queue_.push_back(std::move(item));
      ++pushed_;
    }
    work_ready_.notify_one();
    return true;
  }

  // For the writer: waits for items and moves up to max_batch of them into `batch`. False once
  // the queue is closed and empty, or abandoned.
  bool take(std::vector<Item>& batch) {
    {
      std::unique_lock lock(mutex_);
      work_ready_.wait(lock, [&] { return !queue_.empty() || closed_; });
      if (abandoned_ || queue_.empty()) return false;
      const std::size_t n = std::min(queue_.size(), max_batch_);
      for (std::size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    space_ready_.notify_all();
    return true;
  }

  // For the writer, once a batch's callbacks ran: counts it and wakes flush().
  void settled(std::size_t size) {
    {
      std::lock_guard lock(mutex_);
      settled_ += size;
      ++stats_.batches;
      stats_.commands += size;
      std::size_t bucket = 0;
      while (bucket < WriterStats::kBatchBucketBounds.size() &&
             size > WriterStats::kBatchBucketBounds[bucket])
        ++bucket;
      ++stats_.batch_size_buckets[bucket];
    }
    batch_settled_.notify_all();
  }

  // Returns once every item pushed before the call is settled (or the queue was abandoned).
  void flush() {
    std::unique_lock lock(mutex_);
    const std::uint64_t target = pushed_;
    batch_settled_.wait(lock, [&] { return settled_ >= target || abandoned_; });
  }

  // No more pushes; the writer takes what is queued, then take() returns false.
  void close() { end(false); }
  // As close(), but take() returns false at once: what is queued stays unanswered (a crash).
  void abandon() { end(true); }
  [[nodiscard]] bool abandoned() const {
    std::lock_guard lock(mutex_);
    return abandoned_;
  }

  [[nodiscard]] WriterStats stats() const {
    std::lock_guard lock(mutex_);
    WriterStats stats = stats_;
    stats.queue_depth = queue_.size();
    return stats;
  }

 private:
  void end(bool abandon) {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      abandoned_ = abandoned_ || abandon;
    }
    work_ready_.notify_all();
    space_ready_.notify_all();
    batch_settled_.notify_all();
  }

  const std::size_t max_queue_;
  const std::size_t max_batch_;
  mutable std::mutex mutex_;
  std::condition_variable work_ready_;     // the writer waits for items
  std::condition_variable space_ready_;    // submitters wait for room
  std::condition_variable batch_settled_;  // flush() waits for the writer
  std::deque<Item> queue_;                 // guarded by mutex_
  WriterStats stats_;                      // guarded by mutex_ (queue_depth unused)
  std::uint64_t pushed_ = 0;               // guarded by mutex_
  std::uint64_t settled_ = 0;              // guarded by mutex_
  bool closed_ = false;                    // guarded by mutex_
  bool abandoned_ = false;                 // guarded by mutex_
};

}  // namespace pointsmall::store
