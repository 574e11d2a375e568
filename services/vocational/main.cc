// vocational_server: wiring only (flags, storage, cache, peers, server).
// eduaid::ServiceMain drains the server, then destroys the service (which
// stops its grant delivery thread), then the host and its database.
#include <memory>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_split.h"
#include "services/common/service_host.h"
#include "services/vocational/vocational_service.h"

namespace {

// Where a local run listens and keeps its data.
eduaid::ServerConfig DefaultConfig() {
  eduaid::ServerConfig config;
  config.service = "vocational";
  config.grpc_service = "eduaid.vocational.v1.VocationalTrainingService";
  config.grpc_port = 50054;
  config.metrics_port = 9104;
  config.health_port = 50154;
  config.database_url = "sqlite://var/vocational.db";
  config.redis_url = "redis://127.0.0.1:6379";
  config.data_key_file = "var/keys/data.key";
  config.jwt_secret_file = "var/keys/jwt.secret";
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  const eduaid::ServerConfig config = DefaultConfig();
  eduaid::vocational::VocationalOptions options;
  int registry_deadline_ms = 10000, ledger_deadline_ms = 5000;
  std::string programmes =
      "VOCATIONAL_TUITION_WAIVER,VOCATIONAL_GRANT,RAIN_AND_DEW";
  int retry_max_ms = 30000;

  return eduaid::ServiceMain(
      argc, argv, config, eduaid::vocational::Migrations(),
      [&](CLI::App& app) {
        app.add_option("--registry", options.registry_target,
                       "Registry service address")
            ->capture_default_str();
        app.add_option("--ledger", options.ledger_target,
                       "Ledger service address")
            ->capture_default_str();
        app.add_option("--registry-deadline-ms", registry_deadline_ms,
                       "Deadline of each call to the registry")
            ->capture_default_str()
            ->check(CLI::Range(100, 600000));
        app.add_option("--ledger-deadline-ms", ledger_deadline_ms,
                       "Deadline of each grant delivery to the ledger")
            ->capture_default_str()
            ->check(CLI::Range(100, 600000));
        app.add_option(
               "--grant-programmes", programmes,
               "Ledger programme codes raised per vocational enrolment and "
               "term (comma-separated)")
            ->capture_default_str();
        app.add_option("--offer-days", options.offer_days,
                       "Days an offer stays open by default")
            ->capture_default_str()
            ->check(CLI::Range(1, 365));
        app.add_option("--grant-retry-max-ms", retry_max_ms,
                       "Longest backoff between delivery attempts of a grant")
            ->capture_default_str()
            ->check(CLI::Range(100, 3600000));
      },
      [&](eduaid::ServiceHost& host)
          -> absl::StatusOr<std::vector<std::shared_ptr<grpc::Service>>> {
        options.registry_deadline =
            std::chrono::milliseconds(registry_deadline_ms);
        options.ledger_deadline = std::chrono::milliseconds(ledger_deadline_ms);
        options.outbox.retry_max = std::chrono::milliseconds(retry_max_ms);
        options.grant_programmes =
            absl::StrSplit(programmes, ',', absl::SkipWhitespace());

        auto service = std::make_shared<eduaid::vocational::VocationalService>(
            host, options);
        absl::Status st = service->logic().Start();
        if (!st.ok()) return st;
        return std::vector<std::shared_ptr<grpc::Service>>{service};
      });
}
