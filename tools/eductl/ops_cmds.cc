// eductl health / services: what an operator checks first.
#include <iostream>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tools/eductl/cli_common.h"
#include "tools/eductl/ctl.h"

namespace eductl {
namespace {

void AddHealthCommand(CLI::App& app, Ctl& ctl, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "health",
      "grpc.health.v1 check of a server (plaintext health port by default)");
  auto target = std::make_shared<std::string>("127.0.0.1:50151");
  auto service = std::make_shared<std::string>();
  cmd->add_option("--target", *target, "host:port")->capture_default_str();
  cmd->add_option("--service", *service, "Service name ('' = the server)");
  cmd->callback([&ctl, &exit_code, target, service] {
    auto stub = grpc::health::v1::Health::NewStub(ctl.Channel(*target));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(*service);
    grpc::health::v1::HealthCheckResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(3));
    grpc::Status st = stub->Check(&ctx, req, &resp);
    if (!st.ok()) {
      exit_code = Fail(st);
      return;
    }
    std::cout << grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                     resp.status())
              << "\n";
    exit_code =
        resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
  });
}

void AddServicesCommand(CLI::App& app, Ctl& ctl, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "services", "List the services a server offers (reflection)");
  auto target = std::make_shared<std::string>("127.0.0.1:50051");
  cmd->add_option("--target", *target, "host:port")->capture_default_str();
  cmd->callback([&ctl, &exit_code, target] {
    using namespace grpc::reflection::v1alpha;
    auto stub = ServerReflection::NewStub(ctl.Channel(*target));
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
    auto stream = stub->ServerReflectionInfo(&ctx);
    ServerReflectionRequest req;
    req.set_list_services("*");
    ServerReflectionResponse resp;
    if (!stream->Write(req) || !stream->Read(&resp)) {
      stream->WritesDone();
      exit_code = Fail(stream->Finish());
      if (exit_code == 0) exit_code = 1;
      return;
    }
    stream->WritesDone();
    for (const auto& s : resp.list_services_response().service()) {
      std::cout << s.name() << "\n";
    }
    grpc::Status st = stream->Finish();
    if (!st.ok()) exit_code = Fail(st);
  });
}

}  // namespace

void AddOpsCommands(CLI::App& app, Ctl& ctl, int& exit_code) {
  AddHealthCommand(app, ctl, exit_code);
  AddServicesCommand(app, ctl, exit_code);
}

}  // namespace eductl
