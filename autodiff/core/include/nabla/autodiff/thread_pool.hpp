// nabla — ThreadPool: a fixed set of worker threads, each recording on its own tape.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace nabla {

// Note [Thread pool]
// A ThreadPool owns `size()` worker threads started once and reused by every call, so a
// training loop pays no thread start per step. run(n, task) hands the indices 0 … n−1 out
// one at a time (an atomic counter: a thread that finishes early takes the next index) and
// returns when all are done; the caller waits and does not run tasks itself, so every task
// runs on a worker, on that worker's own default tape (tapes are per thread, tape.hpp).
// Which worker runs which index varies from run to run: anything that must not depend on
// it (nabla::parallel_sum's result) is written per index and combined in index order.
//
// Errors: a task that throws does not stop the others already running; indices above the
// lowest failing one that have not started are skipped, and run() rethrows the exception of
// the lowest failing index (the first in index order, whatever the thread count), after
// every worker has left the task. Nesting: run() called from a worker thread (of any pool)
// runs the tasks one after another on that thread instead of waiting for workers that may
// all be busy waiting themselves (a deadlock); the result is the same. Calls from several
// outside threads take turns.

/// A fixed set of worker threads that runs tasks over index ranges (Note [Thread pool]).
/// Reusable: the threads are started once, by the constructor, and joined by the destructor.
///
/// Example:
///   nabla::ThreadPool pool(4);
///   std::vector<double> out(100);
///   pool.run(out.size(), [&](std::size_t i) { out[i] = std::sqrt(double(i)); });
class ThreadPool {
 public:
  /// Starts `threads` worker threads (the default: one per hardware thread).
  /// @throws nabla::Error when threads is 0, or the system refuses to start a thread.
  explicit ThreadPool(std::size_t threads = default_size());
  /// Joins the workers (waiting for a run in progress to end).
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// The number of worker threads.
  [[nodiscard]] std::size_t size() const noexcept { return workers_.size(); }

  /// Runs task(i) for every i in 0 … n−1 on the workers and returns when all have run
  /// (n = 0: returns at once). From a worker thread, runs them in order on the calling thread.
  /// @throws the exception of the lowest index whose task threw (Note [Thread pool]).
  void run(std::size_t n, const std::function<void(std::size_t)>& task);

  /// One thread per hardware thread (std::thread::hardware_concurrency(), 1 when unknown).
  [[nodiscard]] static std::size_t default_size() noexcept;

  /// True on a worker thread of any ThreadPool.
  [[nodiscard]] static bool on_worker() noexcept;

 private:
  struct Job;
  void work();
  std::vector<std::thread> workers_;
  std::mutex run_mutex_;          // one run at a time from outside threads
  std::mutex mutex_;              // guards job_, generation_, busy_, stop_
  std::condition_variable wake_;  // workers: a job or stop
  std::condition_variable done_;  // the caller: the job is finished
  Job* job_ = nullptr;
  std::size_t generation_ = 0;  // bumped by every run, so a worker joins each job once
  std::size_t busy_ = 0;        // workers inside the current job
  bool stop_ = false;
};

/// The process-wide pool of ThreadPool::default_size() threads, started on first use (the
/// pool nabla::parallel_sum uses unless it is given one).
ThreadPool& default_thread_pool();

}  // namespace nabla
