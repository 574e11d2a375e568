// The registry's test fixture and helpers, shared by the registry's test
// files: the service in-process over a real database (both backends) and
// a real Redis, with a stub.
#ifndef EDUAID_SERVICES_REGISTRY_TESTS_REGISTRY_FIXTURE_H_
#define EDUAID_SERVICES_REGISTRY_TESTS_REGISTRY_FIXTURE_H_

#include <string>
#include <vector>

#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_fixture.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/registry/registry_service.h"
#include "tools/gen/synthetic.h"

namespace eduaid::registry {

namespace cpb = ::eduaid::common::v1;
using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;
using ::testing::HasSubstr;

inline std::string ProvinceToken() { return TestToken(Role::kProvinceOfficer, ""); }
inline std::string CountyToken(const std::string& region = "411325") {
  return TestToken(Role::kCountyOfficer, region);
}

// A child of `age` on today's date (born on 1 January), region 411325.
inline std::string ChildId(int age, int seq, const std::string& region = "411325") {
  int year = std::stoi(TodayCst().substr(0, 4)) - age;
  return synthetic::MakeIdNumber(region, std::to_string(year) + "0101", seq);
}

inline pb::HouseholdMemberRow Member(const std::string& household,
                              const std::string& region, const std::string& id,
                              const std::string& name,
                              pb::Relation relation = pb::RELATION_CHILD) {
  pb::HouseholdMemberRow r;
  r.set_household_id(household);
  r.set_region_code(region);
  r.set_registration_year(2016);
  r.set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
  r.set_id_number(id);
  r.set_name(name);
  r.set_relation(relation);
  return r;
}

struct RegistryTraits {
  using Service = RegistryService;
  using Grpc = pb::StudentRegistryService;
  static constexpr char kName[] = "registry";
  static constexpr char kGrpcService[] =
      "eduaid.registry.v1.StudentRegistryService";
  static std::vector<Migration> Migrations() { return registry::Migrations(); }
};

class RegistryTest : public testing::ServiceFixture<RegistryTraits> {
 protected:
  void AddSchool(const std::string& code, const std::string& region,
                 std::vector<cpb::SchoolStage> stages,
                 const std::string& name = "内乡县第一小学") {
    pb::UpsertSchoolRequest req;
    req.set_request_id("school-" + code);
    auto* s = req.mutable_school();
    s->set_code(code);
    s->set_name(name);
    s->set_region_code(region);
    for (auto st : stages) s->add_stages(st);
    pb::UpsertSchoolResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    ASSERT_TRUE(stub_->UpsertSchool(ctx.get(), req, &resp).ok());
  }

  grpc::Status Import(std::vector<pb::HouseholdMemberRow> rows,
                      pb::ImportHouseholdsResponse* resp,
                      const std::string& token = ProvinceToken(),
                      std::string request_id = "") {
    pb::ImportHouseholdsRequest req;
    static int n = 0;
    req.set_request_id(request_id.empty()
                           ? "imp-" + std::to_string(++n) + "-" + GetParam()
                           : request_id);
    for (size_t i = 0; i < rows.size(); ++i) {
      rows[i].set_row_number(static_cast<int64_t>(i + 2));
      *req.add_rows() = rows[i];
    }
    auto ctx = ClientContextWith(token);
    return stub_->ImportHouseholds(ctx.get(), req, resp);
  }

  grpc::Status Enrol(const std::string& id, const std::string& school,
                     cpb::SchoolStage stage, int grade,
                     pb::EnrolmentStatus status,
                     pb::RecordEnrolmentsResponse* resp) {
    pb::RecordEnrolmentsRequest req;
    static int n = 0;
    req.set_request_id("enr-" + std::to_string(++n));
    auto* r = req.add_rows();
    r->set_row_number(2);
    r->set_id_number(id);
    r->set_school_code(school);
    r->set_stage(stage);
    r->set_grade(grade);
    r->mutable_term()->set_year(2026);
    r->mutable_term()->set_season(cpb::SEASON_AUTUMN);
    r->set_status(status);
    auto ctx = ClientContextWith(ProvinceToken());
    return stub_->RecordEnrolments(ctx.get(), req, resp);
  }

  grpc::Status Get(const std::string& id, pb::Student* out,
                   const std::string& token = ProvinceToken()) {
    pb::GetStudentRequest req;
    req.set_id_number(id);
    pb::GetStudentResponse resp;
    auto ctx = ClientContextWith(token);
    grpc::Status st = stub_->GetStudent(ctx.get(), req, &resp);
    *out = resp.student();
    return st;
  }

  std::string Metrics() {
    return testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  }
};

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_TESTS_REGISTRY_FIXTURE_H_
