#include "services/vocational/eligibility.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/term.h"
#include "services/common/validate.h"

namespace eduaid::vocational {

namespace cpb = ::eduaid::common::v1;
namespace rpb = ::eduaid::registry::v1;

absl::Status CheckApplicant(const rpb::Student& member,
                            const CourseRecord& course) {
  if (member.household_status() != cpb::HOUSEHOLD_STATUS_POOR &&
      member.household_status() != cpb::HOUSEHOLD_STATUS_LIFTED) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NOT_REGISTERED",
                      "member_id: the household is not registered as poor "
                      "or lifted out of poverty");
  }
  if (course.kind == kMajor) {
    const auto& cur = member.current_enrolment();
    if (cur.status() == rpb::ENROLMENT_STATUS_ENROLLED ||
        cur.status() == rpb::ENROLMENT_STATUS_SUSPENDED) {
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "IN_SCHOOL",
          absl::StrCat("member_id: the registry shows the member enrolled "
                       "at school ",
                       cur.school_code(), " (",
                       cpb::SchoolStage_Name(cur.stage()),
                       "); a change of school goes through the registry"));
    }
    return absl::OkStatus();
  }
  const int age = AgeOn(member.birth_date(), course.start_date);
  if (age < 16 || age > 60) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "NOT_WORKING_AGE",
        absl::StrCat("member_id: skills-training classes take members "
                     "aged 16..60 on the start date; this member is ",
                     age));
  }
  return absl::OkStatus();
}

absl::Status CheckCourseChange(const CourseRecord& old,
                               const pb::Course& next) {
  if (old.kind != next.kind()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "KIND_CHANGE",
                      "course.kind: a course keeps its kind; create "
                      "a new code instead");
  }
  if (next.capacity() < old.taken) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "CAPACITY_BELOW_ENROLLED",
        absl::StrCat("course.capacity: ", old.taken,
                     " places are taken; capacity cannot go below"));
  }
  return absl::OkStatus();
}

bool IntakeChanges(const CourseRecord& old, const pb::Course& next) {
  return old.kind == kMajor &&
         TermKey(old.intake) != TermKey(next.intake_term());
}

absl::Status IntakeChangeRefused() {
  return WithReason(absl::StatusCode::kFailedPrecondition, "INTAKE_CHANGE",
                    "course.intake_term: the intake has applications; each "
                    "intake is a course of its own");
}

absl::Status ApplicationStateRefused(int64_t state, const char* rule) {
  return WithReason(absl::StatusCode::kFailedPrecondition, "APPLICATION_STATE",
                    absl::StrCat("application_id: the application is ",
                                 pb::ApplicationState_Name(
                                     static_cast<pb::ApplicationState>(state)),
                                 rule));
}

bool CapacityRaised(const CourseRecord& old, const pb::Course& next) {
  return next.capacity() > old.capacity;
}

int64_t FreePlaces(const CourseRecord& course) {
  return course.capacity - course.taken;
}

}  // namespace eduaid::vocational
