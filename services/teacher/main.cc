// teacher_server: wiring only (flags, storage, cache, the registry peer,
// server).
#include "CLI/CLI.hpp"
#include "services/common/service_host.h"
#include "services/teacher/teacher_service.h"

int main(int argc, char** argv) {
  eduaid::ServerConfig defaults;
  defaults.service = "teacher";
  defaults.grpc_service = "eduaid.teacher.v1.TeacherSupportService";
  defaults.grpc_port = 50053;
  defaults.metrics_port = 9103;
  defaults.health_port = 50153;
  defaults.database_url = "sqlite://var/teacher.db";
  defaults.redis_url = "redis://127.0.0.1:6379";
  defaults.data_key_file = "var/keys/data.key";
  defaults.jwt_secret_file = "var/keys/jwt.secret";
  eduaid::teacher::TeacherOptions options;
  int registry_deadline_ms = 10000;
  int ledger_deadline_ms = 10000;
  return eduaid::ServiceMain(
      argc, argv, defaults, eduaid::teacher::Migrations(),
      [&](CLI::App& app) {
        app.add_option("--registry", options.registry_target,
                       "Registry service address (households, registered "
                       "students)")
            ->capture_default_str();
        app.add_option("--registry-deadline-ms", registry_deadline_ms,
                       "Deadline of each call to the registry")
            ->capture_default_str();
        app.add_option("--ledger", options.ledger_target,
                       "Ledger service address (payments of a household, "
                       "a visit's subsidy findings and follow-ups)")
            ->capture_default_str();
        app.add_option("--ledger-deadline-ms", ledger_deadline_ms,
                       "Deadline of each call to the ledger")
            ->capture_default_str();
      },
      [&](eduaid::ServiceHost& host)
          -> absl::StatusOr<std::vector<std::shared_ptr<grpc::Service>>> {
        options.registry_deadline =
            std::chrono::milliseconds(registry_deadline_ms);
        options.ledger_deadline = std::chrono::milliseconds(ledger_deadline_ms);
        return std::vector<std::shared_ptr<grpc::Service>>{
            std::make_shared<eduaid::teacher::TeacherService>(host, options)};
      });
}
