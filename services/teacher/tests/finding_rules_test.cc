// The pure rules of visit findings (finding_rules.h).
#include "services/teacher/finding_rules.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace eduaid::teacher {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

std::vector<std::string> FieldsOf(const std::vector<FieldViolation>& v) {
  std::vector<std::string> out;
  for (const auto& f : v) out.push_back(f.field);
  return out;
}

TermPayment Paid(int64_t id, const std::string& member,
                 const std::string& programme, const std::string& on,
                 std::vector<std::string> sources = {}) {
  TermPayment p;
  p.payment_id = id;
  p.member_id = member;
  p.programme_code = programme;
  p.paid = true;
  p.paid_on = on;
  p.follow_up_sources = std::move(sources);
  return p;
}

TEST(FindingRules, FitNamesTheMemberOfAnotherHouseholdAndAnUnpaidProgramme) {
  pb::Visit v;
  v.set_household_id("H1");
  auto* a = v.add_findings();
  a->set_kind(pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED);
  a->set_member_id("m-1");
  a->set_programme_code("BOARDING_LIVING");
  auto* b = v.add_findings();
  b->set_kind(pb::FINDING_KIND_NOT_IN_SCHOOL);
  b->set_member_id("m-9");
  auto* c = v.add_findings();
  c->set_kind(pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED);
  c->set_member_id("m-2");
  c->set_programme_code("BOARDING_LIVING");  // paid to m-1 only
  TermPayment failed = Paid(8, "m-2", "BOARDING_LIVING", "2026-09-10");
  failed.paid = false;
  std::vector<int64_t> payment_of;
  auto bad = FindingFitViolations(
      v, {"m-1", "m-2"},
      {Paid(7, "m-1", "BOARDING_LIVING", "2026-09-10"), failed}, &payment_of);
  EXPECT_THAT(FieldsOf(bad),
              ElementsAre("visit.findings[1].member_id",
                          "visit.findings[2].programme_code"));
  EXPECT_THAT(bad[0].rule, ::testing::HasSubstr("not a member of household H1"));
  EXPECT_THAT(payment_of, ElementsAre(7, 0, 0));
}

TEST(FindingRules, ShapeOfNewChildRiskAndNote) {
  pb::Visit v;
  auto* a = v.add_findings();
  a->set_kind(pb::FINDING_KIND_NEW_CHILD);
  a->set_member_id("m-1");
  a->set_name("");
  a->set_relation("子女");
  a->set_id_number("123");
  auto* b = v.add_findings();
  b->set_kind(pb::FINDING_KIND_DROPOUT_RISK);
  b->set_member_id("m-1");
  b->set_note(std::string(501, 'x'));
  auto* c = v.add_findings();
  c->set_kind(pb::FINDING_KIND_LEFT_BEHIND);
  c->set_member_id("m-1");
  c->set_note("祖母照看，父母在广东务工");
  EXPECT_THAT(FieldsOf(FindingShapeViolations(v)),
              UnorderedElementsAre("visit.findings[0].member_id",
                                   "visit.findings[0].id_number",
                                   "visit.findings[0].name",
                                   "visit.findings[1].risk",
                                   "visit.findings[1].note"));
  for (int i = 0; i < 20; ++i) *v.add_findings() = *c;
  EXPECT_THAT(FieldsOf(FindingShapeViolations(v)),
              ElementsAre("visit.findings"));
}

TEST(FindingRules, RoutesAndRelations) {
  pb::VisitFinding f;
  f.set_kind(pb::FINDING_KIND_DROPOUT_RISK);
  f.set_risk(pb::DROPOUT_RISK_MEDIUM);
  EXPECT_FALSE(RouteOf(f).has_value());
  f.set_risk(pb::DROPOUT_RISK_HIGH);
  EXPECT_EQ(RouteOf(f), Route::kRegistryDropout);
  f.set_kind(pb::FINDING_KIND_DISABILITY_WITHOUT_PLAN);
  EXPECT_EQ(RouteOf(f), Route::kRegistrySpecial);
  f.set_kind(pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED);
  EXPECT_EQ(RouteOf(f), Route::kLedgerNotReceived);
  EXPECT_EQ(RelationOf("孙子女"), rpb::RELATION_GRANDCHILD);
  EXPECT_EQ(RelationOf("邻居"), rpb::RELATION_UNSPECIFIED);
}

TEST(FindingRules, FollowUpsArePaidByTheVisitNotNamedAndNotFollowedUpYet) {
  const std::string me = VisitSourceRef(5);
  TermPayment pending = Paid(6, "m-1", "A", "");
  pending.paid = false;
  auto due = FollowUpsDue(
      {Paid(1, "m-1", "A", "2026-09-01"),            // due
       Paid(2, "m-1", "B", "2026-10-02"),            // paid after the visit
       Paid(3, "m-2", "A", "2026-09-01"),            // named by a finding
       Paid(4, "m-2", "B", "2026-09-01", {""}),      // followed up by hand
       Paid(5, "m-2", "C", "2026-09-01", {me}),      // this visit's, again
       pending},
      "2026-10-01", {3}, me);
  std::vector<int64_t> ids;
  for (const auto& p : due) ids.push_back(p.payment_id);
  EXPECT_THAT(ids, ElementsAre(1, 5));
}

}  // namespace
}  // namespace eduaid::teacher
