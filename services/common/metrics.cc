#include "services/common/metrics.h"

#include <chrono>

#include "services/common/status.h"

namespace eduaid {

const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* kBuckets = new prometheus::Histogram::BucketBoundaries{
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *kBuckets;
}

GrpcServerMetrics::GrpcServerMetrics(prometheus::Registry& registry)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, "
                         "regardless of success or failure.")
                   .Register(registry)),
      seconds_(prometheus::BuildHistogram()
                   .Name("grpc_server_handling_seconds")
                   .Help("Histogram of response latency (seconds) of gRPC "
                         "that had been application-level handled by the "
                         "server.")
                   .Register(registry)) {}

GrpcServerMetrics::Method* GrpcServerMetrics::ForMethod(const char* full_method,
                                                        const char* type) {
  absl::string_view name = full_method ? full_method : "/unknown/unknown";
  {
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(name);
    if (it != methods_.end()) return it->second.get();
  }
  absl::MutexLock lock(&mu_);
  auto& slot = methods_[name];
  if (!slot) {
    slot = std::make_unique<Method>();
    absl::string_view rest = name.substr(name[0] == '/' ? 1 : 0);
    size_t slash = rest.find('/');
    slot->service = std::string(rest.substr(0, slash));
    slot->method = slash == absl::string_view::npos
                       ? ""
                       : std::string(rest.substr(slash + 1));
    slot->type = type;
    prometheus::Labels labels{{"grpc_type", slot->type},
                              {"grpc_service", slot->service},
                              {"grpc_method", slot->method}};
    slot->started = &started_.Add(labels);
    slot->seconds = &seconds_.Add(labels, LatencyBuckets());
  }
  return slot.get();
}

prometheus::Counter* GrpcServerMetrics::Handled(Method* m, int code) {
  if (code < 0 || code > 16) code = 2;
  if (auto* c = m->handled[code].load(std::memory_order_acquire)) return c;
  absl::MutexLock lock(&mu_);
  if (!m->handled[code].load(std::memory_order_relaxed)) {
    m->handled[code] = &handled_.Add(
        {{"grpc_type", m->type},
         {"grpc_service", m->service},
         {"grpc_method", m->method},
         {"grpc_code", GrpcCodeName(static_cast<grpc::StatusCode>(code))}});
  }
  return m->handled[code];
}

namespace {

const char* TypeName(grpc::experimental::ServerRpcInfo::Type type) {
  using T = grpc::experimental::ServerRpcInfo::Type;
  switch (type) {
    case T::UNARY:
      return "unary";
    case T::CLIENT_STREAMING:
      return "client_stream";
    case T::SERVER_STREAMING:
      return "server_stream";
    case T::BIDI_STREAMING:
      return "bidi_stream";
    default:
      return "unary";
  }
}

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcServerMetrics* metrics,
                     grpc::experimental::ServerRpcInfo* info)
      : metrics_(metrics),
        method_(metrics->ForMethod(info->method(), TypeName(info->type()))),
        start_(std::chrono::steady_clock::now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    using H = grpc::experimental::InterceptionHookPoints;
    if (methods->QueryInterceptionHookPoint(H::POST_RECV_INITIAL_METADATA)) {
      method_->started->Increment();
    }
    if (methods->QueryInterceptionHookPoint(H::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      double secs = std::chrono::duration<double>(
                        std::chrono::steady_clock::now() - start_)
                        .count();
      method_->seconds->Observe(secs);
      metrics_->Handled(method_, status.error_code())->Increment();
    }
    methods->Proceed();
  }

 private:
  GrpcServerMetrics* metrics_;
  GrpcServerMetrics::Method* method_;
  std::chrono::steady_clock::time_point start_;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcServerMetrics* metrics)
      : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MetricsInterceptor(metrics_, info);
  }

 private:
  GrpcServerMetrics* metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcServerMetrics::InterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

}  // namespace eduaid
