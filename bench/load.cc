#include "bench/load.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <tuple>

namespace eduaid::bench {

LoadResult RunClosedLoop(int concurrency, std::chrono::milliseconds duration,
                         const StartCall& start) {
  using Clock = std::chrono::steady_clock;
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<double> latencies;
    int64_t errors = 0;
    std::string first_error;
    int active = 0;
    std::atomic<int64_t> next{0};
    Clock::time_point stop;
  };
  auto st = std::make_shared<State>();
  st->latencies.reserve(1 << 20);
  const auto begin = Clock::now();
  st->stop = begin + duration;
  std::function<void()> launch;
  auto launch_one = std::make_shared<std::function<void()>>();
  *launch_one = [st, &start, launch_one]() {
    int64_t i = st->next++;
    auto t0 = Clock::now();
    start(i, [st, t0, launch_one](const grpc::Status& s) {
      auto now = Clock::now();
      // OUT_OF_RANGE from `start` means "no work left": the slot retires.
      const bool exhausted = s.error_code() == grpc::StatusCode::OUT_OF_RANGE;
      bool again = now < st->stop && !exhausted;
      {
        std::lock_guard<std::mutex> lock(st->mu);
        if (exhausted) {
          --st->active;
          st->cv.notify_all();
          return;
        }
        st->latencies.push_back(
            std::chrono::duration<double, std::milli>(now - t0).count());
        if (!s.ok()) {
          if (st->errors++ == 0) st->first_error = s.error_message();
        }
        if (!again) {
          --st->active;
          st->cv.notify_all();
        }
      }
      if (again) (*launch_one)();
    });
  };
  {
    std::lock_guard<std::mutex> lock(st->mu);
    st->active = concurrency;
  }
  for (int i = 0; i < concurrency; ++i) (*launch_one)();
  std::unique_lock<std::mutex> lock(st->mu);
  st->cv.wait(lock, [&] { return st->active == 0; });
  double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  LoadResult r;
  r.calls = static_cast<int64_t>(st->latencies.size());
  r.errors = st->errors;
  r.first_error = st->first_error;
  r.qps = r.calls / secs;
  std::tie(r.p50_ms, r.p99_ms) = Percentiles(st->latencies);
  *launch_one = nullptr;
  return r;
}

std::pair<double, double> Percentiles(std::vector<double>& ms) {
  if (ms.empty()) return {0, 0};
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms[std::min(ms.size() - 1, ms.size() * 99 / 100)]};
}

double ProcStatusMiB(int pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  const std::string prefix = field + ":";
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      std::istringstream ss(line.substr(prefix.size()));
      double kb = 0;
      ss >> kb;
      return kb / 1024.0;
    }
  }
  return 0;
}

}  // namespace eduaid::bench
