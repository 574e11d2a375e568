// Places taken from the waitlist and the grants queued for a place.
#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/vocational/grant_terms.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {

absl::Status VocationalTraining::PromoteWaitlisted(
    SqlConnection& c, const CourseRecord& course, int64_t seats,
    const Principal& p, Applications* promoted, Effects* fx) {
  if (seats <= 0) return absl::OkStatus();
  ASSIGN_OR_RETURN(auto next, NextWaitlisted(c, course.code, seats));
  const int64_t now = NowMs();
  for (const int64_t id : next) {
    ASSIGN_OR_RETURN(const bool seat, TakeSeat(c, course.code));
    if (!seat) break;
    ASSIGN_OR_RETURN(const bool enrolled, EnrolFromWaitlist(c, id, now));
    if (!enrolled) return absl::AbortedError("waitlist changed meanwhile");
    if (course.kind == kMajor) {
      ASSIGN_OR_RETURN(const int queued,
                       QueueGrants(c, id, course, course.intake, p));
      fx->grants_queued |= queued > 0;
    }
    ++fx->enrolled;
    fx->enrolled_labels.push_back({KindLabel(course.kind), course.region});
    ASSIGN_OR_RETURN(*promoted->Add(),
                     LoadApplication(c, id, p, /*with_grants=*/false));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> VocationalTraining::QueueGrants(
    SqlConnection& c, int64_t id, const CourseRecord& course,
    const cpb::Term& term, const Principal& originator) {
  ASSIGN_OR_RETURN(const Applicant applicant, ReadApplicant(c, id));
  const int grade = GradeInTerm(course.intake, term);
  const std::string name = Decrypt(applicant.name_enc);
  if (name.empty()) {
    return absl::DataLossError("applicant name cannot be decrypted (key?)");
  }
  int queued = 0;
  for (const auto& programme : options_.grant_programmes) {
    lpb::CreateEntitlementRequest e;
    e.set_member_id(applicant.member_id);
    e.set_programme_code(programme);
    *e.mutable_term() = term;
    e.set_region_code(applicant.member_region);
    e.set_school_code(course.school_code);
    e.set_school_name(course.school_name);
    e.set_stage(cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL);
    e.set_grade(grade);
    e.set_boarder(applicant.boarder);
    e.set_amount_fen(0);
    e.set_reason(GrantReason(grade, term, course.name, course.code, id));
    e.set_payee_name(name);
    ASSIGN_OR_RETURN(const bool added,
                     outbox_.Enqueue(c, id, applicant.member_region,
                                     TermKey(term), originator.subject, e));
    if (added) ++queued;
  }
  return queued;
}

}  // namespace eduaid::vocational
