// Schooling arrangements (送教上门 / 异地就读) and the home-teaching log
// (issue 13), on both backends: the out-of-school list loses a home-taught
// child and a child studying elsewhere at once, coverage counts them
// apart, and ending an arrangement brings the child back.
#include <string>
#include <vector>

#include "services/common/clock.h"
#include "services/registry/tests/registry_fixture.h"

namespace eduaid::registry {
namespace {

using ::testing::ElementsAre;

class ArrangementsTest : public RegistryTest {
 protected:
  // H1 (411325): child A (9) and child B (11), both on no roster.
  void SetUpChildren() {
    AddSchool("S1", "411325", {cpb::SCHOOL_STAGE_PRIMARY});
    AddSchool("S2", "411325", {cpb::SCHOOL_STAGE_PRIMARY}, "内乡县第二小学");
    pb::ImportHouseholdsResponse resp;
    ASSERT_TRUE(Import({Member("H1", "411325", ChildId(9, 21), "张小雨"),
                        Member("H1", "411325", ChildId(11, 23), "张小雪")},
                       &resp)
                    .ok());
    pb::Student s;
    ASSERT_TRUE(Get(ChildId(9, 21), &s).ok());
    a_ = s.member_id();
    ASSERT_TRUE(Get(ChildId(11, 23), &s).ok());
    b_ = s.member_id();
  }

  static pb::SchoolingArrangement HomeTeaching(const std::string& member,
                                               const std::string& school,
                                               const std::string& start) {
    pb::SchoolingArrangement a;
    a.set_member_id(member);
    a.set_kind(pb::ARRANGEMENT_KIND_HOME_TEACHING);
    a.set_school_code(school);
    a.set_evidence_ref("送教上门方案 2026-17");
    a.set_start_date(start);
    return a;
  }

  static pb::SchoolingArrangement Elsewhere(const std::string& member) {
    pb::SchoolingArrangement a;
    a.set_member_id(member);
    a.set_kind(pb::ARRANGEMENT_KIND_STUDYING_ELSEWHERE);
    a.set_school_name("东莞市长安镇第一小学");
    a.set_place("广东省东莞市长安镇");
    a.set_evidence_ref("学籍证明 扫描件 44-1907");
    a.set_start_date(TodayCst());
    return a;
  }

  grpc::Status Record(const pb::SchoolingArrangement& a,
                      pb::RecordSchoolingArrangementResponse* resp,
                      const std::string& token = CountyToken()) {
    pb::RecordSchoolingArrangementRequest req;
    static int n = 0;
    req.set_request_id("arr-" + std::to_string(++n));
    *req.mutable_arrangement() = a;
    auto ctx = ClientContextWith(token);
    return stub_->RecordSchoolingArrangement(ctx.get(), req, resp);
  }

  grpc::Status End(int64_t id, const std::string& date,
                   pb::EndSchoolingArrangementResponse* resp) {
    pb::EndSchoolingArrangementRequest req;
    static int n = 0;
    req.set_request_id("end-" + std::to_string(++n));
    req.set_arrangement_id(id);
    req.set_end_date(date);
    req.set_reason("转入县特殊教育学校");
    auto ctx = ClientContextWith(CountyToken());
    return stub_->EndSchoolingArrangement(ctx.get(), req, resp);
  }

  int64_t OutOfSchoolTotal() {
    pb::ListOutOfSchoolRequest req;
    pb::ListOutOfSchoolResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->ListOutOfSchool(ctx.get(), req, &resp).ok());
    return resp.total();
  }

  pb::RegionCoverage Coverage() {
    pb::GetCoverageRequest req;
    pb::GetCoverageResponse resp;
    auto ctx = ClientContextWith(ProvinceToken());
    EXPECT_TRUE(stub_->GetCoverage(ctx.get(), req, &resp).ok());
    return resp.total();
  }

  grpc::Status Visit(int64_t arrangement, const std::string& date, int minutes,
                     pb::RecordHomeTeachingVisitResponse* resp) {
    pb::RecordHomeTeachingVisitRequest req;
    static int n = 0;
    req.set_request_id("htv-" + std::to_string(++n));
    auto* v = req.mutable_visit();
    v->set_arrangement_id(arrangement);
    v->set_visit_date(date);
    v->set_teacher("t-12 李老师");
    v->set_content("认读汉字二十个，康复训练");
    v->set_minutes(minutes);
    auto ctx = ClientContextWith(CountyToken());
    return stub_->RecordHomeTeachingVisit(ctx.get(), req, resp);
  }

  std::string a_, b_;
};

TEST_P(ArrangementsTest,
       ArrangedChildrenLeaveTheListAreCountedApartAndComeBack) {
  SetUpChildren();
  ASSERT_EQ(OutOfSchoolTotal(), 2);

  pb::RecordSchoolingArrangementResponse home;
  ASSERT_TRUE(Record(HomeTeaching(a_, "S1", TodayCst()), &home).ok());
  EXPECT_TRUE(home.left_out_of_school_list());
  EXPECT_EQ(home.arrangement().kind(), pb::ARRANGEMENT_KIND_HOME_TEACHING);
  EXPECT_EQ(home.arrangement().evidence_ref(), "送教上门方案 2026-17");
  EXPECT_EQ(home.arrangement().name(), "张小雨");
  EXPECT_EQ(home.arrangement().id_number(), MaskIdNumber(ChildId(9, 21)));
  pb::RecordSchoolingArrangementResponse away;
  ASSERT_TRUE(Record(Elsewhere(b_), &away).ok());
  EXPECT_TRUE(away.left_out_of_school_list());
  EXPECT_EQ(away.arrangement().place(), "广东省东莞市长安镇");
  EXPECT_EQ(OutOfSchoolTotal(), 0);

  // A full identification run never puts them back.
  pb::RunIdentificationRequest run;
  run.set_request_id("run-arr-1");
  pb::RunIdentificationResponse ran;
  auto c1 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->RunIdentification(c1.get(), run, &ran).ok());
  EXPECT_EQ(ran.summary().out_of_school(), 0);
  EXPECT_EQ(OutOfSchoolTotal(), 0);

  pb::RegionCoverage cov = Coverage();
  EXPECT_EQ(cov.home_taught(), 1);
  EXPECT_EQ(cov.studying_elsewhere(), 1);
  EXPECT_EQ(cov.in_school(), 0);
  EXPECT_EQ(cov.out_of_school(), 0);

  pb::Student s;
  ASSERT_TRUE(Get(ChildId(9, 21), &s).ok());
  EXPECT_EQ(s.arrangement().school_code(), "S1");
  pb::ListHouseholdsRequest lreq;
  pb::ListHouseholdsResponse list;
  auto c2 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ListHouseholds(c2.get(), lreq, &list).ok());
  ASSERT_EQ(list.households_size(), 1);
  EXPECT_EQ(list.households(0).arranged(), 2);
  EXPECT_EQ(list.households(0).out_of_school(), 0);

  // One running arrangement per child.
  pb::RecordSchoolingArrangementResponse again;
  grpc::Status st = Record(Elsewhere(a_), &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "ARRANGEMENT_RUNNING");

  // Ending it brings the child back at once, first seen today.
  pb::EndSchoolingArrangementResponse ended;
  ASSERT_TRUE(
      End(home.arrangement().arrangement_id(), TodayCst(), &ended).ok());
  EXPECT_TRUE(ended.back_on_out_of_school_list());
  EXPECT_EQ(ended.arrangement().end_date(), TodayCst());
  EXPECT_EQ(ended.arrangement().end_reason(), "转入县特殊教育学校");
  EXPECT_EQ(OutOfSchoolTotal(), 1);
  pb::ListOutOfSchoolRequest oreq;
  pb::ListOutOfSchoolResponse oos;
  auto c3 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ListOutOfSchool(c3.get(), oreq, &oos).ok());
  ASSERT_EQ(oos.children_size(), 1);
  EXPECT_EQ(oos.children(0).member_id(), a_);
  EXPECT_EQ(oos.children(0).first_seen(), TodayCst());
  EXPECT_EQ(Coverage().home_taught(), 0);
  st = End(home.arrangement().arrangement_id(), TodayCst(), &ended);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "ARRANGEMENT_ENDED");
  ASSERT_TRUE(Get(ChildId(9, 21), &s).ok());
  EXPECT_FALSE(s.has_arrangement());
}

TEST_P(ArrangementsTest, BadArrangementsNameTheFieldAndStoreNothing) {
  SetUpChildren();
  pb::RecordSchoolingArrangementResponse resp;
  auto field_of = [&](const pb::SchoolingArrangement& a,
                      const std::string& token = CountyToken()) {
    grpc::Status st = Record(a, &resp, token);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    auto v = FieldViolationsOf(FromGrpcStatus(st));
    return v.empty() ? std::string() : v[0].field;
  };
  pb::SchoolingArrangement a = Elsewhere(a_);
  a.set_kind(pb::ARRANGEMENT_KIND_UNSPECIFIED);
  EXPECT_EQ(field_of(a), "arrangement.kind");
  a = Elsewhere(a_);
  a.clear_place();
  EXPECT_EQ(field_of(a), "arrangement.place");
  a = Elsewhere(a_);
  a.set_school_name("东莞\x01小学");
  EXPECT_EQ(field_of(a), "arrangement.school_name");
  // Invalid UTF-8 never reaches the logic: the request itself is refused.
  a.set_school_name("\xff\xfe");
  EXPECT_EQ(field_of(a), "request");
  a = Elsewhere(a_);
  a.set_start_date(AddDays(TodayCst(), 1));
  EXPECT_EQ(field_of(a), "arrangement.start_date");
  a = Elsewhere(a_);
  a.clear_evidence_ref();
  EXPECT_EQ(field_of(a), "arrangement.evidence_ref");
  EXPECT_EQ(field_of(HomeTeaching(a_, "S9", TodayCst())),
            "arrangement.school_code");
  EXPECT_EQ(field_of(HomeTeaching(a_, "", TodayCst())),
            "arrangement.school_code");

  // School officers: HOME_TEACHING of their own school only.
  const std::string s1 = testing::SchoolOfficerToken("S1", "411325");
  EXPECT_EQ(Record(Elsewhere(a_), &resp, s1).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Record(HomeTeaching(a_, "S2", TodayCst()), &resp, s1).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  // Another county's officer.
  EXPECT_EQ(Record(Elsewhere(a_), &resp, CountyToken("411326")).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(OutOfSchoolTotal(), 2);
  pb::ListSchoolingArrangementsRequest lreq;
  pb::ListSchoolingArrangementsResponse list;
  auto c1 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ListSchoolingArrangements(c1.get(), lreq, &list).ok());
  EXPECT_EQ(list.arrangements_size(), 0);

  ASSERT_TRUE(Record(HomeTeaching(a_, "S1", TodayCst()), &resp, s1).ok());
  pb::EndSchoolingArrangementResponse ended;
  grpc::Status st =
      End(resp.arrangement().arrangement_id(), AddDays(TodayCst(), -1), &ended);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "end_date");
}

TEST_P(ArrangementsTest, TheHomeTeachingLogListsNewestFirstWithTotals) {
  SetUpChildren();
  const std::string start = AddDays(TodayCst(), -30);
  pb::RecordSchoolingArrangementResponse home, away;
  ASSERT_TRUE(Record(HomeTeaching(a_, "S1", start), &home).ok());
  ASSERT_TRUE(Record(Elsewhere(b_), &away).ok());
  const int64_t id = home.arrangement().arrangement_id();
  pb::RecordHomeTeachingVisitResponse v;
  ASSERT_TRUE(Visit(id, AddDays(TodayCst(), -20), 90, &v).ok());
  EXPECT_EQ(v.visit().content(), "认读汉字二十个，康复训练");
  ASSERT_TRUE(Visit(id, AddDays(TodayCst(), -10), 60, &v).ok());
  ASSERT_TRUE(Visit(id, TodayCst(), 120, &v).ok());

  grpc::Status st = Visit(id, AddDays(start, -1), 60, &v);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "visit.visit_date");
  st = Visit(id, AddDays(TodayCst(), 1), 60, &v);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "visit.visit_date");
  st = Visit(id, TodayCst(), 0, &v);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "visit.minutes");
  st = Visit(away.arrangement().arrangement_id(), TodayCst(), 60, &v);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(ReasonOf(FromGrpcStatus(st)), "NOT_HOME_TEACHING");

  std::vector<std::string> dates;
  std::string token;
  pb::ListHomeTeachingVisitsResponse list;
  do {
    pb::ListHomeTeachingVisitsRequest req;
    req.set_arrangement_id(id);
    req.set_page_size(2);
    req.set_page_token(token);
    auto ctx = ClientContextWith(TestToken(Role::kAgency, "411325"));
    ASSERT_TRUE(stub_->ListHomeTeachingVisits(ctx.get(), req, &list).ok());
    for (const auto& x : list.visits()) dates.push_back(x.visit_date());
    token = list.next_page_token();
  } while (!token.empty());
  EXPECT_THAT(dates, ElementsAre(TodayCst(), AddDays(TodayCst(), -10),
                                 AddDays(TodayCst(), -20)));
  EXPECT_EQ(list.total(), 3);
  EXPECT_EQ(list.total_minutes(), 270);

  // The list by kind and running state.
  pb::ListSchoolingArrangementsRequest lreq;
  lreq.set_kind(pb::ARRANGEMENT_KIND_HOME_TEACHING);
  pb::ListSchoolingArrangementsResponse arr;
  auto c1 = ClientContextWith(TestToken(Role::kAgency, "411325"));
  ASSERT_TRUE(stub_->ListSchoolingArrangements(c1.get(), lreq, &arr).ok());
  ASSERT_EQ(arr.arrangements_size(), 1);
  EXPECT_EQ(arr.arrangements(0).name(), MaskName("张小雨"));
  // Agencies: kind, school and dates; no evidence (personal data).
  EXPECT_EQ(arr.arrangements(0).evidence_ref(), "");
  EXPECT_FALSE(arr.arrangements(0).start_date().empty());
  auto c0 = ClientContextWith(ProvinceToken());
  pb::ListSchoolingArrangementsResponse officer;
  ASSERT_TRUE(stub_->ListSchoolingArrangements(c0.get(), lreq, &officer).ok());
  ASSERT_EQ(officer.arrangements_size(), 1);
  EXPECT_FALSE(officer.arrangements(0).evidence_ref().empty());
  pb::EndSchoolingArrangementResponse ended;
  ASSERT_TRUE(End(id, TodayCst(), &ended).ok());
  lreq.set_running_only(true);
  auto c2 = ClientContextWith(ProvinceToken());
  ASSERT_TRUE(stub_->ListSchoolingArrangements(c2.get(), lreq, &arr).ok());
  EXPECT_EQ(arr.arrangements_size(), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, ArrangementsTest, testing::Backends());

}  // namespace
}  // namespace eduaid::registry
