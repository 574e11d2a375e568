// The registry's rules, as pure functions: no SQL, no RPC, no clock (the
// date is always an argument). The school-age band by birth month, ages,
// the grades of each stage, which bulk rows are well-formed, how a
// dropout-control case may move, and what each caller sees of a student.
// Tested directly by tests/rules_test.cc.
#ifndef EDUAID_SERVICES_REGISTRY_RULES_H_
#define EDUAID_SERVICES_REGISTRY_RULES_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/household_ids.h"
#include "services/common/status.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// ------------------------------------------------------------ age

// The school-age band (6..15 years on `as_of`, "YYYY-MM-DD") by birth
// month, the only birth data kept in clear: born after the first month and
// no later than the second ("YYYY-MM"). A child born in the month six years
// before `as_of` counts as six for the whole month.
std::pair<std::string, std::string> SchoolAgeMonths(const std::string& as_of);

// The year of a "YYYY-MM" birth month; 0 when malformed.
int BirthYearOf(const std::string& birth_month);

// Whole years on `today` of a child born in `birth_month`, counted from the
// first of the month (the rule of SchoolAgeMonths); 0 when malformed.
int AgeFromMonth(const std::string& birth_month, const std::string& today);

// ------------------------------------------------------------ stages

// The highest grade of `stage` (0 for an unknown stage).
int MaxGrade(::eduaid::common::v1::SchoolStage stage);

// A known stage other than UNSPECIFIED.
bool ValidStage(int stage);

// What is wrong with `stage` and `grade` together (empty when nothing):
// the stage must be known, the grade within it.
std::vector<FieldViolation> StageGradeViolations(int stage, int grade);

// Whether a current enrolment (at `old_school`, in `old_status`) replaced
// by a roster row at `new_school` closes as TRANSFERRED: the child was in
// school elsewhere. Otherwise it only stops being current.
bool ClosesAsTransfer(absl::string_view old_school, int64_t old_status,
                      absl::string_view new_school);

// ------------------------------------------------------------ requests

// What is wrong with a school to upsert (empty when nothing), each field
// named under "school.".
std::vector<FieldViolation> SchoolViolations(const pb::School& school);

// What is wrong with a left-behind record (empty when nothing), each field
// named under "left_behind.".
std::vector<FieldViolation> LeftBehindViolations(const pb::LeftBehind& l);

// Whether a disability plan's placement is at a school (which must be
// named): REGULAR_CLASS and SPECIAL_SCHOOL.
bool PlanNeedsSchool(const pb::DisabilityPlan& plan);

// What is wrong with a disability plan (empty when nothing), each field
// named under "plan.".
std::vector<FieldViolation> DisabilityPlanViolations(
    const pb::DisabilityPlan& plan);

// ------------------------------------------------------------ bulk rows

// Rows per ImportHouseholds / RecordEnrolments call.
inline constexpr int kMaxRowsPerCall = 10000;

// INVALID_ARGUMENT naming rows unless 1..kMaxRowsPerCall rows came.
absl::Status ValidateRowCount(int rows);

// What is wrong with one household-register row on its own (empty when
// nothing), in field order; `this_year` bounds registration_year.
// Duplicates across rows and the caller's scope are the caller's to check.
std::vector<FieldViolation> HouseholdRowViolations(
    const pb::HouseholdMemberRow& row, int this_year);

// What is wrong with one roster row on its own (empty when nothing), in
// field order. Duplicates and schools are the caller's to check.
std::vector<FieldViolation> EnrolmentRowViolations(const pb::EnrolmentRow& row);

// Appends one RowError per violation, for row `row_number`.
void AppendRowErrors(int64_t row_number,
                     const std::vector<FieldViolation>& violations,
                     std::vector<::eduaid::common::v1::RowError>* errors);

// The rule of a blind index met twice in one request.
std::string DuplicateRowRule(int64_t first_row);

// Rows per ImportSpecialGroups call.
inline constexpr int kMaxSpecialGroupRows = 5000;

// What is wrong with one special-group row on its own (empty when
// nothing): exactly one of member_id (m-123) and id_number (a valid ID
// number), exactly one of left_behind and disability_plan, and that record
// (fields under "left_behind." / "disability_plan.").
std::vector<FieldViolation> SpecialGroupRowViolations(
    const pb::SpecialGroupRow& row);

// ------------------------------------------------------------ cases

// Whether a dropout-control case in state `from` may move to `to`: open
// and visited cases to visited, returned, exempt or escalated; escalated
// ones back to visited, returned or exempt; closed ones nowhere.
bool AllowedTransition(int64_t from, int64_t to);

// ------------------------------------------------------------ households

// Household ids per GetHouseholds call.
inline constexpr int kMaxHouseholdsPerGet = 100;

// GetHouseholds' ids are checked by HouseholdIdsViolations
// (services/common/household_ids.h), as in every service.

// One member of a household as a campaign needs it.
struct MemberState {
  int64_t member_id = 0;
  std::string school_code;       // of the current enrolment, "" when none
  int64_t enrolment_status = 0;  // of the current enrolment, 0 when none
  bool out_of_school = false;    // on the open out-of-school list
  bool arranged = false;         // a running schooling arrangement
};

// Fills member_ids (in member id order), school_codes (current enrolments
// ENROLLED or SUSPENDED, sorted, unique), students (members with such an
// enrolment), out_of_school and arranged from the members' states; the
// household's own fields are the caller's.
void SummarizeMembers(std::vector<MemberState> members,
                      pb::HouseholdSummary* out);

// ------------------------------------------------------------ arrangements

// What is wrong with an arrangement to record on `today` (empty when
// nothing), each field named under "arrangement.": a member id, a kind,
// for HOME_TEACHING a school code, for STUDYING_ELSEWHERE the school's
// name and place (1..100 each), evidence_ref 1..200, start_date a date not
// after `today`.
std::vector<FieldViolation> ArrangementViolations(
    const pb::SchoolingArrangement& a, const std::string& today);

// What is wrong with ending an arrangement that started on `start_date`
// (empty when nothing): end_date a date, not before the start and not
// after `today`; reason 1..200.
std::vector<FieldViolation> EndArrangementViolations(
    const std::string& end_date, const std::string& reason,
    const std::string& start_date, const std::string& today);

// What is wrong with a home-teaching visit of an arrangement running from
// `start_date` to `end_date` ("" while it runs) logged on `today` (empty
// when nothing), each field named under "visit.": visit_date within the
// arrangement and not after `today`, teacher 1..50, content 1..500,
// minutes 1..600.
std::vector<FieldViolation> HomeTeachingVisitViolations(
    const pb::HomeTeachingVisit& v, const std::string& start_date,
    const std::string& end_date, const std::string& today);

// Disability plans per disabled child (0..1): 1 when none is disabled.
double PlanRate(int64_t plans, int64_t disabled);

// ------------------------------------------------------------ masking

// `name` as a caller sees it: whole when `sees_personal_data`, else masked.
std::string NameFor(bool sees_personal_data, const std::string& name);

// Masks what a caller who may not see personal data must not: the ID
// number (masked), the birth date (dropped), the names of the child and of
// the carer (masked), the report notes of home visits (dropped). Nothing
// for one who may.
void MaskStudent(bool sees_personal_data, pb::Student* s);

// What a write answers about a student: enough to confirm the change, no
// more (the answer is kept as the request's idempotency record): the ID
// number masked, no birth date, no enrolment history.
void TrimWriteAnswer(pb::Student* s);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_RULES_H_
