// Everything a service stands on, built from one ServerConfig: database
// (migrated), cache, field crypto, authenticator, audit log, runtime and the
// server runner. main() and in-process tests build services the same way.
#ifndef EDUAID_COMMON_SERVICE_HOST_H_
#define EDUAID_COMMON_SERVICE_HOST_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/audit.h"
#include "services/common/auth.h"
#include "services/common/cache.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/peer.h"
#include "services/common/server.h"
#include "services/common/sql.h"

namespace CLI {
class App;
}

namespace eduaid {

class ServiceHost {
 public:
  // Opens and migrates the database, connects the cache (never fails for an
  // unreachable Redis), loads keys. FAILED_PRECONDITION for missing keys,
  // UNAVAILABLE for an unreachable database.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Create(
      const ServerConfig& config, const std::vector<Migration>& migrations);
  ~ServiceHost();

  const ServerConfig& config() const { return config_; }
  Database& db() { return *db_; }
  Cache& cache() { return *cache_; }
  const FieldCrypto& crypto() const { return *crypto_; }
  Authenticator& auth() { return *auth_; }
  AuditLog& audit() { return *audit_; }
  // Idempotency records of mutating calls (bound to the caller, sealed).
  const RequestLog& requests() const { return *requests_; }
  ServiceRuntime& runtime() { return *runtime_; }
  prometheus::Registry& metrics() { return runner_->registry(); }
  ServiceTokenSource& tokens() { return *tokens_; }
  ServerRunner& runner() { return *runner_; }

  // A channel to a peer service at `target` with this service's TLS and
  // token settings and `deadline` on every call.
  std::unique_ptr<PeerChannel> Peer(const std::string& target,
                                    std::chrono::milliseconds deadline);

  // Stops taking calls (graceful drain) and waits for queued work to
  // finish. The services may then be destroyed before the host.
  void Drain();

  absl::Status Start(const std::vector<grpc::Service*>& services) {
    return runner_->Start(services);
  }
  int grpc_port() const { return runner_->grpc_port(); }

 private:
  ServiceHost() = default;
  // The steps of Create(), in order.
  absl::Status LoadKeys();
  absl::Status OpenDatabases(const std::vector<Migration>& migrations);
  void StartRequestLogPruner();  // deletes expired idempotency records
  absl::Status ConnectCache();
  // The HS256 secret this service mints its peer tokens with ("" if none).
  std::string ServiceSecret() const;
  ServerConfig config_;
  std::unique_ptr<ServerRunner> runner_;
  std::unique_ptr<Database> db_;
  // The audit log's own SQLite file next to the service's (null on
  // PostgreSQL, where the log is a table of db_).
  std::unique_ptr<Database> audit_db_;
  std::unique_ptr<Cache> cache_;
  std::unique_ptr<FieldCrypto> crypto_;
  std::unique_ptr<Authenticator> auth_;
  std::unique_ptr<AuditLog> audit_;
  std::unique_ptr<RequestLog> requests_;
  std::unique_ptr<ServiceRuntime> runtime_;
  std::unique_ptr<ServiceTokenSource> tokens_;
  // Deletes expired idempotency records hourly (--request-log-days).
  std::thread pruner_;
  std::mutex pruner_mu_;
  std::condition_variable pruner_cv_;
  bool pruner_stop_ = false;  // guarded by pruner_mu_
};

// The whole main() of a service: parses the common flags (plus the
// service's own through `add_flags`), builds the host, lets `build` create
// the gRPC services, serves until SIGTERM/SIGINT and drains. Returns the
// process exit code.
int ServiceMain(
    int argc, char** argv, ServerConfig defaults,
    const std::vector<Migration>& migrations,
    const std::function<void(CLI::App&)>& add_flags,
    const std::function<absl::StatusOr<
        std::vector<std::shared_ptr<grpc::Service>>>(ServiceHost&)>& build);

}  // namespace eduaid

#endif  // EDUAID_COMMON_SERVICE_HOST_H_
