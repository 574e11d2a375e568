// The registry's pure rules (rules.h), tested directly.
#include "services/registry/rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eduaid::registry {
namespace {

namespace cpb = ::eduaid::common::v1;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::IsEmpty;

TEST(RegistryRules, SchoolAgeMonthsSpanSixToFifteenYearsByBirthMonth) {
  const auto [lo, hi] = SchoolAgeMonths("2026-09-01");
  // Born after September 2010 and no later than September 2020.
  EXPECT_EQ(lo, "2010-09");
  EXPECT_EQ(hi, "2020-09");
}

TEST(RegistryRules, AgeFromMonthCountsFromTheFirstOfTheBirthMonth) {
  EXPECT_EQ(AgeFromMonth("2020-09", "2026-09-01"), 6);
  EXPECT_EQ(AgeFromMonth("2020-10", "2026-09-30"), 5);
  EXPECT_EQ(AgeFromMonth("2020", "2026-09-30"), 0);
  EXPECT_EQ(BirthYearOf("2014-03"), 2014);
  EXPECT_EQ(BirthYearOf("x"), 0);
}

TEST(RegistryRules, StageGradeViolationsBoundTheGradeByTheStage) {
  EXPECT_THAT(StageGradeViolations(cpb::SCHOOL_STAGE_PRIMARY, 6), IsEmpty());
  EXPECT_THAT(StageGradeViolations(cpb::SCHOOL_STAGE_PRIMARY, 7),
              ElementsAre(Field(&FieldViolation::field, "grade")));
  EXPECT_THAT(StageGradeViolations(cpb::SCHOOL_STAGE_UNSPECIFIED, 1),
              ElementsAre(Field(&FieldViolation::field, "stage")));
  EXPECT_EQ(MaxGrade(cpb::SCHOOL_STAGE_HIGHER), 8);
}

TEST(RegistryRules, ClosesAsTransferOnlyAChildInSchoolElsewhereIsTransferred) {
  EXPECT_TRUE(ClosesAsTransfer("S1", pb::ENROLMENT_STATUS_ENROLLED, "S2"));
  EXPECT_TRUE(ClosesAsTransfer("S1", pb::ENROLMENT_STATUS_SUSPENDED, "S2"));
  EXPECT_FALSE(ClosesAsTransfer("S1", pb::ENROLMENT_STATUS_ENROLLED, "S1"));
  EXPECT_FALSE(ClosesAsTransfer("S1", pb::ENROLMENT_STATUS_DROPPED_OUT, "S2"));
}

TEST(RegistryRules, AllowedTransitionClosedCasesNeverMove) {
  using S = pb::DropoutCaseState;
  EXPECT_TRUE(AllowedTransition(S::DROPOUT_CASE_STATE_OPEN,
                                S::DROPOUT_CASE_STATE_ESCALATED));
  EXPECT_TRUE(AllowedTransition(S::DROPOUT_CASE_STATE_ESCALATED,
                                S::DROPOUT_CASE_STATE_RETURNED));
  EXPECT_FALSE(AllowedTransition(S::DROPOUT_CASE_STATE_ESCALATED,
                                 S::DROPOUT_CASE_STATE_ESCALATED));
  EXPECT_FALSE(AllowedTransition(S::DROPOUT_CASE_STATE_RETURNED,
                                 S::DROPOUT_CASE_STATE_VISITED));
  EXPECT_FALSE(AllowedTransition(S::DROPOUT_CASE_STATE_EXEMPT,
                                 S::DROPOUT_CASE_STATE_VISITED));
}

TEST(RegistryRules, HouseholdRowViolationsNameEveryBadFieldInOrder) {
  pb::HouseholdMemberRow row;
  row.set_household_id("bad id!");
  row.set_region_code("411325");
  row.set_registration_year(2012);
  row.set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
  row.set_relation(pb::RELATION_CHILD);
  row.set_name("张三");
  row.set_id_number("not an id");
  EXPECT_THAT(HouseholdRowViolations(row, 2026),
              ElementsAre(Field(&FieldViolation::field, "household_id"),
                          Field(&FieldViolation::field, "registration_year"),
                          Field(&FieldViolation::field, "id_number")));
}

TEST(RegistryRules, ValidateRowCountRequiresOneToTheLimit) {
  EXPECT_FALSE(ValidateRowCount(0).ok());
  EXPECT_TRUE(ValidateRowCount(kMaxRowsPerCall).ok());
  EXPECT_FALSE(ValidateRowCount(kMaxRowsPerCall + 1).ok());
}

TEST(RegistryRules, DisabilityPlanViolationsASchoolPlacementNeedsASchool) {
  pb::DisabilityPlan plan;
  plan.set_category("visual");
  plan.set_placement(pb::PLACEMENT_SPECIAL_SCHOOL);
  EXPECT_TRUE(PlanNeedsSchool(plan));
  EXPECT_THAT(DisabilityPlanViolations(plan),
              ElementsAre(Field(&FieldViolation::field, "plan.school_code")));
  plan.set_placement(pb::PLACEMENT_HOME_TEACHING);
  EXPECT_FALSE(PlanNeedsSchool(plan));
  EXPECT_THAT(DisabilityPlanViolations(plan), IsEmpty());
}

TEST(RegistryRules, MaskStudentHidesPersonalDataFromThoseWhoMayNotSeeIt) {
  pb::Student s;
  s.set_id_number("411325201401010012");
  s.set_name("张小明");
  s.set_birth_date("2014-01-01");
  s.mutable_left_behind()->set_carer_name("李四");
  pb::Student seen = s;
  MaskStudent(true, &seen);
  EXPECT_EQ(seen.name(), "张小明");
  MaskStudent(false, &s);
  EXPECT_NE(s.id_number(), "411325201401010012");
  EXPECT_NE(s.name(), "张小明");
  EXPECT_NE(s.left_behind().carer_name(), "李四");
  EXPECT_TRUE(s.birth_date().empty());
}

TEST(RegistryRules, SummarizeMembersCountsRostersListsAndArrangements) {
  std::vector<MemberState> members = {
      {7, "S2", pb::ENROLMENT_STATUS_SUSPENDED, false, false},
      {3, "S1", pb::ENROLMENT_STATUS_ENROLLED, false, false},
      {5, "S1", pb::ENROLMENT_STATUS_ENROLLED, false, false},
      {9, "S3", pb::ENROLMENT_STATUS_DROPPED_OUT, true, false},
      {11, "", 0, false, true},
      {12, "", 0, false, false}};
  pb::HouseholdSummary out;
  SummarizeMembers(members, &out);
  EXPECT_THAT(out.member_ids(),
              ElementsAre("m-3", "m-5", "m-7", "m-9", "m-11", "m-12"));
  // A dropped-out enrolment is no school of the household.
  EXPECT_THAT(out.school_codes(), ElementsAre("S1", "S2"));
  EXPECT_EQ(out.students(), 3);
  EXPECT_EQ(out.out_of_school(), 1);
  EXPECT_EQ(out.arranged(), 1);
}

TEST(RegistryRules, HouseholdIdsViolationsNameTheOffendingId) {
  google::protobuf::RepeatedPtrField<std::string> ids;
  EXPECT_THAT(HouseholdIdsViolations(ids),
              ElementsAre(Field(&FieldViolation::field, "household_ids")));
  *ids.Add() = "H1";
  *ids.Add() = "H-2";
  EXPECT_THAT(HouseholdIdsViolations(ids), IsEmpty());
  *ids.Add() = "H1";
  *ids.Add() = "";
  EXPECT_THAT(HouseholdIdsViolations(ids),
              ElementsAre(Field(&FieldViolation::field, "household_ids[2]"),
                          Field(&FieldViolation::field, "household_ids[3]")));
}

}  // namespace
}  // namespace eduaid::registry
