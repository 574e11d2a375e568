// The server bootstrap and runtime over real gRPC: authentication on every
// call, read-only roles, rate limits, metrics names, malformed requests,
// health, drain, mTLS, idempotent request ids and the audit log.
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <thread>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "services/common/worker_pool.h"

namespace eduaid {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using ::testing::HasSubstr;

// A stand-in service: Check() runs through ServiceRuntime::Unary. The
// request's `service` field picks the behaviour: "write" is a mutating call,
// "slow" sleeps 600 ms on the worker, "pii" reads personal data.
class ProbeService final : public Health::CallbackService {
 public:
  explicit ProbeService(ServiceHost& host) : host_(host) {}
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* ctx,
                                  const HealthCheckRequest* req,
                                  HealthCheckResponse* resp) override {
    // A mutating and a read-only method of the probe, with every role.
    return host_.runtime().Unary(
        ctx,
        req->service() == "write"        ? "CheckWrite"
        : req->service() == "undeclared" ? "Undeclared"
                                         : "Check",
        req,
        [req, resp](CallContext& call) -> absl::Status {
          if (req->service() == "slow") {
            std::this_thread::sleep_for(std::chrono::milliseconds(600));
          }
          if (req->service() == "pii") call.personal_data = true;
          if (req->service() == "bad") return InvalidField("service", "is bad");
          call.AddRecord("probe");
          resp->set_status(HealthCheckResponse::SERVING);
          return absl::OkStatus();
        });
  }

 private:
  ServiceHost& host_;
};

class ServerTest : public ::testing::Test {
 protected:
  void StartHost(ServerConfig config) {
    auto host = ServiceHost::Create(config, {});
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    service_ = std::make_unique<ProbeService>(*host_);
    MethodPolicy everyone;
    for (int r = 0; r <= static_cast<int>(Role::kTeacher); ++r) {
      everyone.roles |= 1u << r;
    }
    host_->runtime().DeclarePolicy("Check", everyone);
    everyone.mutating = true;
    host_->runtime().DeclarePolicy("CheckWrite", everyone);
    ASSERT_TRUE(host_->Start({service_.get()}).ok());
  }
  void SetUp() override {
    config_ =
        testing::TestServerConfig("probe", "grpc.health.v1.Health",
                                  "sqlite://" + dir_.path() + "/p.db", "");
  }
  void TearDown() override {
    host_.reset();
    service_.reset();
  }
  grpc::Status Call(const std::string& token, const std::string& what,
                    std::shared_ptr<grpc::Channel> channel = nullptr) {
    if (!channel) {
      channel =
          grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                              grpc::InsecureChannelCredentials());
    }
    auto stub = Health::NewStub(channel);
    HealthCheckRequest req;
    req.set_service(what);
    HealthCheckResponse resp;
    auto ctx = testing::ClientContextWith(token);
    return stub->Check(ctx.get(), req, &resp);
  }
  std::string Metrics() {
    return testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  }

  testing::TempDir dir_;
  ServerConfig config_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<ProbeService> service_;
};

TEST_F(ServerTest, AMethodThatDeclaresNoPolicyIsRefusedForEveryRole) {
  StartHost(config_);
  for (Role role : {Role::kProvinceOfficer, Role::kService, Role::kAuditor}) {
    grpc::Status st = Call(testing::TestToken(role, ""), "undeclared");
    EXPECT_EQ(st.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << RoleName(role);
    EXPECT_THAT(st.error_message(), HasSubstr("declares no access policy"));
  }
}

TEST_F(ServerTest, EveryCallNeedsAValidTokenAndReadOnlyRolesCannotWrite) {
  StartHost(config_);
  EXPECT_EQ(Call("", "x").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Call(testing::TestToken(Role::kCountyOfficer, "411325", -1), "x")
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_TRUE(
      Call(testing::TestToken(Role::kCountyOfficer, "411325"), "x").ok());
  EXPECT_TRUE(
      Call(testing::TestToken(Role::kCountyOfficer, "411325"), "write").ok());
  EXPECT_EQ(Call(testing::TestToken(Role::kAuditor, ""), "write").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(
      Call(testing::TestToken(Role::kAgency, "4113"), "write").error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  grpc::Status bad =
      Call(testing::TestToken(Role::kCountyOfficer, "411325"), "bad");
  EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(bad))[0].field, "service");
  // Audit: the write, the read of personal data and the denials; not the plain
  // read.
  EXPECT_TRUE(
      Call(testing::TestToken(Role::kCountyOfficer, "411325"), "pii").ok());
  host_->audit().Flush();
  auto events = host_->audit().Query("", "", 0, 100);
  ASSERT_TRUE(events.ok());
  std::multiset<std::string> results;
  int pii = 0;
  int unauthenticated_calls = 0;
  for (const auto& [id, e] : *events) {
    results.insert(e.result);
    if (e.personal_data) ++pii;
    // Unauthenticated calls are counted per peer address and flush.
    if (e.result == "Unauthenticated") {
      unauthenticated_calls +=
          std::stoi(e.records.substr(e.records.find("calls=") + 6));
    }
  }
  EXPECT_EQ(unauthenticated_calls, 2);
  EXPECT_EQ(results.count("PermissionDenied"), 2u);
  EXPECT_EQ(pii, 1);
  EXPECT_EQ(results.count("OK"), 2u);  // the write and the personal-data read
}

TEST_F(ServerTest, MetricsUseTheNamesDashboardsExpect) {
  StartHost(config_);
  ASSERT_TRUE(Call(testing::TestToken(Role::kProvinceOfficer, ""), "x").ok());
  EXPECT_EQ(Call("", "x").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  std::string m = Metrics();
  EXPECT_EQ(testing::MetricValue(m, "grpc_server_started_total",
                                 {"grpc_method=\"Check\"",
                                  "grpc_service=\"grpc.health.v1.Health\"",
                                  "grpc_type=\"unary\""}),
            2);
  EXPECT_EQ(testing::MetricValue(m, "grpc_server_handled_total",
                                 {"grpc_method=\"Check\"", "grpc_code=\"OK\""}),
            1);
  EXPECT_EQ(testing::MetricValue(
                m, "grpc_server_handled_total",
                {"grpc_method=\"Check\"", "grpc_code=\"Unauthenticated\""}),
            1);
  EXPECT_EQ(testing::MetricValue(m, "grpc_server_handling_seconds_count",
                                 {"grpc_method=\"Check\""}),
            2);
  EXPECT_THAT(
      m,
      HasSubstr("grpc_server_handling_seconds_bucket{grpc_method=\"Check\""));
  EXPECT_THAT(m, HasSubstr("le=\"0.005\""));
  EXPECT_EQ(testing::MetricValue(m, "eduaid_requests_denied_total",
                                 {"reason=\"unauthenticated\""}),
            1);
}

TEST_F(ServerTest, RateLimitIsPerPrincipal) {
  config_.rate_limit_per_second = 5;  // burst of 10
  StartHost(config_);
  std::string a = testing::TestToken(Role::kCountyOfficer, "411325", 3600, "a");
  std::string b = testing::TestToken(Role::kCountyOfficer, "411325", 3600, "b");
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    if (Call(a, "x").error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED)
      ++limited;
  }
  EXPECT_GE(limited, 15);
  EXPECT_TRUE(Call(b, "x").ok());
}

TEST_F(ServerTest, HealthPortServesOnlyHealthAndDrainLetsCallsFinish) {
  StartHost(config_);
  EXPECT_EQ(testing::HealthStatus(host_->runner().health_port(),
                                  "grpc.health.v1.Health"),
            "SERVING");
  EXPECT_EQ(testing::HealthStatus(host_->runner().health_port(), "other"),
            "error:5");
  std::string token = testing::TestToken(Role::kProvinceOfficer, "");
  grpc::Status slow;
  std::thread t([&] { slow = Call(token, "slow"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  host_->runner().Shutdown();
  t.join();
  EXPECT_TRUE(slow.ok()) << slow.error_message();
  EXPECT_NE(Call(token, "x").error_code(), grpc::StatusCode::OK);
}

TEST_F(ServerTest, MissingKeysStopTheServerFromStarting) {
  ServerConfig c = config_;
  c.jwt_secret = "";
  c.jwt_secret_file = "";
  unsetenv("EDUAID_JWT_SECRET");
  auto host = ServiceHost::Create(c, {});
  EXPECT_EQ(host.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(host.status().message()),
              HasSubstr("--insecure-no-auth"));
  c = config_;
  c.data_key_hex = "";
  c.data_key_file = "";
  unsetenv("EDUAID_DATA_KEY");
  EXPECT_EQ(ServiceHost::Create(c, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

// mTLS with certificates made by openssl in the test.
class MtlsTest : public ServerTest {
 protected:
  void Make(const std::string& cmd) {
    ASSERT_EQ(
        std::system(
            ("cd " + dir_.path() + " && " + cmd + " >/dev/null 2>&1").c_str()),
        0)
        << cmd;
  }
  void MakeCa(const std::string& name) {
    Make(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
        "-days 2 "
        "-subj /CN=" +
        name + " -keyout " + name + ".key -out " + name + ".pem");
  }
  void MakeLeaf(const std::string& name, const std::string& ca) {
    Make("printf 'subjectAltName=IP:127.0.0.1,DNS:localhost' > " + name +
         ".ext && "
         "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "
         "/CN=" +
         name + " -keyout " + name + ".key -out " + name +
         ".csr && openssl x509 -req -in " + name + ".csr -CA " + ca +
         ".pem -CAkey " + ca + ".key -CAcreateserial -days 2 -extfile " + name +
         ".ext -out " + name + ".pem");
  }
  std::string Read(const std::string& f) {
    std::ifstream in(dir_.path() + "/" + f);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::shared_ptr<grpc::Channel> Channel(const std::string& ca,
                                         const std::string& client) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = Read(ca + ".pem");
    if (!client.empty()) {
      o.pem_cert_chain = Read(client + ".pem");
      o.pem_private_key = Read(client + ".key");
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    return grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(host_->grpc_port()),
        grpc::SslCredentials(o), args);
  }
};

TEST_F(MtlsTest, ClientsNeedACertificateFromTheRightCa) {
  MakeCa("ca");
  MakeCa("otherca");
  MakeLeaf("server", "ca");
  MakeLeaf("agency", "ca");
  MakeLeaf("intruder", "otherca");
  config_.tls_cert_file = dir_.path() + "/server.pem";
  config_.tls_key_file = dir_.path() + "/server.key";
  config_.tls_client_ca_file = dir_.path() + "/ca.pem";
  StartHost(config_);
  std::string token = testing::TestToken(Role::kAgency, "4113");
  EXPECT_TRUE(Call(token, "x", Channel("ca", "agency")).ok());
  EXPECT_EQ(Call(token, "x", Channel("ca", "")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(token, "x", Channel("ca", "intruder")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Call(token, "x", Channel("otherca", "agency")).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // A valid certificate still needs a valid token.
  EXPECT_EQ(Call("", "x", Channel("ca", "agency")).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  // Plaintext is refused on the TLS port, while probes use the health port.
  EXPECT_NE(Call(token, "x").error_code(), grpc::StatusCode::OK);
  EXPECT_EQ(testing::HealthStatus(host_->runner().health_port(), ""),
            "SERVING");
}

TEST(WorkerPool, RefusesWorkBeyondItsQueue) {
  std::atomic<int> ran{0};
  std::atomic<bool> release{false};
  int accepted = 0;
  {
    WorkerPool pool(1, 2);
    for (int i = 0; i < 10; ++i) {
      if (pool.Submit([&] {
            while (!release)
              std::this_thread::sleep_for(std::chrono::milliseconds(1));
            ++ran;
          }))
        ++accepted;
    }
    EXPECT_LE(accepted, 3);
    EXPECT_GE(accepted, 2);
    release = true;
  }
  EXPECT_EQ(ran.load(), accepted);
}

TEST(Idempotency, PruningDeletesOnlyExpiredRecordsAndTheyRunAgain) {
  testing::TempDir dir;
  auto db = Database::Open("sqlite://" + dir.path() + "/p.db");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)
                  ->Migrate({RequestLogMigration(1),
                             RequestLogRetentionMigration(1001)})
                  .ok());
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  // 12,000 expired records (more than one chunk) and 3 recent ones.
  ASSERT_TRUE((*db)
                  ->Transact([&](SqlConnection& c) -> absl::Status {
                    for (int i = 0; i < 12003; ++i) {
                      auto r = c.Execute(
                          "INSERT INTO request_log(request_id, method, "
                          "request_hash, response, created_at) "
                          "VALUES(?, 'M', 'h', '', ?)",
                          {"r" + std::to_string(i),
                           i < 12000 ? now - 40 * 86400 : now - 60});
                      if (!r.ok()) return r.status();
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  auto n = PruneRequestLog(**db, now - 30 * 86400);
  ASSERT_TRUE(n.ok()) << n.status();
  EXPECT_EQ(*n, 12000);
  int64_t left = -1;
  ASSERT_TRUE((*db)
                  ->Read([&](SqlConnection& c) -> absl::Status {
                    auto r = c.Query("SELECT COUNT(*) FROM request_log");
                    if (!r.ok()) return r.status();
                    left = r->front().Int(0);
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_EQ(left, 3);
  EXPECT_EQ(*PruneRequestLog(**db, now - 30 * 86400), 0);
}

TEST(Idempotency, RepeatsReturnTheFirstAnswerAndConcurrentRepeatsRunOnce) {
  testing::TempDir dir;
  auto db = Database::Open("sqlite://" + dir.path() + "/i.db");
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)
                  ->Migrate({RequestLogMigration(1),
                             {2, "t",
                              "CREATE TABLE counter(n BIGINT NOT NULL);"
                              "INSERT INTO counter VALUES(0);"}})
                  .ok());
  auto crypto = FieldCrypto::Create(testing::kTestDataKey);
  ASSERT_TRUE(crypto.ok());
  RequestLog requests(db->get(), crypto->get());
  const Principal caller{"officer-a", Role::kCountyOfficer, "411325", ""};
  std::atomic<int> runs{0};
  auto call = [&](const std::string& payload, HealthCheckResponse* out) {
    HealthCheckRequest req;
    req.set_service(payload);
    return requests.Run(
        caller, "Bump", "rid-1", req, out, [&](SqlConnection& c) {
          ++runs;
          auto n = c.Query("UPDATE counter SET n = n + 1 RETURNING n");
          if (!n.ok()) return n.status();
          out->set_status(static_cast<HealthCheckResponse::ServingStatus>(
              n->front().Int(0)));
          return absl::OkStatus();
        });
  };
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 16; ++i) {
    threads.emplace_back([&] {
      HealthCheckResponse r;
      if (call("same", &r).ok() && r.status() == 1) ++ok;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 16);
  EXPECT_EQ(runs.load(), 1);
  HealthCheckResponse r;
  absl::Status st = call("different", &r);
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(st), "REQUEST_ID_REUSED");
}

}  // namespace
}  // namespace eduaid
