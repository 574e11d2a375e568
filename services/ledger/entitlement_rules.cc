#include "services/ledger/entitlement_rules.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status.h"
#include "services/common/term.h"

namespace eduaid::ledger {

const char* StageLabel(cpb::SchoolStage stage) {
  switch (stage) {
    case cpb::SCHOOL_STAGE_PRESCHOOL:
      return "学前";
    case cpb::SCHOOL_STAGE_PRIMARY:
      return "小学";
    case cpb::SCHOOL_STAGE_JUNIOR_HIGH:
      return "初中";
    case cpb::SCHOOL_STAGE_SENIOR_HIGH:
      return "普通高中";
    case cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL:
      return "中职";
    case cpb::SCHOOL_STAGE_HIGHER:
      return "高等教育";
    default:
      return "";
  }
}

Eligibility Evaluate(const rpb::Student& s, const pb::ProgrammeStandard& std_,
                     const cpb::Term& term) {
  Eligibility out;
  const rpb::Enrolment& e = s.current_enrolment();
  if (e.status() != rpb::ENROLMENT_STATUS_ENROLLED) {
    out.why_not = "not currently enrolled";
    return out;
  }
  if (e.term().year() != 0 && TermOrdinal(e.term()) > TermOrdinal(term)) {
    out.why_not = "enrolled only after the term";
    return out;
  }
  if (!AdmitsHousehold(std_, s.household_status())) {
    out.why_not = "household status not covered";
    return out;
  }
  const pb::StageRate* rate = RateFor(std_, e.stage());
  if (rate == nullptr) {
    out.why_not = "stage not covered";
    return out;
  }
  if (std_.kind() == pb::PROGRAMME_KIND_FEE_WAIVER) {
    out.eligible = true;
    out.waiver = true;
    return out;
  }
  out.amount_fen = AmountForTerm(std_, e.stage(), e.boarder(), term);
  if (out.amount_fen <= 0) {
    out.why_not = rate->boarders_only() && !e.boarder()
                      ? "boarders only"
                      : "nothing payable in this term";
    return out;
  }
  out.eligible = true;
  return out;
}

std::string GeneratedReason(const rpb::Student& s,
                            const pb::ProgrammeStandard& std_) {
  const rpb::Enrolment& e = s.current_enrolment();
  return absl::StrCat("建档立卡贫困家庭学生 (registered poor household",
                      s.household_status() == cpb::HOUSEHOLD_STATUS_LIFTED
                          ? ", lifted, in transition"
                          : "",
                      "); ", StageLabel(e.stage()), " grade ", e.grade(),
                      e.boarder() ? " boarder" : "", " at ", e.school_name(),
                      " (", e.school_code(), "); standard ", StandardId(std_));
}

std::string DueDate(const pb::ProgrammeStandard& s, const cpb::Term& term) {
  return AddDays(TermStart(term),
                 s.pay_within_days() > 0 ? s.pay_within_days() : 90);
}

std::string CarriedOverReason(const std::string& reason,
                              const std::string& old_school_name,
                              const std::string& old_school_code,
                              const std::string& date) {
  return absl::StrCat(reason, "; 转学 carried over from ", old_school_name,
                      " (", old_school_code, ") on ", date)
      .substr(0, 2000);
}

std::vector<const pb::ProgrammeStandard*> GeneratedStandards(
    const std::vector<pb::ProgrammeStandard>& standards,
    const cpb::Term& term) {
  std::set<std::string> codes;
  for (const auto& s : standards) codes.insert(s.programme_code());
  std::vector<const pb::ProgrammeStandard*> out;
  for (const auto& code : codes) {
    const pb::ProgrammeStandard* s = StandardFor(standards, code, term);
    if (s != nullptr && s->auto_generate()) out.push_back(s);
  }
  return out;
}

absl::StatusOr<std::vector<const pb::ProgrammeStandard*>> StandardsToGenerate(
    const std::vector<pb::ProgrammeStandard>& standards,
    const std::vector<std::string>& codes, const cpb::Term& term) {
  std::vector<const pb::ProgrammeStandard*> selected;
  if (codes.empty()) selected = GeneratedStandards(standards, term);
  for (size_t i = 0; i < codes.size(); ++i) {
    const std::string field = absl::StrCat("programme_codes[", i, "]");
    const bool known = std::any_of(
        standards.begin(), standards.end(),
        [&](const auto& s) { return s.programme_code() == codes[i]; });
    if (!known) return InvalidField(field, "no such programme");
    const pb::ProgrammeStandard* s = StandardFor(standards, codes[i], term);
    if (s == nullptr) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "NO_STANDARD",
                        absl::StrCat(field, ": no standard of ", codes[i],
                                     " is in effect for ", TermKey(term)));
    }
    if (!s->auto_generate()) {
      return InvalidField(field,
                          "is raised per student (CreateEntitlement), not "
                          "generated");
    }
    selected.push_back(s);
  }
  if (selected.empty()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NO_STANDARD",
                      absl::StrCat("term: no generated programme has a "
                                   "standard in effect for ",
                                   TermKey(term)));
  }
  return selected;
}

absl::StatusOr<const pb::ProgrammeStandard*> StandardInEffect(
    const std::vector<pb::ProgrammeStandard>& standards,
    const std::string& programme_code, const cpb::Term& term) {
  const bool known = std::any_of(
      standards.begin(), standards.end(),
      [&](const auto& s) { return s.programme_code() == programme_code; });
  if (!known) return InvalidField("programme_code", "no such programme");
  const pb::ProgrammeStandard* sp =
      StandardFor(standards, programme_code, term);
  if (sp == nullptr) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NO_STANDARD",
                      absl::StrCat("term: no standard of ", programme_code,
                                   " is in effect for ", TermKey(term)));
  }
  return sp;
}

absl::StatusOr<int64_t> ManualAmount(const pb::ProgrammeStandard& s,
                                     cpb::SchoolStage stage, bool boarder,
                                     const cpb::Term& term, int64_t requested) {
  const pb::StageRate* rate = RateFor(s, stage);
  if (rate == nullptr) {
    return InvalidField(
        "stage", absl::StrCat(s.programme_code(), " has no rate for it"));
  }
  if (s.kind() == pb::PROGRAMME_KIND_FEE_WAIVER) {
    if (requested != 0) {
      return InvalidField("amount_fen",
                          "must be 0 for a fee waiver (never paid)");
    }
    return 0;
  }
  const int64_t standard = AmountForTerm(s, stage, boarder, term);
  if (standard <= 0) {
    const bool boarders_only = rate->boarders_only() && !boarder;
    return InvalidField(boarders_only ? "boarder" : "term",
                        boarders_only
                            ? "the programme pays boarders only"
                            : "the programme pays nothing in this term");
  }
  if (requested > standard) {
    return InvalidField(
        "amount_fen", absl::StrCat("must not exceed the standard's ", standard,
                                   " fen for this term (", StandardId(s), ")"));
  }
  return requested == 0 ? standard : requested;
}

}  // namespace eduaid::ledger
