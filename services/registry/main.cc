// registry_server: wiring only (flags, storage, cache, server).
#include "services/common/service_host.h"
#include "services/registry/registry.h"
#include "services/registry/registry_service.h"

int main(int argc, char** argv) {
  eduaid::ServerConfig defaults;
  defaults.service = "registry";
  defaults.grpc_service = "eduaid.registry.v1.StudentRegistryService";
  defaults.grpc_port = 50051;
  defaults.metrics_port = 9101;
  defaults.health_port = 50151;
  defaults.database_url = "sqlite://var/registry.db";
  defaults.redis_url = "redis://127.0.0.1:6379";
  defaults.data_key_file = "var/keys/data.key";
  defaults.jwt_secret_file = "var/keys/jwt.secret";
  return eduaid::ServiceMain(
      argc, argv, defaults, eduaid::registry::Migrations(), nullptr,
      [](eduaid::ServiceHost& host)
          -> absl::StatusOr<std::vector<std::shared_ptr<grpc::Service>>> {
        absl::Status format =
            eduaid::registry::CheckBlindIndexFormat(host.db());
        if (!format.ok()) return format;
        return std::vector<std::shared_ptr<grpc::Service>>{
            std::make_shared<eduaid::registry::RegistryService>(host)};
      });
}
