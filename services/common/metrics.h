// gRPC server metrics in the names dashboards expect:
//   grpc_server_started_total, grpc_server_handled_total,
//   grpc_server_handling_seconds{grpc_type, grpc_service, grpc_method[,
//   grpc_code]}
// collected by a server interceptor, so every method of every service is
// measured without code in the handlers.
#ifndef EDUAID_COMMON_METRICS_H_
#define EDUAID_COMMON_METRICS_H_

#include <array>
#include <atomic>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace eduaid {

// Default histogram buckets for latency, in seconds.
const prometheus::Histogram::BucketBoundaries& LatencyBuckets();

class GrpcServerMetrics {
 public:
  explicit GrpcServerMetrics(prometheus::Registry& registry);

  struct Method {
    prometheus::Counter* started = nullptr;
    prometheus::Histogram* seconds = nullptr;
    std::string service, method, type;
    std::array<std::atomic<prometheus::Counter*>, 17>
        handled{};  // by grpc code
  };

  // The handles for "/pkg.Service/Method" of `type` ("unary", ...),
  // created on first use. Thread-safe; the pointer stays valid.
  Method* ForMethod(const char* full_method, const char* type);

  // The handled counter of `m` for `code` (created on first use).
  prometheus::Counter* Handled(Method* m, int code);

  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

 private:
  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& seconds_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Method>> methods_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_METRICS_H_
