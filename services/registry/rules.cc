#include "services/registry/rules.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/registry/member_store.h"

namespace eduaid::registry {
namespace {

namespace cpb = ::eduaid::common::v1;

// "YYYY-MM-DD" minus `years`.
std::string YearsBefore(const std::string& date, int years) {
  int y = std::stoi(date.substr(0, 4)) - years;
  return absl::StrCat(y, date.substr(4));
}

void Add(const absl::Status& st, std::vector<FieldViolation>* v) {
  for (auto& f : FieldViolationsOf(st)) v->push_back(std::move(f));
}

}  // namespace

std::pair<std::string, std::string> SchoolAgeMonths(const std::string& as_of) {
  return {YearsBefore(as_of, 16).substr(0, 7),
          YearsBefore(as_of, 6).substr(0, 7)};
}

int BirthYearOf(const std::string& birth_month) {
  int y = 0;
  return absl::SimpleAtoi(birth_month.substr(0, 4), &y) ? y : 0;
}

int AgeFromMonth(const std::string& birth_month, const std::string& today) {
  if (birth_month.size() != 7) return 0;
  return AgeOn(birth_month + "-01", today);
}

int MaxGrade(cpb::SchoolStage stage) {
  switch (stage) {
    case cpb::SCHOOL_STAGE_PRESCHOOL:
      return 3;
    case cpb::SCHOOL_STAGE_PRIMARY:
      return 6;
    case cpb::SCHOOL_STAGE_JUNIOR_HIGH:
      return 3;
    case cpb::SCHOOL_STAGE_SENIOR_HIGH:
      return 3;
    case cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL:
      return 3;
    case cpb::SCHOOL_STAGE_HIGHER:
      return 8;
    default:
      return 0;
  }
}

bool ValidStage(int stage) {
  return cpb::SchoolStage_IsValid(stage) &&
         stage != cpb::SCHOOL_STAGE_UNSPECIFIED;
}

std::vector<FieldViolation> StageGradeViolations(int stage, int grade) {
  if (!ValidStage(stage)) return {{"stage", "must be a known school stage"}};
  const int max = MaxGrade(static_cast<cpb::SchoolStage>(stage));
  if (grade < 1 || grade > max) {
    return {{"grade", absl::StrCat("must be 1..", max, " for this stage")}};
  }
  return {};
}

bool ClosesAsTransfer(absl::string_view old_school, int64_t old_status,
                      absl::string_view new_school) {
  return old_school != new_school &&
         (old_status == pb::ENROLMENT_STATUS_ENROLLED ||
          old_status == pb::ENROLMENT_STATUS_SUSPENDED);
}

std::vector<FieldViolation> SchoolViolations(const pb::School& s) {
  std::vector<FieldViolation> v;
  if (!IsCode(s.code(), 20)) {
    v.push_back({"school.code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  auto add = [&](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st)) {
      v.push_back({"school." + f.field, f.rule});
    }
  };
  add(ValidateText("name", s.name(), 100));
  add(ValidateRegionCode("region_code", s.region_code()));
  if (s.stages_size() == 0) v.push_back({"school.stages", "must not be empty"});
  for (int st : s.stages()) {
    if (!ValidStage(st)) {
      v.push_back({"school.stages", "contains an unknown school stage"});
      break;
    }
  }
  return v;
}

std::vector<FieldViolation> LeftBehindViolations(const pb::LeftBehind& l) {
  std::vector<FieldViolation> v;
  Add(ValidateText("left_behind.carer_name", l.carer_name(), 50), &v);
  Add(ValidateText("left_behind.carer_relation", l.carer_relation(), 20), &v);
  Add(ValidateText("left_behind.parents_location", l.parents_location(), 100,
                   false),
      &v);
  return v;
}

bool PlanNeedsSchool(const pb::DisabilityPlan& plan) {
  return plan.placement() == pb::PLACEMENT_REGULAR_CLASS ||
         plan.placement() == pb::PLACEMENT_SPECIAL_SCHOOL;
}

std::vector<FieldViolation> DisabilityPlanViolations(
    const pb::DisabilityPlan& plan) {
  std::vector<FieldViolation> v;
  Add(ValidateText("plan.category", plan.category(), 20), &v);
  if (!pb::Placement_IsValid(plan.placement()) ||
      plan.placement() == pb::PLACEMENT_UNSPECIFIED) {
    v.push_back({"plan.placement",
                 "must be REGULAR_CLASS, SPECIAL_SCHOOL or HOME_TEACHING"});
  }
  if (PlanNeedsSchool(plan) && !IsCode(plan.school_code(), 20)) {
    v.push_back(
        {"plan.school_code",
         "is required for REGULAR_CLASS and SPECIAL_SCHOOL placements"});
  }
  Add(ValidateText("plan.note", plan.note(), 500, false), &v);
  return v;
}

absl::Status ValidateRowCount(int rows) {
  if (rows == 0) return InvalidField("rows", "must not be empty");
  if (rows > kMaxRowsPerCall) {
    return InvalidField(
        "rows", absl::StrCat("at most ", kMaxRowsPerCall, " rows per call"));
  }
  return absl::OkStatus();
}

std::vector<FieldViolation> HouseholdRowViolations(
    const pb::HouseholdMemberRow& row, int this_year) {
  std::vector<FieldViolation> v;
  if (!IsCode(row.household_id(), 32)) {
    v.push_back({"household_id", "must be 1..32 of A-Z a-z 0-9 -"});
  }
  Add(ValidateRegionCode("region_code", row.region_code()), &v);
  if (row.registration_year() < 2013 || row.registration_year() > this_year) {
    v.push_back(
        {"registration_year", absl::StrCat("must be 2013..", this_year)});
  }
  if (!cpb::HouseholdStatus_IsValid(row.household_status()) ||
      row.household_status() == cpb::HOUSEHOLD_STATUS_UNSPECIFIED) {
    v.push_back({"household_status", "must be POOR or LIFTED"});
  }
  if (!pb::Relation_IsValid(row.relation()) ||
      row.relation() == pb::RELATION_UNSPECIFIED) {
    v.push_back({"relation", "must be a known relation to the head"});
  }
  Add(ValidateText("name", row.name(), 50), &v);
  Add(ValidateIdNumber("id_number", row.id_number()).status(), &v);
  return v;
}

std::vector<FieldViolation> EnrolmentRowViolations(
    const pb::EnrolmentRow& row) {
  std::vector<FieldViolation> v;
  Add(ValidateIdNumber("id_number", row.id_number()).status(), &v);
  if (!IsCode(row.school_code(), 20)) {
    v.push_back({"school_code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  for (auto& f : StageGradeViolations(row.stage(), row.grade())) {
    v.push_back(std::move(f));
  }
  Add(ValidateTerm("term", row.term()), &v);
  if (row.status() != pb::ENROLMENT_STATUS_ENROLLED &&
      row.status() != pb::ENROLMENT_STATUS_SUSPENDED &&
      row.status() != pb::ENROLMENT_STATUS_DROPPED_OUT &&
      row.status() != pb::ENROLMENT_STATUS_GRADUATED) {
    v.push_back(
        {"status", "must be ENROLLED, SUSPENDED, DROPPED_OUT or GRADUATED"});
  }
  return v;
}

void AppendRowErrors(int64_t row_number,
                     const std::vector<FieldViolation>& violations,
                     std::vector<cpb::RowError>* errors) {
  for (const auto& v : violations) {
    cpb::RowError e;
    e.set_row_number(row_number);
    e.set_field(v.field);
    e.set_rule(v.rule);
    errors->push_back(std::move(e));
  }
}

std::string DuplicateRowRule(int64_t first_row) {
  return absl::StrCat("duplicated in this request (first at row ", first_row,
                      ")");
}

bool AllowedTransition(int64_t from, int64_t to) {
  using S = pb::DropoutCaseState;
  switch (from) {
    case S::DROPOUT_CASE_STATE_OPEN:
    case S::DROPOUT_CASE_STATE_VISITED:
      return to == S::DROPOUT_CASE_STATE_VISITED ||
             to == S::DROPOUT_CASE_STATE_RETURNED ||
             to == S::DROPOUT_CASE_STATE_EXEMPT ||
             to == S::DROPOUT_CASE_STATE_ESCALATED;
    case S::DROPOUT_CASE_STATE_ESCALATED:
      return to == S::DROPOUT_CASE_STATE_VISITED ||
             to == S::DROPOUT_CASE_STATE_RETURNED ||
             to == S::DROPOUT_CASE_STATE_EXEMPT;
    default:
      return false;
  }
}

std::string NameFor(bool sees_personal_data, const std::string& name) {
  return sees_personal_data ? name : MaskName(name);
}

void MaskStudent(bool sees_personal_data, pb::Student* s) {
  if (sees_personal_data) return;
  s->set_id_number(MaskIdNumber(s->id_number()));
  s->clear_birth_date();
  s->set_name(MaskName(s->name()));
  if (s->has_left_behind()) {
    s->mutable_left_behind()->set_carer_name(
        MaskName(s->left_behind().carer_name()));
    s->mutable_left_behind()->clear_report_note();
  }
  if (s->has_disability_plan())
    s->mutable_disability_plan()->clear_report_note();
  if (s->has_arrangement()) {
    auto* a = s->mutable_arrangement();
    a->set_name(MaskName(a->name()));
    a->clear_place();
    a->clear_evidence_ref();
    a->clear_end_reason();
  }
}

void TrimWriteAnswer(pb::Student* s) {
  s->set_id_number(MaskIdNumber(s->id_number()));
  s->clear_birth_date();
  s->clear_enrolment_history();
}

void SummarizeMembers(std::vector<MemberState> members,
                      pb::HouseholdSummary* out) {
  std::sort(members.begin(), members.end(),
            [](const MemberState& a, const MemberState& b) {
              return a.member_id < b.member_id;
            });
  std::set<std::string> schools;
  for (const MemberState& m : members) {
    out->add_member_ids(MemberIdString(m.member_id));
    const bool on_roster =
        !m.school_code.empty() &&
        (m.enrolment_status == pb::ENROLMENT_STATUS_ENROLLED ||
         m.enrolment_status == pb::ENROLMENT_STATUS_SUSPENDED);
    if (on_roster) {
      schools.insert(m.school_code);
      out->set_students(out->students() + 1);
    }
    if (m.out_of_school) out->set_out_of_school(out->out_of_school() + 1);
    if (m.arranged) out->set_arranged(out->arranged() + 1);
  }
  for (const auto& s : schools) out->add_school_codes(s);
}

std::vector<FieldViolation> ArrangementViolations(
    const pb::SchoolingArrangement& a, const std::string& today) {
  std::vector<FieldViolation> v;
  Add(ValidateMemberId("arrangement.member_id", a.member_id()), &v);
  if (a.kind() == pb::ARRANGEMENT_KIND_HOME_TEACHING) {
    if (!IsCode(a.school_code(), 20)) {
      v.push_back({"arrangement.school_code",
                   "HOME_TEACHING needs the responsible school's code (1..20 "
                   "of A-Z a-z 0-9 -)"});
    }
  } else if (a.kind() == pb::ARRANGEMENT_KIND_STUDYING_ELSEWHERE) {
    Add(ValidateText("arrangement.school_name", a.school_name(), 100), &v);
    Add(ValidateText("arrangement.place", a.place(), 100), &v);
  } else {
    v.push_back(
        {"arrangement.kind", "must be HOME_TEACHING or STUDYING_ELSEWHERE"});
  }
  Add(ValidateText("arrangement.evidence_ref", a.evidence_ref(), 200), &v);
  if (absl::Status st = ValidateDate("arrangement.start_date", a.start_date());
      !st.ok()) {
    Add(st, &v);
  } else if (a.start_date() > today) {
    v.push_back({"arrangement.start_date", "must not be in the future"});
  }
  return v;
}

std::vector<FieldViolation> EndArrangementViolations(
    const std::string& end_date, const std::string& reason,
    const std::string& start_date, const std::string& today) {
  std::vector<FieldViolation> v;
  if (absl::Status st = ValidateDate("end_date", end_date); !st.ok()) {
    Add(st, &v);
  } else if (end_date > today) {
    v.push_back({"end_date", "must not be in the future"});
  } else if (end_date < start_date) {
    v.push_back({"end_date", absl::StrCat("must not be before the start (",
                                          start_date, ")")});
  }
  Add(ValidateText("reason", reason, 200), &v);
  return v;
}

std::vector<FieldViolation> HomeTeachingVisitViolations(
    const pb::HomeTeachingVisit& visit, const std::string& start_date,
    const std::string& end_date, const std::string& today) {
  std::vector<FieldViolation> v;
  const std::string& d = visit.visit_date();
  if (absl::Status st = ValidateDate("visit.visit_date", d); !st.ok()) {
    Add(st, &v);
  } else if (d > today) {
    v.push_back({"visit.visit_date", "must not be in the future"});
  } else if (d < start_date || (!end_date.empty() && d > end_date)) {
    v.push_back(
        {"visit.visit_date",
         absl::StrCat("must lie within the arrangement (", start_date, " .. ",
                      end_date.empty() ? "now" : end_date, ")")});
  }
  Add(ValidateText("visit.teacher", visit.teacher(), 50), &v);
  Add(ValidateText("visit.content", visit.content(), 500), &v);
  if (visit.minutes() < 1 || visit.minutes() > 600) {
    v.push_back({"visit.minutes", "must be 1..600"});
  }
  return v;
}

double PlanRate(int64_t plans, int64_t disabled) {
  if (disabled <= 0) return 1.0;
  return static_cast<double>(plans) / static_cast<double>(disabled);
}

std::vector<FieldViolation> SpecialGroupRowViolations(
    const pb::SpecialGroupRow& row) {
  std::vector<FieldViolation> v;
  const bool by_member = !row.member_id().empty();
  const bool by_id = !row.id_number().empty();
  if (by_member == by_id) {
    v.push_back({by_id ? "id_number" : "member_id",
                 "name the child by member_id or id_number (one of them)"});
  } else if (by_member) {
    Add(ParseMemberId("member_id", row.member_id()).status(), &v);
  } else {
    Add(ValidateIdNumber("id_number", row.id_number()).status(), &v);
  }
  if (row.has_left_behind() == row.has_disability_plan()) {
    v.push_back(
        {"left_behind", "give exactly one of left_behind and disability_plan"});
  } else if (row.has_left_behind()) {
    for (auto& f : LeftBehindViolations(row.left_behind())) {
      v.push_back(std::move(f));
    }
  } else {
    for (auto& f : DisabilityPlanViolations(row.disability_plan())) {
      // "plan.x" -> "disability_plan.x", the row's field.
      f.field = absl::StrCat("disability_", f.field);
      v.push_back(std::move(f));
    }
  }
  return v;
}

}  // namespace eduaid::registry
