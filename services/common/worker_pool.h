// A bounded pool of threads for blocking work (SQL, synchronous Redis), so
// that no gRPC callback thread ever blocks.
#ifndef EDUAID_COMMON_WORKER_POOL_H_
#define EDUAID_COMMON_WORKER_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace eduaid {

// Thread-safe. The destructor runs every queued task, then joins.
class WorkerPool {
 public:
  // `threads` workers; at most `max_queue` tasks wait (0 = unbounded).
  WorkerPool(int threads, size_t max_queue);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Queues `task`. Returns false, without running it, when the queue is
  // full (callers answer RESOURCE_EXHAUSTED) or the pool is stopping.
  bool Submit(std::function<void()> task);

  // Tasks waiting (for metrics).
  size_t queued() const;

  // Waits until no task is queued or running. Submit() keeps working.
  void Drain();

 private:
  void Loop();
  mutable absl::Mutex mu_;
  std::deque<std::function<void()>> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
  const size_t max_queue_;
  std::vector<std::thread> threads_;
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_WORKER_POOL_H_
