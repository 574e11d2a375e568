// Unit tests of the pure entitlement and reconciliation rules: who is
// eligible under a standard, what a manual entitlement may carry, which
// standards a generation applies, and the reconciliation's comparisons.
#include "services/ledger/entitlement_rules.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/ledger/policy.h"
#include "services/ledger/reconciliation.h"

namespace eduaid::ledger {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

cpb::Term Autumn2018() {
  cpb::Term t;
  t.set_year(2018);
  t.set_season(cpb::SEASON_AUTUMN);
  return t;
}

std::vector<pb::ProgrammeStandard> Standards() {
  auto policy = ReadPolicyFile(LEDGER_POLICY_FILE);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return {policy->standards().begin(), policy->standards().end()};
}

const pb::ProgrammeStandard& Find(const std::vector<pb::ProgrammeStandard>& l,
                                  const std::string& code) {
  const pb::ProgrammeStandard* s = StandardFor(l, code, Autumn2018());
  EXPECT_NE(s, nullptr) << code;
  return *s;
}

rpb::Student Pupil(const std::string& id, cpb::SchoolStage stage,
                   bool boarder) {
  rpb::Student s;
  s.set_member_id(id);
  s.set_name("张小明");
  s.set_region_code("411528");
  s.set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
  rpb::Enrolment* e = s.mutable_current_enrolment();
  e->set_school_code("S-1");
  e->set_school_name("城关小学");
  e->set_stage(stage);
  e->set_grade(3);
  e->set_boarder(boarder);
  e->set_status(rpb::ENROLMENT_STATUS_ENROLLED);
  e->set_recorded_at("2018-09-01T00:00:00Z");
  return s;
}

TEST(LedgerEligibility, BoardersOnlyRatesPayBoardersAndSayWhyNot) {
  const auto list = Standards();
  const auto& boarding = Find(list, "BOARDING_LIVING");
  Eligibility yes = Evaluate(Pupil("m-1", cpb::SCHOOL_STAGE_PRIMARY, true),
                             boarding, Autumn2018());
  EXPECT_TRUE(yes.eligible);
  EXPECT_EQ(yes.amount_fen, 50000);
  Eligibility no = Evaluate(Pupil("m-2", cpb::SCHOOL_STAGE_PRIMARY, false),
                            boarding, Autumn2018());
  EXPECT_FALSE(no.eligible);
  EXPECT_EQ(no.why_not, "boarders only");
  rpb::Student gone = Pupil("m-3", cpb::SCHOOL_STAGE_PRIMARY, true);
  gone.mutable_current_enrolment()->set_status(
      rpb::ENROLMENT_STATUS_UNSPECIFIED);
  EXPECT_EQ(Evaluate(gone, boarding, Autumn2018()).why_not,
            "not currently enrolled");
}

TEST(LedgerEligibility, FeeWaiversAreEligibleWithoutAnAmount) {
  const auto list = Standards();
  Eligibility el = Evaluate(Pupil("m-1", cpb::SCHOOL_STAGE_SENIOR_HIGH, false),
                            Find(list, "SENIOR_HIGH_FEE_WAIVER"), Autumn2018());
  EXPECT_TRUE(el.eligible);
  EXPECT_TRUE(el.waiver);
  EXPECT_EQ(el.amount_fen, 0);
}

TEST(LedgerManualAmount, DefaultsToTheStandardAndRefusesMore) {
  const auto list = Standards();
  const auto& meals = Find(list, "NUTRITION_MEALS");
  auto standard =
      ManualAmount(meals, cpb::SCHOOL_STAGE_PRIMARY, false, Autumn2018(), 0);
  ASSERT_TRUE(standard.ok()) << standard.status();
  EXPECT_GT(*standard, 0);
  EXPECT_EQ(
      *ManualAmount(meals, cpb::SCHOOL_STAGE_PRIMARY, false, Autumn2018(), 100),
      100);
  auto more = ManualAmount(meals, cpb::SCHOOL_STAGE_PRIMARY, false,
                           Autumn2018(), *standard + 1);
  ASSERT_FALSE(more.ok());
  EXPECT_EQ(FieldViolationsOf(more.status())[0].field, "amount_fen");
  auto stage =
      ManualAmount(meals, cpb::SCHOOL_STAGE_HIGHER, false, Autumn2018(), 0);
  EXPECT_EQ(FieldViolationsOf(stage.status())[0].field, "stage");
  auto boarder =
      ManualAmount(Find(list, "BOARDING_LIVING"), cpb::SCHOOL_STAGE_PRIMARY,
                   false, Autumn2018(), 0);
  EXPECT_EQ(FieldViolationsOf(boarder.status())[0].field, "boarder");
}

TEST(LedgerStandardsToGenerate, NamesTheOffendingProgrammeCode) {
  const auto list = Standards();
  auto all = StandardsToGenerate(list, {}, Autumn2018());
  ASSERT_TRUE(all.ok()) << all.status();
  for (const auto* s : *all) EXPECT_TRUE(s->auto_generate());
  auto unknown =
      StandardsToGenerate(list, {"NUTRITION_MEALS", "NOPE"}, Autumn2018());
  EXPECT_EQ(FieldViolationsOf(unknown.status())[0].field, "programme_codes[1]");
  auto manual = StandardsToGenerate(list, {"RAIN_AND_DEW"}, Autumn2018());
  EXPECT_THAT(manual.status().message(), HasSubstr("CreateEntitlement"));
}

TEST(LedgerTexts, DueDatesAndCarriedOverReasons) {
  const auto list = Standards();
  EXPECT_EQ(DueDate(Find(list, "NUTRITION_MEALS"), Autumn2018()).size(), 10u);
  const std::string moved = CarriedOverReason("r", "Old", "S-0", "2018-10-01");
  EXPECT_EQ(moved, "r; 转学 carried over from Old (S-0) on 2018-10-01");
  EXPECT_EQ(CarriedOverReason(std::string(3000, 'x'), "a", "b", "c").size(),
            2000u);
  EXPECT_STREQ(StageLabel(cpb::SCHOOL_STAGE_PRIMARY), "小学");
}

TEST(LedgerReconciliation, MissingEntitlementsRespectHoldingsAndGroups) {
  const auto list = Standards();
  const auto autos = GeneratedStandards(list, Autumn2018());
  std::vector<rpb::Student> students = {
      Pupil("m-1", cpb::SCHOOL_STAGE_PRIMARY, false),
      Pupil("m-2", cpb::SCHOOL_STAGE_PRIMARY, false)};
  std::vector<HeldForReconcile> held = {
      {"m-1", "NUTRITION_MEALS", "", 7, pb::ENTITLEMENT_STATE_OPEN, ""},
      {"m-2", "NUTRITION_MEALS", "", 8, pb::ENTITLEMENT_STATE_CANCELLED,
       "moved away"}};
  auto gaps = MissingEntitlements(students, "41", autos, held, Autumn2018(),
                                  "2018-09-11");
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0].member_id(), "m-2");
  EXPECT_EQ(gaps[0].detail(), "entitlement 8 was cancelled: moved away");
  EXPECT_EQ(gaps[0].days_open(), 10);
  EXPECT_NE(gaps[0].name(), "张小明") << "names are masked";
  EXPECT_TRUE(MissingEntitlements(students, "42", autos, held, Autumn2018(), "")
                  .empty())
      << "other regions are not compared";
}

TEST(LedgerReconciliation, PaidStudentsNoLongerEligibleSayWhy) {
  const auto list = Standards();
  const auto& boarding = Find(list, "BOARDING_LIVING");
  EXPECT_THAT(NoLongerEligible(nullptr, &boarding, Autumn2018()),
              HasSubstr("no longer listed"));
  rpb::Student day = Pupil("m-1", cpb::SCHOOL_STAGE_PRIMARY, false);
  EXPECT_EQ(NoLongerEligible(&day, &boarding, Autumn2018()),
            "no longer eligible: boarders only");
  rpb::Student boarder = Pupil("m-1", cpb::SCHOOL_STAGE_PRIMARY, true);
  EXPECT_EQ(NoLongerEligible(&boarder, &boarding, Autumn2018()), "");
  EXPECT_EQ(NoLongerEligible(&day, nullptr, Autumn2018()), "");
}

TEST(LedgerReconciliation, AGapListCountsAllAndKeepsTheFirstItems) {
  pb::GapList list;
  for (int i = 0; i < 5; ++i) {
    pb::GapItem item;
    item.set_member_id(absl::StrCat("m-", i));
    AddGap(&list, std::move(item), 2);
  }
  EXPECT_EQ(list.total(), 5);
  ASSERT_EQ(list.items_size(), 2);
  EXPECT_EQ(list.items(1).member_id(), "m-1");
}

}  // namespace
}  // namespace eduaid::ledger
