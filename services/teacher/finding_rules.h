// Pure rules of a visit's structured findings: their shape, their fit to
// the household's registry record and the campaign term's payments, where
// each goes, and which payments a visit follows up (回访).
#ifndef EDUAID_SERVICES_TEACHER_FINDING_RULES_H_
#define EDUAID_SERVICES_TEACHER_FINDING_RULES_H_

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/common/status.h"
#include "services/teacher/visit_store.h"

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;
namespace rpb = ::eduaid::registry::v1;
namespace lpb = ::eduaid::ledger::v1;

inline constexpr int kMaxFindings = 20;

// Violations of the findings' own shape ("visit.findings[i].<field>"):
// 0..20 findings; a known kind; member_id for every kind but NEW_CHILD and
// none for it; NEW_CHILD: a valid ID number, name 1..50, relation one of
// 子女 孙子女 兄弟姐妹 其他; DROPOUT_RISK: risk set; SUBSIDY_NOT_RECEIVED:
// programme_code a code; note 0..500.
std::vector<FieldViolation> FindingShapeViolations(const pb::Visit& v);

// A payment as a visit weighs it (from the ledger's household view).
struct TermPayment {
  int64_t payment_id = 0;
  std::string member_id;
  std::string programme_code;
  bool paid = false;     // state PAID
  std::string paid_on;   // YYYY-MM-DD
  // Follow-ups recorded on it, by their source_ref ("" by hand).
  std::vector<std::string> follow_up_sources;
};

// The payments of a household's ledger view, with their follow-ups.
std::vector<TermPayment> TermPaymentsOf(const lpb::HouseholdLedger& h);

// Violations of findings that do not fit the household: a member of
// another household; a SUBSIDY_NOT_RECEIVED programme that is no PAID
// payment to that member in the term. `payment_of[i]` is set to the
// payment finding i names (0 otherwise).
std::vector<FieldViolation> FindingFitViolations(
    const pb::Visit& v, const std::set<std::string>& members,
    const std::vector<TermPayment>& payments, std::vector<int64_t>* payment_of);

// Where a finding goes; nullopt = recorded only (NOT_ROUTED).
std::optional<Route> RouteOf(const pb::VisitFinding& f);

// 子女 -> RELATION_CHILD, ...; UNSPECIFIED for anything else.
rpb::Relation RelationOf(const std::string& relation);

// "teacher visit <id>": how the peers name this visit.
std::string VisitSourceRef(int64_t visit_id);

// The payments this visit follows up: PAID on or before `visit_date`,
// not named by the visit's own findings (`excluded`), and with no
// follow-up yet but this visit's (`source_ref`: a repeat is the same one).
std::vector<TermPayment> FollowUpsDue(const std::vector<TermPayment>& payments,
                                      const std::string& visit_date,
                                      const std::vector<int64_t>& excluded,
                                      const std::string& source_ref);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_FINDING_RULES_H_
