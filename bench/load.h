// A closed-loop load generator for unary gRPC calls: keeps `concurrency`
// calls in flight on the callback client API for a fixed time and reports
// throughput and latency percentiles.
#ifndef EDUAID_BENCH_LOAD_H_
#define EDUAID_BENCH_LOAD_H_

#include <chrono>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "grpcpp/grpcpp.h"

namespace eduaid::bench {

struct LoadResult {
  double qps = 0;
  double p50_ms = 0, p99_ms = 0;
  int64_t calls = 0, errors = 0;
  std::string first_error;
};

// `start(i, done)` must start call number i asynchronously and invoke
// done(status) when it completes (from any thread); done(OUT_OF_RANGE)
// without a call says there is no work left, and that slot stops.
using StartCall =
    std::function<void(int64_t, std::function<void(const grpc::Status&)>)>;

LoadResult RunClosedLoop(int concurrency, std::chrono::milliseconds duration,
                         const StartCall& start);

// Sorts `ms` and returns its (p50, p99); (0, 0) when empty.
std::pair<double, double> Percentiles(std::vector<double>& ms);

// A "<field>: N kB" line of /proc/<pid>/status in MiB (0 when unknown),
// e.g. "VmRSS", "RssAnon" (private memory), "RssFile" (mapped files).
double ProcStatusMiB(int pid, const std::string& field);

// VmRSS of a process in MiB (0 when unknown).
inline double RssMiB(int pid) { return ProcStatusMiB(pid, "VmRSS"); }

}  // namespace eduaid::bench

#endif  // EDUAID_BENCH_LOAD_H_
