// The vocational rules, tested directly (no database, no peers): waitlist
// tiers and order, eligibility and course changes, grant terms, report
// arithmetic and the unplaced-graduates list.
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/vocational/eligibility.h"
#include "services/vocational/grant_terms.h"
#include "services/vocational/report.h"
#include "services/vocational/unplaced.h"
#include "services/vocational/waitlist.h"

namespace eduaid::vocational {
namespace {

namespace cpb = ::eduaid::common::v1;
namespace rpb = ::eduaid::registry::v1;
using ::testing::HasSubstr;

cpb::Term Term(int year, cpb::Season season) {
  cpb::Term t;
  t.set_year(year);
  t.set_season(season);
  return t;
}

TEST(VocationalWaitlistRule, PoorHouseholdsHoldingAnOfferComeFirstForMajors) {
  EXPECT_EQ(TierOf(kMajor, cpb::HOUSEHOLD_STATUS_POOR, true), 1);
  EXPECT_EQ(TierOf(kMajor, cpb::HOUSEHOLD_STATUS_POOR, false), 2);
  EXPECT_EQ(TierOf(kMajor, cpb::HOUSEHOLD_STATUS_LIFTED, true), 3);
  EXPECT_EQ(TierOf(kMajor, cpb::HOUSEHOLD_STATUS_LIFTED, false), 4);
  EXPECT_EQ(TierCount(kMajor), 4);
}

TEST(VocationalWaitlistRule, ClassesRankByHouseholdStatusOnly) {
  EXPECT_EQ(TierOf(kClass, cpb::HOUSEHOLD_STATUS_POOR, true), 1);
  EXPECT_EQ(TierOf(kClass, cpb::HOUSEHOLD_STATUS_POOR, false), 1);
  EXPECT_EQ(TierOf(kClass, cpb::HOUSEHOLD_STATUS_LIFTED, true), 2);
  EXPECT_EQ(TierCount(kClass), 2);
  EXPECT_THAT(WaitlistRule(kClass),
              ::testing::Not(HasSubstr("vocational offer")));
  EXPECT_THAT(WaitlistRule(kMajor), HasSubstr("vocational offer"));
}

TEST(VocationalWaitlistRule, ReasonNamesPositionTierAndWhoIsAhead) {
  EXPECT_EQ(WaitlistReason(kClass, 3, 2, 1, 1),
            "position 3 (第3位): tier 2 of 2, household lifted out of poverty "
            "(已脱贫户); ahead: 1 in higher tiers, 1 of the same tier who "
            "applied earlier");
}

TEST(VocationalWaitlistRule, WalkCountsHigherTiersAndEarlierOfTheSameTier) {
  WaitlistWalk walk;
  auto a = walk.Next(1);
  auto b = walk.Next(1);
  auto c = walk.Next(3);
  auto d = walk.Next(3);
  EXPECT_EQ(a.position, 1);
  EXPECT_EQ(a.higher + a.same, 0);
  EXPECT_EQ(b.same, 1);
  EXPECT_EQ(c.higher, 2);
  EXPECT_EQ(c.same, 0);
  EXPECT_EQ(d.position, 4);
  EXPECT_EQ(d.higher, 2);
  EXPECT_EQ(d.same, 1);
}

TEST(VocationalEligibility,
     UnregisteredHouseholdsAndPupilsInSchoolCannotApply) {
  CourseRecord major;
  major.kind = kMajor;
  rpb::Student s;
  s.set_household_status(cpb::HOUSEHOLD_STATUS_UNSPECIFIED);
  EXPECT_EQ(ReasonOf(CheckApplicant(s, major)), "NOT_REGISTERED");
  s.set_household_status(cpb::HOUSEHOLD_STATUS_POOR);
  EXPECT_TRUE(CheckApplicant(s, major).ok());
  s.mutable_current_enrolment()->set_status(rpb::ENROLMENT_STATUS_ENROLLED);
  EXPECT_EQ(ReasonOf(CheckApplicant(s, major)), "IN_SCHOOL");
}

TEST(VocationalEligibility, ClassesTakeWorkingAgeMembersOnTheStartDate) {
  CourseRecord cls;
  cls.kind = kClass;
  cls.start_date = "2026-03-01";
  rpb::Student s;
  s.set_household_status(cpb::HOUSEHOLD_STATUS_LIFTED);
  s.set_birth_date("2010-03-02");  // 15 on the start date
  EXPECT_EQ(ReasonOf(CheckApplicant(s, cls)), "NOT_WORKING_AGE");
  s.set_birth_date("2010-03-01");  // 16
  EXPECT_TRUE(CheckApplicant(s, cls).ok());
}

TEST(VocationalCourseChange, KindIsKeptAndCapacityNeverDropsBelowTaken) {
  CourseRecord old;
  old.kind = kMajor;
  old.capacity = 10;
  old.taken = 6;
  old.intake = Term(2026, cpb::SEASON_AUTUMN);
  pb::Course next;
  next.set_kind(pb::COURSE_KIND_TRAINING_CLASS);
  next.set_capacity(10);
  EXPECT_EQ(ReasonOf(CheckCourseChange(old, next)), "KIND_CHANGE");
  next.set_kind(pb::COURSE_KIND_MAJOR);
  next.set_capacity(5);
  EXPECT_EQ(ReasonOf(CheckCourseChange(old, next)), "CAPACITY_BELOW_ENROLLED");
  next.set_capacity(6);
  EXPECT_TRUE(CheckCourseChange(old, next).ok());
  EXPECT_FALSE(CapacityRaised(old, next));
  next.set_capacity(12);
  EXPECT_TRUE(CapacityRaised(old, next));
  *next.mutable_intake_term() = Term(2026, cpb::SEASON_AUTUMN);
  EXPECT_FALSE(IntakeChanges(old, next));
  *next.mutable_intake_term() = Term(2027, cpb::SEASON_AUTUMN);
  EXPECT_TRUE(IntakeChanges(old, next));
  EXPECT_EQ(ReasonOf(IntakeChangeRefused()), "INTAKE_CHANGE");
  EXPECT_EQ(FreePlaces(old), 4);
}

TEST(VocationalGrantTerms, GradesAndStudyYearsFollowTheIntake) {
  const cpb::Term intake = Term(2026, cpb::SEASON_AUTUMN);
  EXPECT_EQ(GradeInTerm(intake, intake), 1);
  EXPECT_EQ(GradeInTerm(intake, Term(2027, cpb::SEASON_SPRING)), 1);
  EXPECT_EQ(GradeInTerm(intake, Term(2027, cpb::SEASON_AUTUMN)), 2);
  EXPECT_TRUE(StudiesInTerm(intake, 3, Term(2029, cpb::SEASON_SPRING)));
  EXPECT_FALSE(StudiesInTerm(intake, 3, Term(2029, cpb::SEASON_AUTUMN)));
  EXPECT_FALSE(StudiesInTerm(intake, 3, Term(2026, cpb::SEASON_SPRING)));
}

TEST(VocationalGrantTerms, ReasonIsCutAtTwoHundredCodePointsKeepingUtf8Valid) {
  const std::string reason = GrantReason(1, Term(2026, cpb::SEASON_AUTUMN),
                                         std::string(300, 'x'), "M-1", 7);
  EXPECT_EQ(reason.rfind("中职1年级 2026年秋季学期 ", 0), 0u);
  EXPECT_EQ(TruncateUtf8("一二三", 2), "一二");
  EXPECT_EQ(TruncateUtf8("abc", 5), "abc");
}

TEST(VocationalReport, GroupsSumCoursesAndRatesAreBasisPoints) {
  ReportCourse a;
  a.code = "A";
  a.region = "411701";
  a.capacity = 10;
  a.taken = 5;
  a.admitted = 4;
  a.completed = 2;
  a.employed = 1;
  a.attendance_days = 10;
  a.present_days = 9;
  ReportCourse b = a;
  b.code = "B";
  b.region = "411702";
  ReportTotals totals(pb::REPORT_GROUPING_REGION);
  totals.Add(a);
  totals.Add(b);
  pb::GetReportResponse resp;
  totals.Finish("4117", &resp);
  ASSERT_EQ(resp.rows_size(), 2);
  EXPECT_EQ(resp.rows(0).key(), "411701");
  EXPECT_EQ(resp.total().courses(), 2);
  EXPECT_EQ(resp.total().capacity(), 20);
  EXPECT_EQ(resp.total().fill_rate_bp(), 5000);
  EXPECT_EQ(resp.total().completion_rate_bp(), 5000);
  EXPECT_EQ(resp.total().employment_rate_bp(), 5000);
  EXPECT_EQ(resp.total().attendance_rate_bp(), 9000);
  EXPECT_EQ(resp.total().key(), "4117");
  EXPECT_EQ(RateBp(1, 0), 0);
}

TEST(VocationalReport, SchoolGroupingPutsClassesUnderTheirProvider) {
  ReportCourse cls;
  cls.kind = kClass;
  cls.provider = "县职教中心";
  EXPECT_EQ(ReportGroupOf(pb::REPORT_GROUPING_SCHOOL, cls).first,
            "provider:县职教中心");
  ReportCourse major;
  major.kind = kMajor;
  major.school_code = "V1";
  major.school_name = "职业中专";
  EXPECT_EQ(ReportGroupOf(pb::REPORT_GROUPING_SCHOOL, major),
            std::make_pair(std::string("V1"), std::string("职业中专")));
}

TEST(VocationalUnplaced,
     OpenOrAcceptedOffersLeaveTheListAndTheLongestWaitComesFirst) {
  LastOffer last;
  EXPECT_TRUE(AwaitsPlacement(last));
  EXPECT_THAT(UnplacedNote(last), HasSubstr("never offered"));
  last.id = 5;
  last.state = pb::OFFER_STATE_OPEN;
  EXPECT_FALSE(AwaitsPlacement(last));
  last.state = pb::OFFER_STATE_DECLINED;
  last.note = "moved away";
  EXPECT_EQ(UnplacedNote(last), "offer 5 declined: moved away");
  EXPECT_EQ(DaysOpen("2026-07-01", "2026-07-11"), 10);
  EXPECT_EQ(DaysOpen("", "2026-07-11"), 0);
  std::vector<pb::UnplacedGraduate> list(3);
  list[0].set_member_id("m-2");
  list[0].set_days_open(3);
  list[1].set_member_id("m-1");
  list[1].set_days_open(3);
  list[2].set_member_id("m-0");
  list[2].set_days_open(1);
  SortUnplaced(&list);
  EXPECT_EQ(list[0].member_id(), "m-1");
  EXPECT_EQ(list[1].member_id(), "m-2");
  EXPECT_EQ(list[2].member_id(), "m-0");
}

}  // namespace
}  // namespace eduaid::vocational
