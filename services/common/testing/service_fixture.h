// The fixture every service test starts from: one service in-process,
// serving real gRPC on a free loopback port, over a real database (a SQLite
// file or a fresh PostgreSQL database, by the test's parameter) and a real
// redis-server, with a client stub. A service supplies a traits struct:
//
//   struct RegistryTraits {
//     using Service = RegistryService;              // the gRPC service class
//     using Grpc = pb::StudentRegistryService;      // the generated service
//     static constexpr char kName[] = "registry";
//     static constexpr char kGrpcService[] =
//         "eduaid.registry.v1.StudentRegistryService";
//     static std::vector<Migration> Migrations() { return registry::Migrations(); }
//   };
//   class RegistryTest : public testing::ServiceFixture<RegistryTraits> {};
//   TEST_P(RegistryTest, ...) { stub_->GetStudent(...); }
//   INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, testing::Backends());
//
// A service whose constructor takes options overrides MakeService(); one
// that needs other settings overrides Configure(), which runs before the
// host is created.
#ifndef EDUAID_COMMON_TESTING_SERVICE_FIXTURE_H_
#define EDUAID_COMMON_TESTING_SERVICE_FIXTURE_H_

#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "services/common/service_host.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"

namespace eduaid::testing {

// The backends every service test runs on.
inline auto Backends() { return ::testing::Values("sqlite", "postgres"); }

template <typename Traits>
class ServiceFixture : public ::testing::TestWithParam<std::string> {
 protected:
  using Service = typename Traits::Service;
  using Stub = typename Traits::Grpc::Stub;

  void SetUp() override { StartService(); }

  void TearDown() override {
    host_.reset();
    service_.reset();
  }

  // Settings beyond TestServerConfig's (runs before the host exists).
  virtual void Configure(ServerConfig& config) {}

  // The service on `host`; override when its constructor takes options.
  virtual std::unique_ptr<Service> MakeService(ServiceHost& host) {
    if constexpr (std::is_constructible_v<Service, ServiceHost&>) {
      return std::make_unique<Service>(host);
    } else {
      ADD_FAILURE() << "override MakeService(): " << Traits::kName
                    << "'s service needs options";
      return nullptr;
    }
  }

  void StartService() {
    redis_ = std::make_unique<TestRedis>();
    const std::string url = DatabaseUrlFor(GetParam(), dir_, Traits::kName);
    ASSERT_FALSE(url.empty()) << "PostgreSQL must be installed for these tests";
    config_ = TestServerConfig(Traits::kName, Traits::kGrpcService, url,
                               redis_->url());
    Configure(config_);
    auto host = ServiceHost::Create(config_, Traits::Migrations());
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    service_ = MakeService(*host_);
    ASSERT_TRUE(host_->Start({service_.get()}).ok());
    stub_ = Traits::Grpc::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                            grpc::InsecureChannelCredentials()));
  }

  TempDir dir_;
  std::unique_ptr<TestRedis> redis_;
  ServerConfig config_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Stub> stub_;
};

}  // namespace eduaid::testing

#endif  // EDUAID_COMMON_TESTING_SERVICE_FIXTURE_H_
