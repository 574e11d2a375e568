// The home-visit rules, tested directly (no storage, no RPC).
#include "services/teacher/visit_rules.h"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "gtest/gtest.h"

namespace eduaid::teacher {
namespace {

HouseholdNeed Need(const std::string& id, std::vector<std::string> schools,
                   std::vector<std::string> members = {"m1"}) {
  HouseholdNeed n;
  n.household_id = id;
  n.region_code = "520102";
  n.schools = std::move(schools);
  n.members = std::move(members);
  return n;
}

TEST(PlanAssignmentTest, KeepsFittingTeachersAndVisitedHouseholdsOnly) {
  std::vector<HouseholdNeed> found = {
      Need("h-new", {"S1"}),     Need("h-fits", {"S1"}),
      Need("h-moved", {"S2"}),  // its teacher teaches at S1
      Need("h-visited", {"S2"}), Need("h-relisted", {"S1"}, {"m1", "m2"}),
  };
  std::unordered_map<std::string, StoredHousehold> stored = {
      {"h-fits", {"|S1|", "|m1|", 7, 0, "S1", true}},
      {"h-moved", {"|S2|", "|m1|", 7, 0, "S1", true}},
      {"h-visited", {"|S2|", "|m1|", 7, 2, "S1", false}},
      {"h-relisted", {"|S1|", "|m1|", 8, 0, "S1", true}},
      // No longer listed by the registry: kept while its teacher is active,
      // tried again with the schools on record otherwise.
      {"h-gone-kept", {"|S3|", "|m9|", 9, 0, "S3", true}},
      {"h-gone-retry", {"|S3|", "|m9|", 10, 0, "S3", false}},
      {"h-gone-visited", {"|S3|", "|m9|", 0, 1, "", false}},
  };
  const AssignmentPlan plan = PlanAssignment(found, stored);

  std::vector<std::string> pending;
  for (const auto& n : plan.pending) pending.push_back(n.household_id);
  EXPECT_EQ(pending,
            (std::vector<std::string>{"h-gone-retry", "h-moved", "h-new"}));
  EXPECT_EQ(plan.kept, 4);  // fits, visited, relisted, gone-kept
  ASSERT_EQ(plan.relisted.size(), 1u);
  EXPECT_EQ(plan.relisted[0]->household_id, "h-relisted");
  std::vector<std::string> released = plan.released;
  std::sort(released.begin(), released.end());
  EXPECT_EQ(released, (std::vector<std::string>{"h-gone-retry", "h-moved"}));
  EXPECT_FALSE(plan.pending[2].stored);  // h-new
  EXPECT_TRUE(plan.pending[1].stored);   // h-moved
  EXPECT_EQ(plan.pending[0].schools, (std::vector<std::string>{"S3"}));
}

TEST(UncoveredDetailTest, NamesTheSchoolsAndWhyNoTeacherTakesTheHousehold) {
  const std::unordered_map<std::string, int> teachers_at = {{"S1", 1},
                                                            {"S2", 2}};
  EXPECT_EQ(UncoveredDetail(Need("h", {"S9"}),
                            UncoveredCause::kNoTeacherAtSchool, teachers_at, 5),
            "no active teacher of S9 is in the teacher registry");
  EXPECT_EQ(UncoveredDetail(Need("h", {}), UncoveredCause::kNoTeacherAtSchool,
                            teachers_at, 5),
            "no active teacher of (no school on record) is in the teacher "
            "registry");
  EXPECT_EQ(
      UncoveredDetail(Need("h", {"S1", "S2"}),
                      UncoveredCause::kTeachersAtCapacity, teachers_at, 5),
      "all 3 teachers of S1, S2 already carry the cap of 5 households");
  EXPECT_EQ(
      UncoveredDetail(Need("h", {"S1"}), UncoveredCause::kTeachersAtCapacity,
                      teachers_at, 1),
      "all 1 teacher of S1 already carry the cap of 1 households");
}

TEST(PlanAssignmentTest, KeepsACountyTeacherOfTheHouseholdsCounty) {
  std::vector<HouseholdNeed> found = {Need("h-county", {}),
                                      Need("h-moved-away", {})};
  found[1].region_code = "520103";  // the household moved to another county
  StoredHousehold county;
  county.schools = "";
  county.members = "|m1|";
  county.teacher = 7;
  county.teacher_school = "S5";
  county.teacher_active = true;
  county.rule = pb::ASSIGNMENT_RULE_COUNTY;
  county.region_code = "520102";
  county.teacher_region = "520102";
  std::unordered_map<std::string, StoredHousehold> stored = {
      {"h-county", county}, {"h-moved-away", county}};
  const AssignmentPlan plan = PlanAssignment(found, stored);
  EXPECT_EQ(plan.kept, 1);
  ASSERT_EQ(plan.pending.size(), 1u);
  EXPECT_EQ(plan.pending[0].household_id, "h-moved-away");
  EXPECT_EQ(plan.released, (std::vector<std::string>{"h-moved-away"}));
}

TEST(PlanAssignmentTest, RelistsAHouseholdWhoseCountsChanged) {
  std::vector<HouseholdNeed> found = {Need("h", {"S1"})};
  found[0].out_of_school = 1;
  StoredHousehold e;
  e.schools = "|S1|";
  e.members = "|m1|";
  e.teacher = 7;
  e.teacher_school = "S1";
  e.teacher_active = true;
  std::unordered_map<std::string, StoredHousehold> stored = {{"h", e}};
  const AssignmentPlan plan = PlanAssignment(found, stored);
  EXPECT_EQ(plan.kept, 1);
  ASSERT_EQ(plan.relisted.size(), 1u);
}

TEST(AssignByCountyTest, LeastLoadedTeacherOfTheSameCountyUnderTheCap) {
  std::vector<CountyTeacher> teachers = {
      {12, "520102", 1}, {11, "520102", 1}, {13, "520102", 0},
      {20, "520103", 2}};
  const std::vector<std::string> regions = {"520102", "520102", "520102",
                                            "520102", "520103", "520104",
                                            "520102"};
  const std::vector<bool> want = {true, true, true, true, true, true, false};
  const std::vector<int> pick = AssignByCounty(regions, want, teachers, 2);
  // h0: teacher 13 (load 0); h1: 11 (load 1, lower id than 12); h2: 12;
  // h3: 13 (now 1, the only one under 2); h4: 20 is at the cap; h5: no
  // teacher in 520104; h6: not wanted.
  EXPECT_EQ(pick, (std::vector<int>{2, 1, 0, 2, -1, -1, -1}));
  EXPECT_EQ(teachers[0].load, 2);
  EXPECT_EQ(teachers[1].load, 2);
  EXPECT_EQ(teachers[2].load, 2);
  EXPECT_EQ(teachers[3].load, 2);
}

TEST(AssignByCountyTest, NobodyWithRoomLeavesEveryHouseholdUnplaced) {
  std::vector<CountyTeacher> teachers;
  EXPECT_EQ(AssignByCounty({"520102"}, {true}, teachers, 5),
            (std::vector<int>{-1}));
  teachers = {{1, "520102", 5}};
  EXPECT_EQ(AssignByCounty({"520102"}, {true}, teachers, 5),
            (std::vector<int>{-1}));
}

TEST(CauseAfterCountyRuleTest, NoSchoolMeansNoTeacherInCounty) {
  EXPECT_EQ(CauseAfterCountyRule(Need("h", {}),
                                 UncoveredCause::kNoTeacherAtSchool),
            UncoveredCause::kNoTeacherInCounty);
  EXPECT_EQ(CauseAfterCountyRule(Need("h", {"S1"}),
                                 UncoveredCause::kTeachersAtCapacity),
            UncoveredCause::kTeachersAtCapacity);
  EXPECT_EQ(CauseAfterCountyRule(Need("h", {"S9"}),
                                 UncoveredCause::kNoTeacherAtSchool),
            UncoveredCause::kNoTeacherAtSchool);
}

TEST(UncoveredDetailTest, SaysWhyTheCountyRuleFoundNobodyToo) {
  const std::unordered_map<std::string, int> none;
  EXPECT_EQ(UncoveredDetail(Need("h", {}), UncoveredCause::kNoTeacherInCounty,
                            none, 5, 0),
            "no member is on a school roster, and no school of county "
            "520102 has an active teacher in the teacher registry");
  EXPECT_EQ(UncoveredDetail(Need("h", {}), UncoveredCause::kNoTeacherInCounty,
                            none, 5, 2),
            "no member is on a school roster, and all 2 teachers of county "
            "520102 already carry the cap of 5 households");
  EXPECT_EQ(UncoveredDetail(Need("h", {"S9"}),
                            UncoveredCause::kNoTeacherAtSchool, none, 5, 1),
            "no active teacher of S9 is in the teacher registry; all 1 "
            "teacher of county 520102 already carry the cap of 5 households");
}

CoverageFact Fact(const std::string& region, int64_t teacher, int64_t visits,
                  int64_t risk = 0) {
  CoverageFact f;
  f.region_code = region;
  f.schools = "|S1|";
  f.teacher_id = teacher;
  f.visits = visits;
  f.last_risk = risk;
  f.teacher_school = teacher ? "S1" : "";
  return f;
}

TEST(TallyCoverageTest, CountsPerCountyAndInTotal) {
  const std::vector<CoverageFact> facts = {
      Fact("520102", 1, 1, pb::DROPOUT_RISK_HIGH), Fact("520102", 1, 0),
      Fact("520103", 0, 0), Fact("520103", 2, 3)};
  pb::GetCampaignCoverageResponse resp;
  TallyCoverage(facts, pb::COVERAGE_GROUPING_REGION, /*past_due=*/true, "52",
                nullptr, &resp);
  ASSERT_EQ(resp.rows_size(), 2);
  EXPECT_EQ(resp.rows(0).key(), "520102");
  EXPECT_EQ(resp.rows(0).households(), 2);
  EXPECT_EQ(resp.rows(0).visited(), 1);
  EXPECT_EQ(resp.rows(0).overdue(), 1);
  EXPECT_EQ(resp.rows(0).high_risk(), 1);
  EXPECT_DOUBLE_EQ(resp.rows(0).coverage(), 0.5);
  EXPECT_EQ(resp.rows(1).uncovered(), 1);
  EXPECT_EQ(resp.total().key(), "52");
  EXPECT_EQ(resp.total().label(), "total");
  EXPECT_EQ(resp.total().households(), 4);
  EXPECT_EQ(resp.total().assigned(), 3);
  EXPECT_EQ(resp.total().overdue(), 2);
  EXPECT_DOUBLE_EQ(resp.total().coverage(), 0.5);
}

TEST(TallyCoverageTest, LabelsEachTeacherOnceAndTheUncoveredApart) {
  const std::vector<CoverageFact> facts = {
      Fact("520102", 1, 1), Fact("520102", 1, 0), Fact("520102", 0, 0)};
  int labels = 0;
  pb::GetCampaignCoverageResponse resp;
  TallyCoverage(
      facts, pb::COVERAGE_GROUPING_TEACHER, /*past_due=*/false, "",
      [&](const CoverageFact& f) {
        ++labels;
        return "teacher of " + f.teacher_school;
      },
      &resp);
  EXPECT_EQ(labels, 1);
  ASSERT_EQ(resp.rows_size(), 2);
  EXPECT_EQ(resp.rows(0).key(), "");
  EXPECT_EQ(resp.rows(0).label(), "uncovered");
  EXPECT_EQ(resp.rows(1).key(), "t-1");
  EXPECT_EQ(resp.rows(1).label(), "teacher of S1");
  EXPECT_EQ(resp.rows(1).households(), 2);
  EXPECT_EQ(resp.total().overdue(), 0);
}

}  // namespace
}  // namespace eduaid::teacher
