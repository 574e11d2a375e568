#include "services/common/server.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "eduaid/common/v1/common.pb.h"
#include "google/protobuf/descriptor.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/impl/server_builder_option.h"
#include "grpcpp/impl/server_builder_plugin.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "services/common/log.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace eduaid {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "ipv4:10.1.2.3:51234" -> "ipv4:10.1.2.3" (the port changes per
// connection; the address is what a limit must hold).
std::string PeerAddress(absl::string_view peer) {
  size_t colon = peer.rfind(':');
  if (colon == absl::string_view::npos || colon < 5) return std::string(peer);
  return std::string(peer.substr(0, colon));
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void AddCommonFlags(CLI::App& app, ServerConfig& c) {
  app.add_option("--bind", c.bind, "Address to listen on")
      ->capture_default_str();
  app.add_option("--grpc-port", c.grpc_port, "gRPC port")
      ->capture_default_str();
  app.add_option("--metrics-port", c.metrics_port,
                 "Prometheus /metrics port (-1: off)")
      ->capture_default_str();
  app.add_option("--health-port", c.health_port,
                 "Plaintext port serving only grpc.health.v1 (-1: off)")
      ->capture_default_str();
  app.add_option("--database", c.database_url,
                 "sqlite:///path/file.db or postgres://user@host/db")
      ->capture_default_str();
  app.add_option("--sqlite-synchronous", c.sqlite_synchronous,
                 "SQLite durability: NORMAL or FULL (fsync every commit)")
      ->check(CLI::IsMember({"NORMAL", "FULL"}))
      ->capture_default_str();
  app.add_option("--request-log-days", c.request_log_days,
                 "Days request ids are remembered for retries (0: forever)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--sqlite-cache-mib", c.sqlite_cache_mib,
                 "SQLite writer page cache in MiB (kept once filled)")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app.add_option("--redis", c.redis_url, "redis://host:port ('' disables)")
      ->capture_default_str();
  app.add_option("--data-key-file", c.data_key_file,
                 "File with the 64-hex-char data key (or $EDUAID_DATA_KEY)")
      ->capture_default_str();
  app.add_option("--jwt-secret-file", c.jwt_secret_file,
                 "HS256 secret file (or $EDUAID_JWT_SECRET); local runs")
      ->capture_default_str();
  app.add_option("--jwt-public-keys", c.jwt_public_keys,
                 "Comma-separated PEM public keys for ES256/RS256 tokens");
  app.add_option("--jwt-allow-hs256", c.jwt_allow_hs256,
                 "Accept HS256 tokens (local runs; production: false)")
      ->capture_default_str();
  app.add_option("--jwt-max-lifetime-hours", c.jwt_max_lifetime_hours,
                 "Refuse tokens that live longer than this")
      ->check(CLI::Range(1, 24 * 31))
      ->capture_default_str();
  app.add_option("--unauthenticated-rate-limit", c.unauthenticated_rate_limit,
                 "Failed authentications per second per peer address before "
                 "its calls are refused unread (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option(
      "--redis-password-file", c.redis_password_file,
      "File with the Redis AUTH password (or $EDUAID_REDIS_PASSWORD)");
  app.add_option("--redis-user", c.redis_user,
                 "Redis ACL user for AUTH (default: requirepass)");
  app.add_flag("--insecure-no-auth", c.insecure_no_auth,
               "Turn authentication off (local experiments only)");
  app.add_option("--tls-cert", c.tls_cert_file, "Server certificate (PEM)");
  app.add_option("--tls-key", c.tls_key_file, "Server private key (PEM)");
  app.add_option("--tls-client-ca", c.tls_client_ca_file,
                 "CA for client certificates: enables mTLS");
  app.add_option("--tls-refresh-seconds", c.tls_refresh_seconds,
                 "How often certificate files are checked for rotation")
      ->capture_default_str();
  app.add_option("--workers", c.workers, "Worker threads for blocking work")
      ->capture_default_str();
  app.add_option("--db-pool-size", c.db_pool_size,
                 "Database connections (0: as many as workers, at most 16)")
      ->capture_default_str();
  app.add_option("--drain-seconds", c.drain_seconds,
                 "Seconds in-flight calls get on SIGTERM")
      ->capture_default_str();
  app.add_option("--local-cache-entries", c.local_cache_entries,
                 "In-process cache entries in front of Redis (0: off)")
      ->capture_default_str();
  app.add_option("--rate-limit", c.rate_limit_per_second,
                 "Calls per second per principal (0: off)")
      ->capture_default_str();
}

ServiceRuntime::ServiceRuntime(const ServerConfig& config, Authenticator* auth,
                               AuditLog* audit, prometheus::Registry* registry)
    : rate_limit_(config.rate_limit_per_second),
      auth_(auth),
      audit_(audit),
      pool_(config.workers, config.max_queue),
      principal_calls_(config.rate_limit_per_second,
                       config.rate_limit_per_second * 2),
      peer_failures_(config.unauthenticated_rate_limit,
                     config.unauthenticated_rate_limit * 10) {
  policies_ = DeclaredPolicies(config.grpc_service);
  auto& denied = prometheus::BuildCounter()
                     .Name("eduaid_requests_denied_total")
                     .Help("Calls refused before reaching the service logic")
                     .Register(*registry);
  denied_unauthenticated_ = &denied.Add({{"reason", "unauthenticated"}});
  denied_permission_ = &denied.Add({{"reason", "permission"}});
  rejected_overload_ = &denied.Add({{"reason", "overload"}});
  rejected_peer_ = &denied.Add({{"reason", "peer_limit"}});
  if (audit_) {
    audit_->SetDropCounter(&prometheus::BuildCounter()
                                .Name("eduaid_audit_dropped_total")
                                .Help("Audit events dropped because the "
                                      "queue was full (each drop is itself "
                                      "recorded as a count)")
                                .Register(*registry)
                                .Add({}));
  }
}

absl::flat_hash_map<std::string, MethodPolicy> DeclaredPolicies(
    absl::string_view grpc_service) {
  absl::flat_hash_map<std::string, MethodPolicy> out;
  const auto* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          std::string(grpc_service));
  if (service == nullptr) return out;
  for (int i = 0; i < service->method_count(); ++i) {
    const auto* method = service->method(i);
    const auto& options = method->options();
    if (!options.HasExtension(::eduaid::common::v1::policy)) continue;
    const auto& declared = options.GetExtension(::eduaid::common::v1::policy);
    MethodPolicy policy;
    policy.mutating = declared.mutating();
    for (int role : declared.roles()) {
      // CallerRole n is Role n - 1 (CALLER_ROLE_UNSPECIFIED is 0).
      if (role > 0) policy.roles |= 1u << (role - 1);
    }
    out[method->name()] = policy;
  }
  return out;
}

void ServiceRuntime::DeclarePolicy(const std::string& method,
                                   MethodPolicy policy) {
  policies_[method] = policy;
}

absl::StatusOr<Principal> ServiceRuntime::Authenticate(
    grpc::CallbackServerContext* ctx) {
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  absl::string_view header;
  if (it != md.end())
    header = absl::string_view(it->second.data(), it->second.size());
  return auth_->Verify(header);
}

bool ServiceRuntime::Admit(const std::string& subject) {
  return principal_calls_.Take(subject, NowNs());
}

void ServiceRuntime::Audit(const CallContext& call,
                           const absl::Status& status) {
  if (!audit_) return;
  bool denied = status.code() == absl::StatusCode::kPermissionDenied ||
                status.code() == absl::StatusCode::kUnauthenticated ||
                call.hidden_denial;
  if (!(call.mutating || call.personal_data || call.bulk_read || denied)) {
    return;
  }
  AuditEvent e;
  e.subject = call.principal.subject;
  e.role = RoleName(call.principal.role);
  e.region = call.principal.region;
  e.method = call.method;
  e.records = call.records;
  e.result = GrpcCodeName(static_cast<grpc::StatusCode>(status.code()));
  // What the caller was told, and what it was: a refusal.
  if (call.hidden_denial) e.result += " (out of scope)";
  e.personal_data = call.personal_data && status.ok();
  audit_->Record(std::move(e));
}

namespace {

// The region filter of a list or bulk call and a school officer's school
// filter, checked for every method in one place (the handlers narrow
// further by record, and narrow an empty school filter to the officer's).
absl::Status CheckRequestFilters(const Principal& principal,
                                 const google::protobuf::Message& request) {
  const auto* descriptor = request.GetDescriptor();
  const auto* reflection = request.GetReflection();
  auto single_string = [](const google::protobuf::FieldDescriptor* f) {
    return f && f->type() == google::protobuf::FieldDescriptor::TYPE_STRING &&
           !f->is_repeated();
  };
  const auto* region = descriptor->FindFieldByName("region_prefix");
  if (single_string(region)) {
    auto scoped =
        ScopeRegionFilter(principal, reflection->GetString(request, region));
    if (!scoped.ok()) return scoped.status();
  }
  const auto* school = descriptor->FindFieldByName("school_code");
  if (single_string(school) && principal.role == Role::kSchoolOfficer) {
    const std::string code = reflection->GetString(request, school);
    if (!code.empty()) return CheckSchool(principal, code);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ServiceRuntime::CheckPolicy(
    const char* method, const google::protobuf::Message* request,
    CallContext* call) const {
  auto declared = policies_.find(method);
  if (declared == policies_.end()) {
    return absl::PermissionDeniedError(
        absl::StrCat(method, " declares no access policy; refused"));
  }
  call->mutating = declared->second.mutating;
  if (call->mutating && !call->principal.CanWrite()) {
    return CheckWrite(call->principal);
  }
  if (!declared->second.Allows(call->principal.role)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "role ", RoleName(call->principal.role), " may not call ", method));
  }
  return request ? CheckRequestFilters(call->principal, *request)
                 : absl::OkStatus();
}

void ServiceRuntime::RunOnPool(grpc::CallbackServerContext* ctx,
                               grpc::ServerUnaryReactor* reactor,
                               std::shared_ptr<CallContext> call,
                               std::function<absl::Status(CallContext&)> fn) {
  bool queued = pool_.Submit([this, ctx, reactor, call, fn = std::move(fn)] {
    if (ctx->IsCancelled()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
      return;
    }
    if (ctx->deadline() < std::chrono::system_clock::now()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                                   "deadline passed while queued"));
      return;
    }
    absl::Status st = fn(*call);
    if (st.code() == absl::StatusCode::kPermissionDenied) {
      denied_permission_->Increment();
    }
    Audit(*call, st);
    reactor->Finish(ToGrpcStatus(st));
  });
  if (!queued) {
    rejected_overload_->Increment();
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "server is overloaded; retry later"));
  }
}

grpc::ServerUnaryReactor* ServiceRuntime::Unary(
    grpc::CallbackServerContext* ctx, const char* method,
    const google::protobuf::Message* request,
    std::function<absl::Status(CallContext&)> fn,
    const std::function<std::optional<absl::Status>(CallContext&)>& fast) {
  auto* reactor = ctx->DefaultReactor();
  const std::string peer = PeerAddress(ctx->peer());
  if (!peer_failures_.Has(peer, NowNs())) {
    rejected_peer_->Increment();
    if (audit_) audit_->RecordDenial(peer, method, "ResourceExhausted");
    reactor->Finish(grpc::Status(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        "too many failed authentications from this address; retry later"));
    return reactor;
  }
  auto principal = Authenticate(ctx);
  if (!principal.ok()) {
    denied_unauthenticated_->Increment();
    peer_failures_.Take(peer, NowNs());
    if (audit_) audit_->RecordDenial(peer, method, "Unauthenticated");
    reactor->Finish(ToGrpcStatus(principal.status()));
    return reactor;
  }
  auto call = std::make_shared<CallContext>();
  call->principal = std::move(*principal);
  call->method = method;
  absl::Status role_st = CheckPolicy(method, request, call.get());
  if (!role_st.ok()) {
    absl::Status st = role_st;
    denied_permission_->Increment();
    Audit(*call, st);
    reactor->Finish(ToGrpcStatus(st));
    return reactor;
  }
  if (!Admit(call->principal.subject)) {
    rejected_overload_->Increment();
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "rate limit for this principal exceeded"));
    return reactor;
  }
  if (fast) {
    if (std::optional<absl::Status> answered = fast(*call)) {
      Audit(*call, *answered);
      reactor->Finish(ToGrpcStatus(*answered));
      return reactor;
    }
  }
  RunOnPool(ctx, reactor, std::move(call), std::move(fn));
  return reactor;
}

namespace {

// gRPC answers a request that protobuf refuses to parse (in proto3 chiefly a
// string field holding invalid UTF-8) with UNIMPLEMENTED and no message,
// before any handler runs. For the methods we serve, turn that into the
// INVALID_ARGUMENT with a field violation that every other bad input gets.
class MalformedRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(grpc::experimental::ServerRpcInfo* info)
      : method_(info->method() ? info->method() : "") {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status st = methods->GetSendStatus();
      if (st.error_code() == grpc::StatusCode::UNIMPLEMENTED &&
          st.error_message().empty() && IsServedMethod()) {
        methods->ModifySendStatus(ToGrpcStatus(InvalidField(
            "request",
            "is not a valid message: a text field holds invalid UTF-8, or "
            "the bytes are malformed")));
      }
    }
    methods->Proceed();
  }

 private:
  bool IsServedMethod() const {
    // "/pkg.Service/Method" -> "pkg.Service.Method"
    if (method_.size() < 2 || method_[0] != '/') return false;
    std::string full = method_.substr(1);
    size_t slash = full.find('/');
    if (slash == std::string::npos) return false;
    full[slash] = '.';
    return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(
               full) != nullptr;
  }
  std::string method_;
};

// Drops every builder plugin (reflection above all) from a server that
// must carry nothing but health.
class NoPluginsOption : public grpc::ServerBuilderOption {
 public:
  void UpdateArguments(grpc::ChannelArguments*) override {}
  void UpdatePlugins(std::vector<std::unique_ptr<grpc::ServerBuilderPlugin>>*
                         plugins) override {
    plugins->clear();
  }
};

// grpc.health.v1.Health for the probe port: Check answers from the
// runner's serving flag. (Watch is left to the main port's default health
// service; Kubernetes probes use Check.)
class ProbeHealthService final
    : public grpc::health::v1::Health::CallbackService {
 public:
  ProbeHealthService(std::string service, const std::atomic<bool>* serving)
      : service_(std::move(service)), serving_(serving) {}
  grpc::ServerUnaryReactor* Check(
      grpc::CallbackServerContext* ctx,
      const grpc::health::v1::HealthCheckRequest* req,
      grpc::health::v1::HealthCheckResponse* resp) override {
    auto* reactor = ctx->DefaultReactor();
    if (!req->service().empty() && req->service() != service_) {
      reactor->Finish(
          grpc::Status(grpc::StatusCode::NOT_FOUND, "unknown service"));
      return reactor;
    }
    resp->set_status(serving_->load()
                         ? grpc::health::v1::HealthCheckResponse::SERVING
                         : grpc::health::v1::HealthCheckResponse::NOT_SERVING);
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  const std::string service_;
  const std::atomic<bool>* serving_;
};

class MalformedRequestInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new MalformedRequestInterceptor(info);
  }
};

}  // namespace

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

ServerRunner::ServerRunner(ServerConfig config)
    : config_(std::move(config)),
      registry_(std::make_shared<prometheus::Registry>()),
      grpc_metrics_(std::make_unique<GrpcServerMetrics>(*registry_)) {
  SetLogService(config_.service);
}

ServerRunner::~ServerRunner() {
  Shutdown();
  // Stopping the exposer's HTTP server (civetweb) blocks for its 2 s poll
  // quantum; nothing waits for it, so let it stop in the background.
  if (exposer_)
    std::thread([e = std::move(exposer_)]() mutable { e.reset(); }).detach();
}

absl::Status ServerRunner::Start(const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  auto creds = ServerCredentials();
  if (!creds.ok()) return creds.status();

  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(config_.bind, ":", config_.grpc_port),
                           *creds, &grpc_port_);
  builder.SetMaxReceiveMessageSize(config_.max_message_bytes);
  builder.SetMaxSendMessageSize(config_.max_message_bytes);
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(
      std::make_unique<MalformedRequestInterceptorFactory>());
  interceptors.push_back(grpc_metrics_->InterceptorFactory());
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  for (auto* s : services) builder.RegisterService(s);
  server_ = builder.BuildAndStart();
  if (!server_ || grpc_port_ == 0) {
    return absl::UnavailableError(absl::StrCat(
        "cannot listen on ", config_.bind, ":", config_.grpc_port));
  }

  RETURN_IF_ERROR(StartHealthServer());
  RETURN_IF_ERROR(StartExposer());
  SetServing(true);
  Log(LogLevel::kInfo, "serving",
      {{"grpc_service", config_.grpc_service},
       {"grpc_port", std::to_string(grpc_port_)},
       {"health_port", std::to_string(health_port_)},
       {"metrics_port", std::to_string(metrics_port_)},
       {"tls", config_.tls_cert_file.empty() ? "off" : "on"},
       {"mtls", config_.tls_client_ca_file.empty() ? "off" : "on"}});
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>>
ServerRunner::ServerCredentials() const {
  if (!config_.tls_cert_file.empty() || !config_.tls_key_file.empty()) {
    for (const std::string* f : {&config_.tls_cert_file, &config_.tls_key_file,
                                 &config_.tls_client_ca_file}) {
      if (!f->empty() && ReadFile(*f).empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("TLS file is missing or empty: ", *f));
      }
    }
    // Certificates, key and client CA are watched and reloaded when the
    // files change (a Secret rotation), without a restart.
    std::shared_ptr<grpc::experimental::CertificateProviderInterface> provider;
    if (config_.tls_client_ca_file.empty()) {
      provider =
          std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
              config_.tls_key_file, config_.tls_cert_file,
              config_.tls_refresh_seconds);
    } else {
      provider =
          std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
              config_.tls_key_file, config_.tls_cert_file,
              config_.tls_client_ca_file, config_.tls_refresh_seconds);
    }
    grpc::experimental::TlsServerCredentialsOptions opts(provider);
    opts.watch_identity_key_cert_pairs();
    if (!config_.tls_client_ca_file.empty()) {
      opts.watch_root_certs();
      opts.set_cert_request_type(
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    } else {
      opts.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
    }
    return grpc::experimental::TlsServerCredentials(opts);
  }
  return grpc::InsecureServerCredentials();
}

absl::Status ServerRunner::StartHealthServer() {
  if (config_.health_port >= 0) {
    // The probe port gets its own health service instead of the default one.
    grpc::EnableDefaultHealthCheckService(false);
    grpc::ServerBuilder hb;
    hb.SetOption(std::make_unique<NoPluginsOption>());
    probe_health_ =
        std::make_unique<ProbeHealthService>(config_.grpc_service, &serving_);
    hb.RegisterService(probe_health_.get());
    hb.AddListeningPort(absl::StrCat(config_.bind, ":", config_.health_port),
                        grpc::InsecureServerCredentials(), &health_port_);
    health_server_ = hb.BuildAndStart();
    grpc::EnableDefaultHealthCheckService(true);
    if (!health_server_ || health_port_ == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on health port ", config_.health_port));
    }
  }

  return absl::OkStatus();
}

absl::Status ServerRunner::StartExposer() {
  if (config_.metrics_port >= 0) {
    try {
      exposer_ = std::make_unique<prometheus::Exposer>(
          absl::StrCat(config_.bind, ":", config_.metrics_port));
      exposer_->RegisterCollectable(registry_);
      auto ports = exposer_->GetListeningPorts();
      metrics_port_ = ports.empty() ? config_.metrics_port : ports.front();
    } catch (const std::exception& e) {
      return absl::UnavailableError(
          absl::StrCat("cannot listen on metrics port ", config_.metrics_port,
                       ": ", e.what()));
    }
  }
  return absl::OkStatus();
}

void ServerRunner::SetServing(bool serving) {
  serving_ = serving;
  for (auto* s : {server_.get(), health_server_.get()}) {
    if (!s || !s->GetHealthCheckService()) continue;
    s->GetHealthCheckService()->SetServingStatus(config_.grpc_service, serving);
    s->GetHealthCheckService()->SetServingStatus("", serving);
  }
}

void ServerRunner::Shutdown() {
  if (!server_ || shut_down_.exchange(true)) return;
  Log(LogLevel::kInfo, "draining",
      {{"grace_seconds", std::to_string(config_.drain_grace_seconds)},
       {"drain_seconds", std::to_string(config_.drain_seconds)}});
  SetServing(false);
  if (config_.drain_grace_seconds > 0) {
    std::this_thread::sleep_for(
        std::chrono::seconds(config_.drain_grace_seconds));
  }
  server_->Shutdown(std::chrono::system_clock::now() +
                    std::chrono::seconds(config_.drain_seconds));
  if (health_server_)
    health_server_->Shutdown(std::chrono::system_clock::now());
  Log(LogLevel::kInfo, "stopped");
}

int ServerRunner::RunUntilSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  int sig = 0;
  sigwait(&set, &sig);
  Log(LogLevel::kInfo, "signal received", {{"signal", std::to_string(sig)}});
  Shutdown();
  return 0;
}

}  // namespace eduaid
