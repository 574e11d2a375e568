// ledger_server: wiring only (flags, storage, cache, server, policy file).
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/ledger/ledger_service.h"

namespace {

eduaid::ServerConfig Defaults() {
  eduaid::ServerConfig defaults;
  defaults.service = "ledger";
  defaults.grpc_service = "eduaid.ledger.v1.SubsidyLedgerService";
  defaults.grpc_port = 50052;
  defaults.metrics_port = 9102;
  defaults.health_port = 50152;
  defaults.database_url = "sqlite://var/ledger.db";
  defaults.redis_url = "redis://127.0.0.1:6379";
  defaults.data_key_file = "var/keys/data.key";
  defaults.jwt_secret_file = "var/keys/jwt.secret";
  // Money: an acknowledged payment must survive a power loss, not only a
  // crash. Group commit keeps the throughput above the fsync rate.
  defaults.sqlite_synchronous = "FULL";
  // Concurrent single payments share transactions (group commit) up to the
  // number of workers waiting on them: with 16, groups averaged 8 payments
  // at 64 in flight and the server stayed below the disk's fsync rate; with
  // 64 they average about 25. The database pool stays at 16 connections
  // (--db-pool-size): workers parked in a group need none.
  defaults.workers = 64;
  return defaults;
}

// The ledger's own flags.
struct Flags {
  eduaid::ledger::LedgerOptions options;
  std::string policy = "policy/henan-2018.textproto";
  int registry_deadline_ms = 10000;

  void AddTo(CLI::App& app) {
    app.add_option("--registry", options.registry_target,
                   "Registry service address")
        ->capture_default_str();
    app.add_option("--registry-deadline-ms", registry_deadline_ms,
                   "Deadline of each call to the registry")
        ->capture_default_str();
    app.add_option("--policy", policy,
                   "Policy file loaded at start (idempotent; '' skips)")
        ->capture_default_str();
    app.add_option("--execute-chunk-size", options.execute_chunk_size,
                   "Payments per transaction when a batch executes")
        ->capture_default_str()
        ->check(CLI::Range(1, 100000));
    app.add_option("--execute-chunk-pause-ms", options.execute_chunk_pause_ms,
                   "Pause between chunks of a batch (throttle)")
        ->capture_default_str()
        ->check(CLI::Range(0, 60000));
    app.add_option("--max-group-commit", options.max_group_commit,
                   "Single payments per transaction at most")
        ->capture_default_str()
        ->check(CLI::Range(1, 10000));
  }
};

absl::StatusOr<std::vector<std::shared_ptr<grpc::Service>>> StartLedger(
    eduaid::ServiceHost& host, Flags& flags) {
  flags.options.registry_deadline =
      std::chrono::milliseconds(flags.registry_deadline_ms);
  auto service =
      std::make_shared<eduaid::ledger::LedgerService>(host, flags.options);
  if (!flags.policy.empty()) {
    eduaid::ledger::pb::LoadPolicyResponse loaded;
    RETURN_IF_ERROR(service->logic().LoadPolicyFile(flags.policy, &loaded));
  }
  RETURN_IF_ERROR(service->logic().Start());
  return std::vector<std::shared_ptr<grpc::Service>>{service};
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  return eduaid::ServiceMain(
      argc, argv, Defaults(), eduaid::ledger::Migrations(),
      [&](CLI::App& app) { flags.AddTo(app); },
      [&](eduaid::ServiceHost& host) { return StartLedger(host, flags); });
}
