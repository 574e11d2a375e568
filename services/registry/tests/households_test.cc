// Households (issue 13): ListHouseholds, the population of a home-visit
// campaign, and GetHouseholds, the case file; on both backends.
#include <string>
#include <vector>

#include "services/registry/tests/registry_fixture.h"

namespace eduaid::registry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

class HouseholdsTest : public RegistryTest {
 protected:
  // H1 (411325): a head, a child on S1's roster and a child on no roster;
  // H2 (411325): one child, on no roster; H3 (411326): one child.
  void SetUpHouseholds() {
    AddSchool("S1", "411325", {cpb::SCHOOL_STAGE_PRIMARY});
    pb::ImportHouseholdsResponse resp;
    ASSERT_TRUE(
        Import({Member("H1", "411325", ChildId(40, 11), "王建国",
                       pb::RELATION_HEAD),
                Member("H1", "411325", ChildId(10, 13), "王小明"),
                Member("H1", "411325", ChildId(9, 15), "王小红"),
                Member("H2", "411325", ChildId(8, 17), "李小刚"),
                Member("H3", "411326", ChildId(8, 19, "411326"), "赵小丽")},
               &resp)
            .ok());
    ASSERT_EQ(resp.accepted_rows(), 5);
    pb::RecordEnrolmentsResponse enr;
    ASSERT_TRUE(Enrol(ChildId(10, 13), "S1", cpb::SCHOOL_STAGE_PRIMARY, 4,
                      pb::ENROLMENT_STATUS_ENROLLED, &enr)
                    .ok());
    ASSERT_EQ(enr.accepted_rows(), 1);
  }

  grpc::Status List(const std::string& token, const std::string& prefix,
                    int page_size, const std::string& page_token,
                    pb::ListHouseholdsResponse* resp) {
    pb::ListHouseholdsRequest req;
    req.set_region_prefix(prefix);
    req.set_page_size(page_size);
    req.set_page_token(page_token);
    auto ctx = ClientContextWith(token);
    return stub_->ListHouseholds(ctx.get(), req, resp);
  }

  grpc::Status GetHouseholds(const std::string& token,
                             const std::vector<std::string>& ids,
                             pb::GetHouseholdsResponse* resp) {
    pb::GetHouseholdsRequest req;
    for (const auto& id : ids) req.add_household_ids(id);
    auto ctx = ClientContextWith(token);
    return stub_->GetHouseholds(ctx.get(), req, resp);
  }

  std::string MemberIdOf(const std::string& id_number) {
    pb::Student s;
    EXPECT_TRUE(Get(id_number, &s).ok());
    return s.member_id();
  }
};

TEST_P(HouseholdsTest, ListHouseholdsListsHouseholdsWithNoChildOnARoster) {
  SetUpHouseholds();
  pb::ListHouseholdsResponse resp;
  ASSERT_TRUE(List(CountyToken("411325"), "", 0, "", &resp).ok());
  ASSERT_EQ(resp.households_size(), 2);
  EXPECT_TRUE(resp.next_page_token().empty());
  const pb::HouseholdSummary& h1 = resp.households(0);
  EXPECT_EQ(h1.household_id(), "H1");
  EXPECT_EQ(h1.region_code(), "411325");
  EXPECT_EQ(h1.household_status(), cpb::HOUSEHOLD_STATUS_POOR);
  ASSERT_EQ(h1.member_ids_size(), 3);
  EXPECT_THAT(h1.member_ids(),
              ElementsAre(MemberIdOf(ChildId(40, 11)),
                          MemberIdOf(ChildId(10, 13)),
                          MemberIdOf(ChildId(9, 15))));
  EXPECT_THAT(h1.school_codes(), ElementsAre("S1"));
  EXPECT_EQ(h1.students(), 1);
  EXPECT_EQ(h1.out_of_school(), 1);
  EXPECT_EQ(h1.arranged(), 0);
  // The household whose only child is on no roster is listed too.
  const pb::HouseholdSummary& h2 = resp.households(1);
  EXPECT_EQ(h2.household_id(), "H2");
  EXPECT_THAT(h2.member_ids(), ElementsAre(MemberIdOf(ChildId(8, 17))));
  EXPECT_THAT(h2.school_codes(), IsEmpty());
  EXPECT_EQ(h2.students(), 0);
  EXPECT_EQ(h2.out_of_school(), 1);

  // The province sees all three.
  ASSERT_TRUE(List(ProvinceToken(), "", 0, "", &resp).ok());
  EXPECT_EQ(resp.households_size(), 3);
}

TEST_P(HouseholdsTest, ListHouseholdsPagesByHouseholdIdAndHoldsTheScope) {
  SetUpHouseholds();
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    pb::ListHouseholdsResponse resp;
    ASSERT_TRUE(List(ProvinceToken(), "41", 1, token, &resp).ok());
    for (const auto& h : resp.households()) seen.push_back(h.household_id());
    token = resp.next_page_token();
    ASSERT_LT(++pages, 10);
  } while (!token.empty());
  EXPECT_THAT(seen, ElementsAre("H1", "H2", "H3"));

  pb::ListHouseholdsResponse resp;
  ASSERT_TRUE(List(ProvinceToken(), "41", 1, "", &resp).ok());
  // A token is bound to its filters and cannot be forged.
  grpc::Status st =
      List(ProvinceToken(), "4113", 1, resp.next_page_token(), &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "page_token");
  st = List(ProvinceToken(), "41", 1, "forged", &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  st = List(ProvinceToken(), "41", -1, "", &resp);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "page_size");

  // A filter wider than the caller's scope, or beside it, is refused.
  EXPECT_EQ(List(CountyToken("411325"), "4113", 0, "", &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(List(CountyToken("411325"), "411326", 0, "", &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(List(testing::SchoolOfficerToken("S1", "411325"), "", 0, "", &resp)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_TRUE(List(CountyToken("411326"), "411326", 0, "", &resp).ok());
  ASSERT_EQ(resp.households_size(), 1);
  EXPECT_EQ(resp.households(0).household_id(), "H3");
}

TEST_P(HouseholdsTest, GetHouseholdsAnswersWholeHouseholdsInRequestOrder) {
  SetUpHouseholds();
  // A dropout case for H2's child and a left-behind record in H1.
  pb::OpenDropoutCaseRequest open;
  open.set_request_id("hh-case-1");
  open.set_member_id(MemberIdOf(ChildId(8, 17)));
  open.set_note("家访未见孩子");
  pb::OpenDropoutCaseResponse opened;
  auto c1 = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->OpenDropoutCase(c1.get(), open, &opened).ok());
  pb::SetLeftBehindRequest lb;
  lb.set_request_id("hh-lb-1");
  lb.set_member_id(MemberIdOf(ChildId(10, 13)));
  lb.mutable_left_behind()->set_carer_name("王奶奶");
  lb.mutable_left_behind()->set_carer_relation("祖母");
  lb.mutable_left_behind()->set_parents_location("浙江省义乌市");
  pb::SetLeftBehindResponse lresp;
  auto c2 = ClientContextWith(CountyToken());
  ASSERT_TRUE(stub_->SetLeftBehind(c2.get(), lb, &lresp).ok());

  pb::GetHouseholdsResponse resp;
  ASSERT_TRUE(
      GetHouseholds(CountyToken("411325"), {"H2", "NOPE", "H1", "H3"}, &resp)
          .ok());
  ASSERT_EQ(resp.households_size(), 2);
  // Unknown and out-of-region households are answered alike.
  EXPECT_THAT(resp.not_found(), ElementsAre("NOPE", "H3"));
  const pb::Household& h2 = resp.households(0);
  EXPECT_EQ(h2.household_id(), "H2");
  EXPECT_EQ(h2.registration_year(), 2016);
  ASSERT_EQ(h2.members_size(), 1);
  EXPECT_THAT(h2.out_of_school_member_ids(),
              ElementsAre(h2.members(0).member_id()));
  ASSERT_EQ(h2.dropout_cases_size(), 1);
  EXPECT_EQ(h2.dropout_cases(0).history_size(), 1);
  EXPECT_EQ(h2.dropout_cases(0).history(0).note(), "家访未见孩子");
  EXPECT_EQ(h2.dropout_cases(0).name(), "李小刚");

  const pb::Household& h1 = resp.households(1);
  EXPECT_EQ(h1.household_id(), "H1");
  ASSERT_EQ(h1.members_size(), 3);
  const pb::Student& head = h1.members(0);
  EXPECT_EQ(head.name(), "王建国");
  EXPECT_EQ(head.relation(), pb::RELATION_HEAD);
  EXPECT_EQ(head.id_number(), MaskIdNumber(ChildId(40, 11)));
  EXPECT_TRUE(head.birth_date().empty());
  EXPECT_GT(head.birth_year(), 1900);
  const pb::Student& pupil = h1.members(1);
  EXPECT_EQ(pupil.name(), "王小明");
  EXPECT_EQ(pupil.current_enrolment().school_code(), "S1");
  EXPECT_EQ(pupil.left_behind().carer_name(), "王奶奶");
  EXPECT_TRUE(pupil.enrolment_history().empty());
  EXPECT_THAT(h1.out_of_school_member_ids(),
              ElementsAre(h1.members(2).member_id()));
  EXPECT_TRUE(h1.dropout_cases().empty());

  // Agencies get masked names (the carer's too).
  ASSERT_TRUE(
      GetHouseholds(TestToken(Role::kAgency, "411325"), {"H1"}, &resp).ok());
  ASSERT_EQ(resp.households_size(), 1);
  EXPECT_EQ(resp.households(0).members(1).name(), MaskName("王小明"));
  EXPECT_EQ(resp.households(0).members(1).left_behind().carer_name(),
            MaskName("王奶奶"));
}

TEST_P(HouseholdsTest, GetHouseholdsNamesTheBadId) {
  pb::GetHouseholdsResponse resp;
  grpc::Status st = GetHouseholds(ProvinceToken(), {}, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "household_ids");
  st = GetHouseholds(ProvinceToken(), {"H1", "H 2"}, &resp);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "household_ids[1]");
  st = GetHouseholds(ProvinceToken(), {"H1", "H2", "H1"}, &resp);
  ASSERT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "household_ids[2]");
  std::vector<std::string> many;
  for (int i = 0; i < 101; ++i) many.push_back("H" + std::to_string(i));
  st = GetHouseholds(ProvinceToken(), many, &resp);
  EXPECT_EQ(FieldViolationsOf(FromGrpcStatus(st))[0].field, "household_ids");
  many.pop_back();
  EXPECT_TRUE(GetHouseholds(ProvinceToken(), many, &resp).ok());
  EXPECT_EQ(resp.not_found_size(), 100);
}

INSTANTIATE_TEST_SUITE_P(Backends, HouseholdsTest, testing::Backends());

}  // namespace
}  // namespace eduaid::registry
