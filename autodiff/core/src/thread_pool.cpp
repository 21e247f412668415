#include "nabla/autodiff/thread_pool.hpp"

#include <fmt/format.h>

#include <atomic>
#include <exception>
#include <limits>
#include <system_error>

#include "nabla/autodiff/error.hpp"

namespace nabla {

namespace {
// Set on the pools' worker threads (Note [Thread pool]: nested runs go inline).
constinit thread_local bool worker_thread = false;
}  // namespace

// One run(): the task, the next index to hand out, and the lowest failing index with its
// exception. Lives on the caller's stack until every worker has left it.
struct ThreadPool::Job {
  Job(const std::function<void(std::size_t)>* task, std::size_t n) : task(task), n(n) {}
  const std::function<void(std::size_t)>* task;
  std::size_t n;
  std::atomic<std::size_t> next{0};
  std::atomic<std::size_t> failed{std::numeric_limits<std::size_t>::max()};
  std::mutex error_mutex;
  std::exception_ptr error;

  // Runs indices until none is left; an index above a failed one is skipped (its exception
  // could not be the first in index order).
  void drain() {
    for (std::size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) {
      if (i > failed.load(std::memory_order_relaxed)) continue;
      try {
        (*task)(i);
      } catch (...) {
        const std::lock_guard lock(error_mutex);
        if (i < failed.load()) {
          failed.store(i);
          error = std::current_exception();
        }
      }
    }
  }
};

ThreadPool::ThreadPool(std::size_t threads) {
  if (threads == 0) {
    detail::fail("nabla::ThreadPool", "threads = 0 (expected at least 1)");
  }
  workers_.reserve(threads);
  try {
    for (std::size_t t = 0; t < threads; ++t) workers_.emplace_back([this] { work(); });
  } catch (const std::system_error& e) {
    const std::size_t started = workers_.size();
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    for (std::thread& w : workers_) w.join();
    detail::fail("nabla::ThreadPool",
                 fmt::format("could not start thread {} of {}: {} (expected a thread count the "
                             "system allows)",
                             started + 1, threads, e.what()));
  }
}

ThreadPool::~ThreadPool() {
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (std::thread& w : workers_) w.join();
}

std::size_t ThreadPool::default_size() noexcept {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

bool ThreadPool::on_worker() noexcept { return worker_thread; }

void ThreadPool::work() {
  worker_thread = true;
  std::size_t seen = 0;
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [&] { return stop_ || (job_ != nullptr && generation_ != seen); });
    if (stop_) return;
    seen = generation_;
    Job* job = job_;
    ++busy_;
    lock.unlock();
    job->drain();
    lock.lock();
    if (--busy_ == 0) done_.notify_all();
  }
}

void ThreadPool::run(std::size_t n, const std::function<void(std::size_t)>& task) {
  if (n == 0) return;
  Job job(&task, n);
  if (worker_thread) {  // nested: inline, in order (Note [Thread pool])
    job.drain();
  } else {
    const std::lock_guard turn(run_mutex_);
    {
      const std::lock_guard lock(mutex_);
      job_ = &job;
      ++generation_;
    }
    wake_.notify_all();
    std::unique_lock lock(mutex_);
    // Every index handed out and no worker inside the job: nobody touches it any more.
    done_.wait(lock, [&] { return busy_ == 0 && job.next.load() >= n; });
    job_ = nullptr;
  }
  if (job.error) std::rethrow_exception(job.error);
}

ThreadPool& default_thread_pool() {
  static ThreadPool pool;
  return pool;
}

}  // namespace nabla
