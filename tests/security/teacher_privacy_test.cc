// Issue 12 on the teacher service (in-process, real SQLite and Redis):
//  1. teachers.id_masked keeps the region only, at import and after the
//     migration that rewrites rows stored in the old form;
//  4. ListTeachers is audited once per call with the count;
//  5. a school officer is held to its school.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "eduaid/teacher/v1/teacher.grpc.pb.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_service.h"
#include "tools/gen/synthetic.h"

namespace eduaid::teacher {
namespace {

using ::eduaid::testing::ClientContextWith;
using ::eduaid::testing::TestToken;

constexpr char kCounty[] = "411325";
constexpr char kSchoolA[] = "S411325A";
constexpr char kSchoolB[] = "S411325B";

pb::TeacherRow Row(int seq, const std::string& school) {
  pb::TeacherRow r;
  r.set_row_number(seq);
  r.set_id_number(synthetic::MakeIdNumber(kCounty, "19850312", seq));
  r.set_name(absl::StrCat("王老师", seq));
  r.set_school_code(school);
  r.set_school_name(school + "学校");
  r.set_region_code(kCounty);
  r.add_subjects("数学");
  r.set_years_of_service(8);
  return r;
}

// True when `masked` shows the six-digit region and nothing else.
bool RegionOnly(const std::string& masked, const std::string& id) {
  return masked == id.substr(0, 6) + std::string(12, '*');
}

class TeacherPrivacyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    redis_ = std::make_unique<testing::TestRedis>();
    config_ = testing::TestServerConfig(
        "teacher", "eduaid.teacher.v1.TeacherSupportService",
        "sqlite://" + dir_.path() + "/teacher.db", redis_->url());
  }

  void StartService(const std::vector<Migration>& migrations) {
    auto host = ServiceHost::Create(config_, migrations);
    ASSERT_TRUE(host.ok()) << host.status();
    host_ = std::move(*host);
    TeacherOptions options;
    options.registry_target =
        "127.0.0.1:" + std::to_string(testing::FreePort());
    service_ = std::make_unique<TeacherService>(*host_, options);
    ASSERT_TRUE(host_->Start({service_.get()}).ok());
    stub_ = pb::TeacherSupportService::NewStub(
        grpc::CreateChannel("127.0.0.1:" + std::to_string(host_->grpc_port()),
                            grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    host_.reset();
    service_.reset();
  }

  std::vector<std::string> Import(const std::vector<pb::TeacherRow>& rows) {
    pb::ImportTeachersRequest req;
    req.set_request_id(absl::StrCat("import-", ++seq_));
    for (const auto& r : rows) *req.add_rows() = r;
    pb::ImportTeachersResponse resp;
    auto ctx = ClientContextWith(TestToken(Role::kProvinceOfficer, ""));
    grpc::Status st = stub_->ImportTeachers(ctx.get(), req, &resp);
    EXPECT_TRUE(st.ok()) << st.error_message();
    EXPECT_EQ(resp.accepted_rows(), static_cast<int64_t>(rows.size()));
    std::vector<std::string> ids;
    for (const auto& t : resp.teachers()) ids.push_back(t.teacher_id());
    return ids;
  }

  std::vector<std::string> MaskedColumn() {
    std::vector<std::string> out;
    EXPECT_TRUE(host_->db()
                    .Read([&](SqlConnection& c) -> absl::Status {
                      auto r =
                          c.Query("SELECT id_masked FROM teachers ORDER BY id");
                      if (!r.ok()) return r.status();
                      for (const auto& row : *r) out.push_back(row.Str(0));
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  grpc::Status List(const std::string& token, pb::ListTeachersResponse* resp) {
    pb::ListTeachersRequest req;
    req.set_region_prefix(kCounty);
    auto ctx = ClientContextWith(token);
    return stub_->ListTeachers(ctx.get(), req, resp);
  }

  std::vector<AuditEvent> AuditOf(const std::string& method) {
    host_->audit().Flush();
    auto events = host_->audit().Query("", method, 0, 100);
    EXPECT_TRUE(events.ok()) << events.status();
    std::vector<AuditEvent> out;
    if (events.ok()) {
      for (auto& [id, e] : *events) out.push_back(e);
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<testing::TestRedis> redis_;
  ServerConfig config_;
  std::unique_ptr<ServiceHost> host_;
  std::unique_ptr<TeacherService> service_;
  std::unique_ptr<pb::TeacherSupportService::Stub> stub_;
  int seq_ = 0;
};

TEST_F(TeacherPrivacyTest, MaskedIdAtRestAndInAnswersKeepsTheRegionOnly) {
  StartService(Migrations());
  const std::vector<pb::TeacherRow> rows = {Row(1, kSchoolA), Row(2, kSchoolB)};
  Import(rows);
  const auto masked = MaskedColumn();
  ASSERT_EQ(masked.size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_TRUE(RegionOnly(masked[i], rows[i].id_number()))
        << "teachers.id_masked shows more than the region: " << masked[i];
  }
  // Agencies see the same form, in lists and one by one.
  pb::ListTeachersResponse listed;
  ASSERT_TRUE(List(TestToken(Role::kAgency, kCounty), &listed).ok());
  ASSERT_EQ(listed.teachers_size(), 2);
  for (const auto& t : listed.teachers()) {
    EXPECT_EQ(t.id_number().find_first_not_of('*', 6), std::string::npos)
        << t.id_number();
  }
  pb::GetTeacherRequest get;
  get.set_teacher_id(listed.teachers(0).teacher_id());
  pb::GetTeacherResponse got;
  auto ctx = ClientContextWith(TestToken(Role::kAgency, kCounty));
  ASSERT_TRUE(stub_->GetTeacher(ctx.get(), get, &got).ok());
  EXPECT_EQ(got.teacher().id_number().find_first_not_of('*', 6),
            std::string::npos)
      << got.teacher().id_number();
}

TEST_F(TeacherPrivacyTest, MigrationRewritesMaskedIdsStoredInTheOldForm) {
  // A database as the previous version left it: region + last four.
  std::vector<Migration> before;
  for (const auto& m : Migrations()) {
    if (m.version <= 5) before.push_back(m);
  }
  ASSERT_LT(before.size(), Migrations().size())
      << "the teacher service needs a migration rewriting id_masked";
  const std::string id = synthetic::MakeIdNumber(kCounty, "19850312", 7);
  const std::string old_form = id.substr(0, 6) + "********" + id.substr(14);
  {
    auto host = ServiceHost::Create(config_, before);
    ASSERT_TRUE(host.ok()) << host.status();
    ASSERT_TRUE(
        (*host)
            ->db()
            .Transact([&](SqlConnection& c) -> absl::Status {
              return c
                  .Execute(
                      "INSERT INTO teachers(id_hash, id_enc, "
                      "id_masked, name_enc, school_code, school_name, "
                      "region_code, rural, stage, subjects, title, "
                      "years_of_service, updated_at, active, "
                      "left_reason) VALUES('h7', '', ?, '', ?, '', ?, "
                      "0, 0, '|数学|', '', 1, 0, 1, '')",
                      {old_form, std::string(kSchoolA), std::string(kCounty)})
                  .status();
            })
            .ok());
  }
  StartService(Migrations());
  const auto masked = MaskedColumn();
  ASSERT_EQ(masked.size(), 1u);
  EXPECT_TRUE(RegionOnly(masked[0], id)) << masked[0];
}

TEST_F(TeacherPrivacyTest, ListTeachersIsAuditedOncePerCallWithTheCount) {
  StartService(Migrations());
  Import({Row(11, kSchoolA), Row(12, kSchoolA), Row(13, kSchoolB)});
  pb::ListTeachersResponse officer, agency;
  ASSERT_TRUE(List(TestToken(Role::kCountyOfficer, kCounty), &officer).ok());
  ASSERT_TRUE(List(TestToken(Role::kAgency, kCounty), &agency).ok());
  ASSERT_EQ(officer.teachers_size(), 3);
  ASSERT_EQ(agency.teachers_size(), 3);
  const auto events = AuditOf("ListTeachers");
  ASSERT_EQ(events.size(), 2u) << "one audit event per list call";
  for (const auto& e : events) {
    EXPECT_NE(e.records.find("listed=3"), std::string::npos) << e.records;
    EXPECT_EQ(e.result, "OK");
  }
  // Newest first: the agency's masked read, then the officer's.
  EXPECT_EQ(events[0].role, "agency");
  EXPECT_FALSE(events[0].personal_data);
  EXPECT_EQ(events[1].role, "county_officer");
  EXPECT_TRUE(events[1].personal_data);
}

TEST_F(TeacherPrivacyTest, SchoolOfficerIsHeldToItsSchool) {
  StartService(Migrations());
  const auto ids = Import({Row(21, kSchoolA), Row(22, kSchoolB)});
  ASSERT_EQ(ids.size(), 2u);
  const std::string mine = ids[0], other = ids[1];
  const std::string token = testing::SchoolOfficerToken(kSchoolA, kCounty);

  pb::ListTeachersResponse listed;
  ASSERT_TRUE(List(token, &listed).ok());
  ASSERT_EQ(listed.teachers_size(), 1);
  EXPECT_EQ(listed.teachers(0).teacher_id(), mine);

  auto get = [&](const std::string& id) {
    pb::GetTeacherRequest req;
    req.set_teacher_id(id);
    pb::GetTeacherResponse resp;
    auto ctx = ClientContextWith(token);
    return stub_->GetTeacher(ctx.get(), req, &resp).error_code();
  };
  EXPECT_EQ(get(mine), grpc::StatusCode::OK);
  EXPECT_EQ(get(other), grpc::StatusCode::PERMISSION_DENIED);

  pb::DeactivateTeacherRequest off;
  off.set_request_id("off-other");
  off.set_teacher_id(other);
  off.set_reason("调离");
  pb::DeactivateTeacherResponse resp;
  {
    auto ctx = ClientContextWith(token);
    EXPECT_EQ(stub_->DeactivateTeacher(ctx.get(), off, &resp).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  pb::ListTeachersResponse all;
  ASSERT_TRUE(List(TestToken(Role::kCountyOfficer, kCounty), &all).ok());
  EXPECT_EQ(all.teachers_size(), 2) << "the other school's teacher is active";

  // No school claim is never "every school": such a token (refused at
  // verification once the claim is mandatory) lists nobody.
  pb::ListTeachersResponse none;
  (void)List(testing::SchoolOfficerToken("", kCounty), &none);
  EXPECT_EQ(none.teachers_size(), 0);
}

}  // namespace
}  // namespace eduaid::teacher
