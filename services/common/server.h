// Server bootstrap shared by every service: the callback-API gRPC server
// with health, reflection and the grpc_server_* metrics interceptor; a
// second plaintext server on the health port that carries nothing but
// grpc.health.v1.Health (for Kubernetes probes); the Prometheus exposer;
// graceful drain on SIGTERM; and ServiceRuntime, which every handler uses
// to authenticate, run its blocking work on the worker pool and audit.
#ifndef EDUAID_COMMON_SERVER_H_
#define EDUAID_COMMON_SERVER_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"
#include "services/common/audit.h"
#include "services/common/auth.h"
#include "services/common/call_context.h"
#include "services/common/metrics.h"
#include "services/common/rate_limit.h"
#include "services/common/worker_pool.h"

namespace CLI {
class App;
}

namespace eduaid {

struct ServerConfig {
  std::string service;       // short name: "registry"
  std::string grpc_service;  // "eduaid.registry.v1.StudentRegistryService"
  std::string bind = "0.0.0.0";
  int grpc_port = 0;
  int metrics_port = 0;  // -1 disables the exposer
  int health_port = 0;   // -1 disables the separate health server
  int workers = 8;
  // Database connections (SQLite readers / PostgreSQL pool); 0 = as many as
  // workers, at most 16 (workers parked in a group commit need none).
  int db_pool_size = 0;
  size_t max_queue = 20000;
  int max_message_bytes = 32 << 20;
  int drain_grace_seconds = 2;          // NOT_SERVING before stopping to accept
  int drain_seconds = 20;               // in-flight calls finish within this
  double rate_limit_per_second = 5000;  // per principal; 0 = off
  // Failed authentications per second per peer address (burst ten times
  // that): past it the peer's calls are refused before their token is even
  // parsed, and counted in one aggregated audit event. 0 = off.
  double unauthenticated_rate_limit = 100;
  // In-process cache tier in front of Redis (entries; 0 = off).
  size_t local_cache_entries = 20000;
  // TLS (production). With cert and key set the gRPC port speaks TLS; with a
  // client CA as well it requires and verifies client certificates (mTLS).
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;
  unsigned int tls_refresh_seconds = 60;
  // Data and auth.
  std::string database_url;
  // SQLite durability: "NORMAL" (a crash loses nothing; a power loss may
  // lose the last commits) or "FULL" (every commit fsynced).
  std::string sqlite_synchronous = "NORMAL";
  // The SQLite writer's page cache in MiB (bounded; filled as pages are
  // written, so a service that keeps writing grows to it).
  int sqlite_cache_mib = 16;
  // Idempotency records older than this many days are deleted hourly
  // (0 keeps them forever).
  int request_log_days = 30;
  std::string redis_url;
  // Redis AUTH (requirepass or an ACL user): from $EDUAID_REDIS_PASSWORD or
  // this file; never in the URL, which shows in process lists.
  std::string redis_password_file;
  std::string redis_user;
  std::string data_key_file;
  std::string jwt_secret_file;
  std::string jwt_public_keys;
  bool insecure_no_auth = false;
  // HS256 tokens (a shared secret) are for local runs; production sets
  // false, and a server then refuses to start with an HS256 secret.
  bool jwt_allow_hs256 = true;
  int jwt_max_lifetime_hours = 24;
  // Inline keys (tests); take precedence over files and environment.
  std::string data_key_hex;
  std::string jwt_secret;
  // This service's own token for calls to peers (production: a file a
  // Secret mounts; local: minted from the HS256 secret).
  std::string service_token_file;
  // TLS towards peers (CA, and client cert/key for mTLS).
  std::string peer_tls_ca_file, peer_tls_cert_file, peer_tls_key_file;
};

// Adds the flags every service shares (ports, bind, database, redis, keys,
// TLS, auth) to `app`, with `config`'s current values as defaults.
void AddCommonFlags(CLI::App& app, ServerConfig& config);

// Who may call one RPC and whether it changes records. Declared once per
// method in the service's proto (`option (eduaid.common.v1.policy)`, see
// protos/eduaid/common/v1/common.proto) and read from the compiled
// descriptors; docs/SECURITY.md's policy table is checked against it.
struct MethodPolicy {
  uint32_t roles = 0;  // bit (1 << Role) for each allowed role
  bool mutating = false;
  bool Allows(Role role) const {
    return (roles & (1u << static_cast<int>(role))) != 0;
  }
};

// The declared policy of every method of `grpc_service` (e.g.
// "eduaid.ledger.v1.SubsidyLedgerService") that declares one; methods
// without the option are absent. Empty for an unknown service.
absl::flat_hash_map<std::string, MethodPolicy> DeclaredPolicies(
    absl::string_view grpc_service);

// Shared by the handlers of one service. Thread-safe.
class ServiceRuntime {
 public:
  ServiceRuntime(const ServerConfig& config, Authenticator* auth,
                 AuditLog* audit, prometheus::Registry* registry);

  // The handler pattern of every RPC: authenticates the caller from the
  // `authorization` metadata (UNAUTHENTICATED), holds the caller's role to
  // the method's declared policy (PERMISSION_DENIED; a method that declares
  // none is refused as well, so a forgotten declaration fails closed;
  // read-only roles never pass a mutating method), applies the per-principal
  // rate limit (RESOURCE_EXHAUSTED), then runs `fn` on the worker pool and
  // finishes the call with its status mapped by ToGrpcStatus(). Changes,
  // personal-data reads and denials are audited. Returns the reactor the
  // callback method must return.
  //
  // `fast`, when given, runs first on the gRPC thread and must never block:
  // it answers from memory (returns a status) or declines (nullopt), and
  // then `fn` runs on the pool as usual.
  //
  // When `request` has a `region_prefix` field, a value outside the
  // caller's scope is refused here (PERMISSION_DENIED) for every method;
  // likewise a `school_code` other than a school officer's own school.
  //
  // A peer address whose failed authentications exceed
  // --unauthenticated-rate-limit is refused (RESOURCE_EXHAUSTED) before its
  // token is read; unauthenticated calls are audited as one aggregated
  // event per peer and flush, never one row per call.
  grpc::ServerUnaryReactor* Unary(
      grpc::CallbackServerContext* ctx, const char* method,
      const google::protobuf::Message* request,
      std::function<absl::Status(CallContext&)> fn,
      const std::function<std::optional<absl::Status>(CallContext&)>& fast =
          nullptr);

  // Declares the policy of a method that has no proto declaration (the
  // probe services of tests). Call before serving.
  void DeclarePolicy(const std::string& method, MethodPolicy policy);

  // Authentication alone (for streaming handlers).
  absl::StatusOr<Principal> Authenticate(grpc::CallbackServerContext* ctx);

  WorkerPool& pool() { return pool_; }
  AuditLog* audit() { return audit_; }

 private:
  bool Admit(const std::string& subject);
  // The declared policy and the request's region/school filters for the
  // authenticated caller of `method`; sets call->mutating.
  absl::Status CheckPolicy(const char* method,
                           const google::protobuf::Message* request,
                           CallContext* call) const;
  // Runs `fn` on the worker pool and finishes the call with its status
  // (RESOURCE_EXHAUSTED when the queue is full).
  void RunOnPool(grpc::CallbackServerContext* ctx,
                 grpc::ServerUnaryReactor* reactor,
                 std::shared_ptr<CallContext> call,
                 std::function<absl::Status(CallContext&)> fn);
  void Audit(const CallContext& call, const absl::Status& status);
  const double rate_limit_;
  Authenticator* auth_;
  AuditLog* audit_;
  WorkerPool pool_;
  prometheus::Counter* denied_unauthenticated_;
  prometheus::Counter* denied_permission_;
  prometheus::Counter* rejected_overload_;
  prometheus::Counter* rejected_peer_;
  // From the service's descriptor at construction (and DeclarePolicy
  // before serving); read-only while serving.
  absl::flat_hash_map<std::string, MethodPolicy> policies_;
  // Calls per principal, and failed authentications per peer address.
  TokenBuckets principal_calls_;
  TokenBuckets peer_failures_;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread started
// after; call first in main() so RunUntilSignal() can wait for them.
void BlockTerminationSignals();

class ServerRunner {
 public:
  explicit ServerRunner(ServerConfig config);
  ~ServerRunner();

  prometheus::Registry& registry() { return *registry_; }
  const ServerConfig& config() const { return config_; }

  // Builds and starts the servers with `services` (owned by the caller,
  // alive until Shutdown returns). After OK, ports are known.
  absl::Status Start(const std::vector<grpc::Service*>& services);

  int grpc_port() const { return grpc_port_; }
  int health_port() const { return health_port_; }
  int metrics_port() const { return metrics_port_; }

  // Health of the service (and of "") on both servers.
  void SetServing(bool serving);

  // Drain: NOT_SERVING, wait the grace period, stop accepting, let in-flight
  // calls finish within drain_seconds, then cancel the rest.
  void Shutdown();

  // Waits for SIGTERM or SIGINT, then Shutdown(). Returns the exit code.
  int RunUntilSignal();

 private:
  // The steps of Start(): the gRPC port's credentials (TLS/mTLS with files
  // watched for rotation, or plaintext), the probe port, /metrics.
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials()
      const;
  absl::Status StartHealthServer();
  absl::Status StartExposer();
  ServerConfig config_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<GrpcServerMetrics> grpc_metrics_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<grpc::Server> health_server_;
  std::unique_ptr<grpc::Service> probe_health_;
  std::atomic<bool> serving_{false};
  int grpc_port_ = 0, health_port_ = 0, metrics_port_ = 0;
  std::atomic<bool> shut_down_{false};
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_SERVER_H_
