// The access-control matrix: every RPC of every service, called with no
// token, an expired token, a county officer's token aimed at another county,
// and a token of each role, checked against the written policy table in
// docs/SECURITY.md. Real servers, started as processes on free ports.
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/server.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"

namespace eduaid {
namespace {

struct ServerSpec {
  std::string name, binary, grpc_service;
};

std::vector<ServerSpec> Built() {
  std::vector<ServerSpec> out;
#ifdef REGISTRY_SERVER
  out.push_back({"registry", REGISTRY_SERVER, "eduaid.registry.v1.StudentRegistryService"});
#endif
#ifdef LEDGER_SERVER
  out.push_back({"ledger", LEDGER_SERVER, "eduaid.ledger.v1.SubsidyLedgerService"});
#endif
#ifdef TEACHER_SERVER
  out.push_back({"teacher", TEACHER_SERVER, "eduaid.teacher.v1.TeacherSupportService"});
#endif
#ifdef VOCATIONAL_SERVER
  out.push_back({"vocational", VOCATIONAL_SERVER,
                 "eduaid.vocational.v1.VocationalTrainingService"});
#endif
  return out;
}

// The callers of the matrix, by the letter the policy table uses.
struct Caller {
  char letter;
  Role role;
  std::string region, school;
};
const std::vector<Caller>& Callers() {
  static const auto* v = new std::vector<Caller>{
      {'P', Role::kProvinceOfficer, "", ""}, {'C', Role::kCityOfficer, "4113", ""},
      {'Y', Role::kCountyOfficer, "411325", ""},
      {'S', Role::kSchoolOfficer, "411325", "S411325P1"},
      {'U', Role::kAuditor, "", ""},           {'G', Role::kAgency, "4113", ""},
      {'V', Role::kService, "", ""},
      {'T', Role::kTeacher, "411325", ""}};
  return *v;
}

std::string TokenFor(const Caller& c) {
  TokenClaims claims;
  // A teacher's subject is a teacher id (t-12); nobody has this one.
  claims.subject = c.role == Role::kTeacher ? std::string("t-900001")
                                            : std::string("matrix-") + c.letter;
  claims.role = c.role;
  claims.region = c.region;
  claims.school = c.school;
  return MintHs256Token(claims, testing::kTestJwtSecret);
}

// service -> method -> allowed letters, from docs/SECURITY.md.
std::map<std::string, std::map<std::string, std::string>> ReadPolicy() {
  std::ifstream in(SECURITY_DOC);
  std::string line;
  bool inside = false;
  std::map<std::string, std::map<std::string, std::string>> out;
  std::regex row(R"(^\|\s*(\w+)\s*\|\s*(\w+)\s*\|\s*([A-Z ]+?)\s*\|)");
  while (std::getline(in, line)) {
    if (line.find("<!-- policy-table-begin -->") != std::string::npos) inside = true;
    if (line.find("<!-- policy-table-end -->") != std::string::npos) inside = false;
    std::smatch m;
    if (inside && std::regex_search(line, m, row)) {
      std::string letters;
      for (char c : m[3].str()) {
        if (c != ' ') letters.push_back(c);
      }
      out[m[1]][m[2]] = letters;
    }
  }
  return out;
}

class Matrix : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    setenv("EDUAID_DATA_KEY", testing::kTestDataKey, 1);
    setenv("EDUAID_JWT_SECRET", testing::kTestJwtSecret, 1);
    int registry_port = testing::FreePort(), ledger_port = testing::FreePort();
    for (const auto& s : Built()) {
      int port = s.name == "registry" ? registry_port
                 : s.name == "ledger" ? ledger_port
                                      : testing::FreePort();
      std::vector<std::string> argv = {
          s.binary, "--grpc-port", std::to_string(port), "--metrics-port", "-1",
          "--health-port", "-1", "--bind", "127.0.0.1", "--rate-limit", "0",
          "--redis", "", "--database", "sqlite://" + dir_->path() + "/" + s.name + ".db"};
      if (s.name != "registry") {
        argv.insert(argv.end(), {"--registry", "127.0.0.1:" + std::to_string(registry_port)});
      }
      if (s.name == "ledger") argv.insert(argv.end(), {"--policy", POLICY_FILE});
      if (s.name == "vocational") {
        argv.insert(argv.end(), {"--ledger", "127.0.0.1:" + std::to_string(ledger_port)});
      }
      procs_->push_back(std::make_unique<testing::ChildProcess>(
          argv, dir_->path() + "/" + s.name + ".log"));
      ports_[s.name] = port;
      ASSERT_TRUE(testing::WaitForPort(port, 30000)) << s.name << " did not start";
    }
  }
  static void TearDownTestSuite() {
    procs_->clear();
    delete dir_;
  }

  // Calls `method` with `token` and a request whose request_id (and, when
  // `region` is set, region_prefix) are filled in.
  grpc::StatusCode Call(const std::string& server, const google::protobuf::MethodDescriptor* m,
                        const std::string& token, const std::string& region) {
    google::protobuf::DynamicMessageFactory factory;
    std::unique_ptr<google::protobuf::Message> req(
        google::protobuf::MessageFactory::generated_factory()
            ->GetPrototype(m->input_type())
            ->New());
    const auto* refl = req->GetReflection();
    if (const auto* f = m->input_type()->FindFieldByName("request_id")) {
      refl->SetString(req.get(), f, "matrix-" + std::to_string(++counter_));
    }
    if (!region.empty()) {
      const auto* f = m->input_type()->FindFieldByName("region_prefix");
      if (f) refl->SetString(req.get(), f, region);
    }
    std::string bytes = req->SerializeAsString();
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(ports_[server]),
                                       grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
    std::promise<grpc::Status> done;
    stub.UnaryCall(&ctx, "/" + m->service()->full_name() + "/" + m->name(),
                   grpc::StubOptions(), &request, &response,
                   [&](grpc::Status s) { done.set_value(s); });
    return done.get_future().get().error_code();
  }

  static testing::TempDir* dir_;
  static std::vector<std::unique_ptr<testing::ChildProcess>>* procs_;
  static std::map<std::string, int> ports_;
  static int counter_;
};
testing::TempDir* Matrix::dir_ = nullptr;
std::vector<std::unique_ptr<testing::ChildProcess>>* Matrix::procs_ =
    new std::vector<std::unique_ptr<testing::ChildProcess>>();
std::map<std::string, int> Matrix::ports_;
int Matrix::counter_ = 0;

// The policy is declared once, in the protos; the table in docs/SECURITY.md
// is its readable copy and must say the same, method for method. Every
// method declares one, and every mutating method takes a request_id.
TEST(PolicyTable, TheDocumentedTableIsWhatTheProtosDeclare) {
  auto table = ReadPolicy();
  ASSERT_FALSE(table.empty()) << "no policy table in " << SECURITY_DOC;
  int methods = 0;
  for (const auto& s : Built()) {
    const auto* svc =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(s.grpc_service);
    ASSERT_NE(svc, nullptr) << s.grpc_service;
    const auto declared = DeclaredPolicies(s.grpc_service);
    EXPECT_EQ(table[s.name].size(), static_cast<size_t>(svc->method_count()))
        << "rows of " << s.name << " in the table";
    for (int i = 0; i < svc->method_count(); ++i) {
      const auto* m = svc->method(i);
      auto it = declared.find(m->name());
      if (it == declared.end()) {
        ADD_FAILURE() << s.name << "." << m->name()
                      << " declares no option (eduaid.common.v1.policy)";
        continue;
      }
      std::string letters;
      for (const auto& c : Callers()) {
        if (it->second.Allows(c.role)) letters.push_back(c.letter);
      }
      EXPECT_EQ(table[s.name][m->name()], letters)
          << s.name << "." << m->name() << ": docs/SECURITY.md says one thing, "
          << "the proto declares another";
      if (it->second.mutating) {
        EXPECT_NE(m->input_type()->FindFieldByName("request_id"), nullptr)
            << s.name << "." << m->name() << " is mutating but takes no request_id";
      }
      ++methods;
    }
  }
  EXPECT_GE(methods, 90);
}

bool Denied(grpc::StatusCode c) {
  return c == grpc::StatusCode::PERMISSION_DENIED || c == grpc::StatusCode::UNAUTHENTICATED;
}

TEST_F(Matrix, EveryRpcAnswersEveryCallerAsThePolicyTableSays) {
  auto policy = ReadPolicy();
  ASSERT_FALSE(policy.empty()) << "no policy table in " << SECURITY_DOC;
  const std::string expired =
      testing::TestToken(Role::kProvinceOfficer, "", -1, "matrix-expired");
  const std::string other_county = TokenFor(Callers()[2]);
  int cells = 0;
  printf("\n| service | method | none | expired | other county |");
  for (const auto& c : Callers()) printf(" %c |", c.letter);
  printf("\n");
  for (const auto& s : Built()) {
    const auto* svc =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(s.grpc_service);
    ASSERT_NE(svc, nullptr) << s.grpc_service;
    for (int i = 0; i < svc->method_count(); ++i) {
      const auto* m = svc->method(i);
      auto row = policy[s.name].find(m->name());
      if (row == policy[s.name].end()) {
        ADD_FAILURE() << s.name << "." << m->name() << " has no row in the policy table";
        // Print what the service does now, as a starting point for the row.
        std::string seen;
        for (const auto& c : Callers()) {
          if (!Denied(Call(s.name, m, TokenFor(c), ""))) {
            seen += seen.empty() ? "" : " ";
            seen.push_back(c.letter);
          }
        }
        printf("observed: | %s | %s | %s |\n", s.name.c_str(), m->name().c_str(),
               seen.c_str());
        continue;
      }
      const std::string& allowed = row->second;
      printf("| %s | %s |", s.name.c_str(), m->name().c_str());
      auto none = Call(s.name, m, "", "");
      EXPECT_EQ(none, grpc::StatusCode::UNAUTHENTICATED) << s.name << "." << m->name();
      auto exp = Call(s.name, m, expired, "");
      EXPECT_EQ(exp, grpc::StatusCode::UNAUTHENTICATED) << s.name << "." << m->name();
      printf(" %d | %d |", none, exp);
      if (m->input_type()->FindFieldByName("region_prefix")) {
        auto oc = Call(s.name, m, other_county, "411326");
        EXPECT_EQ(oc, grpc::StatusCode::PERMISSION_DENIED)
            << s.name << "." << m->name() << ": a county officer of 411325 "
            << "must not list 411326";
        printf(" %d |", oc);
        ++cells;
      } else {
        printf(" n/a |");
      }
      for (const auto& c : Callers()) {
        auto code = Call(s.name, m, TokenFor(c), "");
        bool may = allowed.find(c.letter) != std::string::npos;
        if (may) {
          EXPECT_FALSE(Denied(code)) << s.name << "." << m->name() << " refused "
                                     << RoleName(c.role) << " (code " << code << ")";
        } else {
          EXPECT_EQ(code, grpc::StatusCode::PERMISSION_DENIED)
              << s.name << "." << m->name() << " let " << RoleName(c.role)
              << " through (code " << code << ")";
        }
        printf(" %d |", code);
        cells += 1;
      }
      cells += 2;
      printf("\n");
    }
  }
  printf("\n%d cells checked\n", cells);
  EXPECT_GT(cells, 100);
}

}  // namespace
}  // namespace eduaid
