// Fault injection against a running registry over real gRPC:
//   - Redis killed for 10 s under load: no failed call; the cache refills.
//   - PostgreSQL restarted under a write load: calls fail with a clear
//     UNAVAILABLE while it is down, no import is ever partly stored, and
//     everything works again after it returns.
#include <atomic>
#include <thread>

#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/registry/registry_service.h"
#include "tools/gen/synthetic.h"

namespace eduaid {
namespace {

namespace rpb = ::eduaid::registry::v1;
namespace cpb = ::eduaid::common::v1;

class RegistryUnderFault {
 public:
  RegistryUnderFault(const std::string& db_url, const std::string& redis_url,
                     size_t local_cache) {
    config_ = testing::TestServerConfig(
        "registry", "eduaid.registry.v1.StudentRegistryService", db_url,
        redis_url);
    config_.local_cache_entries = local_cache;
    config_.workers = 8;
    auto host = ServiceHost::Create(config_, registry::Migrations());
    EXPECT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    service_ = std::make_unique<registry::RegistryService>(*host_);
    EXPECT_TRUE(host_->Start({service_.get()}).ok());
    stub_ = rpb::StudentRegistryService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                            grpc::InsecureChannelCredentials()));
  }
  ~RegistryUnderFault() {
    host_.reset();
    service_.reset();
  }
  rpb::StudentRegistryService::Stub* stub() { return stub_.get(); }
  std::string Metrics() {
    return testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  }

 private:
  ServerConfig config_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<registry::RegistryService> service_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> stub_;
};

std::vector<rpb::HouseholdMemberRow> Rows(int households, uint64_t seed,
                                          const std::string& prefix) {
  synthetic::Options o;
  o.households = households;
  o.regions = {"411325"};
  o.seed = seed;
  auto data = synthetic::Generate(o);
  std::vector<rpb::HouseholdMemberRow> rows;
  for (const auto& m : data.members) {
    rpb::HouseholdMemberRow r;
    r.set_household_id(prefix + m.household_id);
    r.set_region_code(m.region_code);
    r.set_registration_year(std::stoi(m.registration_year));
    r.set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
    r.set_id_number(m.id_number);
    r.set_name(m.name);
    r.set_relation(rpb::RELATION_CHILD);
    rows.push_back(r);
  }
  return rows;
}

grpc::Status Import(rpb::StudentRegistryService::Stub* stub,
                    const std::vector<rpb::HouseholdMemberRow>& rows,
                    const std::string& request_id,
                    rpb::ImportHouseholdsResponse* resp) {
  rpb::ImportHouseholdsRequest req;
  req.set_request_id(request_id);
  req.set_skip_identification(true);
  for (const auto& r : rows) *req.add_rows() = r;
  auto ctx = testing::ClientContextWith(
      testing::TestToken(Role::kProvinceOfficer, ""));
  return stub->ImportHouseholds(ctx.get(), req, resp);
}

TEST(Fault, RedisKilledForTenSecondsUnderLoadFailsNoCall) {
  testing::TempDir dir;
  testing::TestRedis redis;
  RegistryUnderFault reg("sqlite://" + dir.path() + "/r.db", redis.url(), 0);
  auto rows = Rows(60, 3, "");
  rpb::ImportHouseholdsResponse resp;
  ASSERT_TRUE(Import(reg.stub(), rows, "load", &resp).ok());
  const std::string token = testing::TestToken(Role::kProvinceOfficer, "");
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int64_t i = t; !stop; i += 4) {
        rpb::GetStudentRequest req;
        req.set_id_number(rows[i % rows.size()].id_number());
        rpb::GetStudentResponse out;
        auto ctx = testing::ClientContextWith(token);
        if (reg.stub()->GetStudent(ctx.get(), req, &out).ok()) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));
  redis.Stop();
  std::this_thread::sleep_for(std::chrono::seconds(10));
  int64_t during = ok.load();
  redis.Start();
  std::this_thread::sleep_for(std::chrono::seconds(4));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(during, 100);
  std::string m = reg.Metrics();
  EXPECT_GT(testing::MetricValue(m, "eduaid_cache_bypass_total", {}), 0);
  // After Redis returned, reads are served from it again.
  double hits_before = testing::MetricValue(m, "eduaid_cache_requests_total",
                                            {"op=\"get\"", "result=\"hit\""});
  for (int i = 0; i < 50; ++i) {
    rpb::GetStudentRequest req;
    req.set_id_number(rows[i].id_number());
    rpb::GetStudentResponse out;
    auto ctx = testing::ClientContextWith(token);
    ASSERT_TRUE(reg.stub()->GetStudent(ctx.get(), req, &out).ok());
  }
  EXPECT_GT(testing::MetricValue(reg.Metrics(), "eduaid_cache_requests_total",
                                 {"op=\"get\"", "result=\"hit\""}),
            hits_before);
  EXPECT_EQ(
      testing::MetricValue(reg.Metrics(), "eduaid_cache_breaker_open", {}), 0);
}

TEST(Fault, PostgresRestartedUnderWritesLosesNothingAndStoresNothingPartial) {
  auto* pg = testing::TestPostgres::Get();
  ASSERT_NE(pg, nullptr);
  testing::TestRedis redis;
  RegistryUnderFault reg(pg->NewDatabaseUrl(), redis.url(), 0);
  // Batches of distinct households; each is one transaction.
  std::vector<std::vector<rpb::HouseholdMemberRow>> batches;
  for (int b = 0; b < 40; ++b)
    batches.push_back(Rows(8, 100 + b, "B" + std::to_string(b)));
  std::vector<int> state(batches.size(), 0);  // 1 = acknowledged
  int unavailable = 0, other = 0;
  std::thread restarter([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    pg->Stop();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    pg->Start();
  });
  for (size_t b = 0; b < batches.size(); ++b) {
    rpb::ImportHouseholdsResponse resp;
    grpc::Status st =
        Import(reg.stub(), batches[b], "pg-" + std::to_string(b), &resp);
    if (st.ok()) {
      state[b] = 1;
    } else if (st.error_code() == grpc::StatusCode::UNAVAILABLE) {
      ++unavailable;
    } else {
      ++other;
      ADD_FAILURE() << "unexpected " << st.error_code() << " "
                    << st.error_message();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  restarter.join();
  EXPECT_GT(unavailable, 0) << "the restart was not observed";
  EXPECT_EQ(other, 0);
  // Retry what failed: the same request ids, now that PostgreSQL is back.
  for (size_t b = 0; b < batches.size(); ++b) {
    if (state[b]) continue;
    rpb::ImportHouseholdsResponse resp;
    grpc::Status st;
    for (int attempt = 0; attempt < 20; ++attempt) {
      st = Import(reg.stub(), batches[b], "pg-" + std::to_string(b), &resp);
      if (st.error_code() != grpc::StatusCode::UNAVAILABLE) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    ASSERT_TRUE(st.ok()) << st.error_message();
  }
  // Every member of every batch is there exactly once: coverage counts them.
  int64_t expected = 0;
  for (const auto& b : batches) expected += static_cast<int64_t>(b.size());
  rpb::GetCoverageRequest req;
  rpb::GetCoverageResponse cov;
  auto ctx = testing::ClientContextWith(
      testing::TestToken(Role::kProvinceOfficer, ""));
  ASSERT_TRUE(reg.stub()->GetCoverage(ctx.get(), req, &cov).ok());
  EXPECT_EQ(cov.total().members(), expected);
  EXPECT_EQ(cov.total().households(), 40 * 8);
}

}  // namespace
}  // namespace eduaid
