#include "services/teacher/finding_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/validate.h"

namespace eduaid::teacher {

namespace {

std::string At(int i, const char* field) {
  return absl::StrCat("visit.findings[", i, "].", field);
}

void Add(std::vector<FieldViolation>* out, const absl::Status& st,
         const std::string& prefix) {
  for (auto& f : FieldViolationsOf(st)) out->push_back({prefix + f.field, f.rule});
}

void CheckOne(int i, const pb::VisitFinding& f,
              std::vector<FieldViolation>* bad) {
  const std::string prefix = absl::StrCat("visit.findings[", i, "].");
  if (!pb::FindingKind_IsValid(f.kind()) ||
      f.kind() == pb::FINDING_KIND_UNSPECIFIED) {
    bad->push_back({At(i, "kind"), "must be a known finding kind"});
    return;
  }
  if (f.kind() == pb::FINDING_KIND_NEW_CHILD) {
    if (!f.member_id().empty()) {
      bad->push_back({At(i, "member_id"),
                      "must be empty: a new child is not a member yet"});
    }
    Add(bad, ValidateIdNumber("id_number", f.id_number()).status(), prefix);
    Add(bad, ValidateText("name", f.name(), 50), prefix);
    if (RelationOf(f.relation()) == rpb::RELATION_UNSPECIFIED) {
      bad->push_back(
          {At(i, "relation"), "must be one of 子女, 孙子女, 兄弟姐妹, 其他"});
    }
  } else {
    Add(bad, ValidateMemberId("member_id", f.member_id()), prefix);
  }
  if (f.kind() == pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED) {
    Add(bad, ValidateText("programme_code", f.programme_code(), 50), prefix);
  } else if (!f.programme_code().empty()) {
    bad->push_back({At(i, "programme_code"),
                    "only a SUBSIDY_NOT_RECEIVED finding names a programme"});
  }
  if (f.kind() == pb::FINDING_KIND_DROPOUT_RISK &&
      (!pb::DropoutRisk_IsValid(f.risk()) ||
       f.risk() == pb::DROPOUT_RISK_UNSPECIFIED)) {
    bad->push_back({At(i, "risk"), "must be NONE, LOW, MEDIUM or HIGH"});
  }
  Add(bad, ValidateText("note", f.note(), 500, false), prefix);
}

}  // namespace

rpb::Relation RelationOf(const std::string& relation) {
  if (relation == "子女") return rpb::RELATION_CHILD;
  if (relation == "孙子女") return rpb::RELATION_GRANDCHILD;
  if (relation == "兄弟姐妹") return rpb::RELATION_SIBLING;
  if (relation == "其他") return rpb::RELATION_OTHER;
  return rpb::RELATION_UNSPECIFIED;
}

std::vector<FieldViolation> FindingShapeViolations(const pb::Visit& v) {
  std::vector<FieldViolation> bad;
  if (v.findings_size() > kMaxFindings) {
    bad.push_back({"visit.findings", "at most 20 findings"});
    return bad;
  }
  for (int i = 0; i < v.findings_size(); ++i) CheckOne(i, v.findings(i), &bad);
  return bad;
}

std::vector<TermPayment> TermPaymentsOf(const lpb::HouseholdLedger& h) {
  std::vector<TermPayment> out;
  for (const auto& p : h.payments()) {
    TermPayment t;
    t.payment_id = p.payment_id();
    t.member_id = p.member_id();
    t.programme_code = p.programme_code();
    t.paid = p.state() == lpb::PAYMENT_STATE_PAID;
    t.paid_on = p.paid_at().substr(0, 10);
    for (const auto& f : h.follow_ups()) {
      if (f.payment_id() == p.payment_id()) {
        t.follow_up_sources.push_back(f.source_ref());
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

std::vector<FieldViolation> FindingFitViolations(
    const pb::Visit& v, const std::set<std::string>& members,
    const std::vector<TermPayment>& payments,
    std::vector<int64_t>* payment_of) {
  std::vector<FieldViolation> bad;
  payment_of->assign(static_cast<size_t>(v.findings_size()), 0);
  for (int i = 0; i < v.findings_size(); ++i) {
    const pb::VisitFinding& f = v.findings(i);
    if (f.kind() == pb::FINDING_KIND_NEW_CHILD) continue;
    if (!members.count(f.member_id())) {
      bad.push_back({At(i, "member_id"),
                     absl::StrCat(f.member_id(),
                                  " is not a member of household ",
                                  v.household_id())});
      continue;
    }
    if (f.kind() != pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED) continue;
    for (const TermPayment& p : payments) {
      if (p.paid && p.member_id == f.member_id() &&
          p.programme_code == f.programme_code()) {
        (*payment_of)[static_cast<size_t>(i)] = p.payment_id;
        break;
      }
    }
    if ((*payment_of)[static_cast<size_t>(i)] == 0) {
      bad.push_back({At(i, "programme_code"),
                     absl::StrCat(f.programme_code(),
                                  " was not paid to ", f.member_id(),
                                  " in the campaign's term")});
    }
  }
  return bad;
}

std::optional<Route> RouteOf(const pb::VisitFinding& f) {
  switch (f.kind()) {
    case pb::FINDING_KIND_SUBSIDY_NOT_RECEIVED:
      return Route::kLedgerNotReceived;
    case pb::FINDING_KIND_NOT_IN_SCHOOL:
      return Route::kRegistryDropout;
    case pb::FINDING_KIND_DROPOUT_RISK:
      if (f.risk() == pb::DROPOUT_RISK_HIGH) return Route::kRegistryDropout;
      return std::nullopt;
    case pb::FINDING_KIND_NEW_CHILD:
      return Route::kRegistryNewChild;
    case pb::FINDING_KIND_LEFT_BEHIND:
    case pb::FINDING_KIND_DISABILITY_WITHOUT_PLAN:
      return Route::kRegistrySpecial;
    default:
      return std::nullopt;
  }
}

std::string VisitSourceRef(int64_t visit_id) {
  return absl::StrCat("teacher visit ", visit_id);
}

std::vector<TermPayment> FollowUpsDue(const std::vector<TermPayment>& payments,
                                      const std::string& visit_date,
                                      const std::vector<int64_t>& excluded,
                                      const std::string& source_ref) {
  std::vector<TermPayment> out;
  for (const TermPayment& p : payments) {
    if (!p.paid || p.paid_on.empty() || p.paid_on > visit_date) continue;
    if (std::find(excluded.begin(), excluded.end(), p.payment_id) !=
        excluded.end()) {
      continue;
    }
    bool others = false;
    for (const auto& s : p.follow_up_sources) others |= s != source_ref;
    if (!others) out.push_back(p);
  }
  return out;
}

}  // namespace eduaid::teacher
