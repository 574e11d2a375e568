// Progress of an enrolment: RecordAttendance, RecordCompletion,
// RecordOutcome.
#include <set>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/vocational/eligibility.h"
#include "services/vocational/field_violations.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {
namespace {

// `date` (field `field`) is a date and not after `today`.
void CheckPastDate(Violations& v, const char* field, const std::string& date,
                   const std::string& today) {
  if (v.Check(ValidateDate(field, date)).ok() && date > today) {
    v.Add(field, "must not be in the future");
  }
}

absl::Status ValidateAttendance(const pb::RecordAttendanceRequest& req,
                                const std::string& today) {
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  if (!IsCode(req.course_code(), 32)) v.Add("course_code", kCourseCodeRule);
  CheckPastDate(v, "date", req.date(), today);
  if (req.marks_size() == 0 || req.marks_size() > 1000) {
    v.Add("marks", "must hold 1..1000 marks");
  }
  std::set<int64_t> seen;
  for (int i = 0; i < req.marks_size(); ++i) {
    const auto& m = req.marks(i);
    const std::string f = absl::StrCat("marks[", i, "]");
    if (m.application_id() <= 0) {
      v.Add(f + ".application_id", "must be a positive id");
    } else if (!seen.insert(m.application_id()).second) {
      v.Add(f + ".application_id", "is marked twice in this request");
    }
    if (m.hours() < 0 || m.hours() > 24) {
      v.Add(f + ".hours", "must be 0..24");
    } else if (!m.present() && m.hours() != 0) {
      v.Add(f + ".hours", "must be 0 when absent");
    }
  }
  return v.ToStatus();
}

}  // namespace

absl::Status VocationalTraining::RecordAttendance(
    CallContext& call, const pb::RecordAttendanceRequest& req,
    pb::RecordAttendanceResponse* resp) {
  RETURN_IF_ERROR(ValidateAttendance(req, TodayCst()));
  const Principal& p = call.principal;
  call.AddRecord(
      absl::StrCat("attendance:", req.course_code(), ":", req.date()));
  return host_.requests().Run(
      p, "RecordAttendance", req.request_id(), req, resp,
      [&](SqlConnection& c) { return StoreAttendance(c, p, req, resp); });
}

absl::Status VocationalTraining::StoreAttendance(
    SqlConnection& c, const Principal& p,
    const pb::RecordAttendanceRequest& req,
    pb::RecordAttendanceResponse* resp) {
  ASSIGN_OR_RETURN(const CourseRecord course, ReadCourse(c, req.course_code()));
  RETURN_IF_ERROR(CheckRecordScope(p, course.region, course.school_code));
  if (course.kind != kMajor &&
      (req.date() < course.start_date || req.date() > course.end_date)) {
    return InvalidField(
        "date", absl::StrCat("must lie in the class period ", course.start_date,
                             "..", course.end_date));
  }
  const int64_t now = NowMs();
  int32_t recorded = 0, replaced = 0;
  for (int i = 0; i < req.marks_size(); ++i) {
    const auto& m = req.marks(i);
    ASSIGN_OR_RETURN(auto state,
                     StateInCourse(c, m.application_id(), course.code));
    if (!state || *state != kEnrolled) {
      return InvalidField(absl::StrCat("marks[", i, "].application_id"),
                          "is not an enrolled application of this course");
    }
    ASSIGN_OR_RETURN(const bool existed,
                     AttendanceExists(c, m.application_id(), req.date()));
    if (existed) ++replaced;
    RETURN_IF_ERROR(UpsertAttendance(c, m.application_id(), req.date(),
                                     m.present(), m.hours(), p.subject, now));
    ++recorded;
  }
  resp->set_marks_recorded(recorded);
  resp->set_marks_replaced(replaced);
  return absl::OkStatus();
}

absl::Status VocationalTraining::RecordCompletion(
    CallContext& call, const pb::RecordCompletionRequest& req,
    pb::RecordCompletionResponse* resp) {
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  v.Check(ValidateRecordId("application_id", req.application_id()));
  CheckPastDate(v, "completed_on", req.completed_on(), TodayCst());
  if (!req.certificate_no().empty() || !req.certificate_name().empty()) {
    v.Check(ValidateText("certificate_no", req.certificate_no(), 50));
    v.Check(ValidateText("certificate_name", req.certificate_name(), 100));
  }
  RETURN_IF_ERROR(v.ToStatus());
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  std::string course_code;
  RETURN_IF_ERROR(host_.requests().Run(p, "RecordCompletion", req.request_id(),
                                       req, resp, [&](SqlConnection& c) {
                                         return StoreCompletion(c, p, req, resp,
                                                                &course_code);
                                       }));
  Effects fx;
  if (!course_code.empty()) fx.courses.push_back(course_code);
  AfterCommit(fx);
  return RestoreNames(p, {resp->mutable_application()});
}

absl::Status VocationalTraining::StoreCompletion(
    SqlConnection& c, const Principal& p,
    const pb::RecordCompletionRequest& req, pb::RecordCompletionResponse* resp,
    std::string* course_code) {
  const int64_t id = req.application_id();
  ASSIGN_OR_RETURN(const ApplicationScope a, ReadApplicationScope(c, id));
  RETURN_IF_ERROR(CheckRecordScope(p, a.course_region, a.course_school_code));
  *course_code = a.course_code;
  if (a.state != kEnrolled) {
    return ApplicationStateRefused(
        a.state, "; only an enrolled application can complete");
  }
  if (req.completed_on() < DateCst(a.enrolled_at)) {
    return InvalidField("completed_on", "must not be before the enrolment");
  }
  RETURN_IF_ERROR(MarkCompleted(c, id, req.completed_on(), req.certificate_no(),
                                req.certificate_name(), NowMs()));
  ASSIGN_OR_RETURN(*resp->mutable_application(),
                   LoadApplication(c, id, p, /*with_grants=*/true));
  resp->mutable_application()->clear_name();
  return absl::OkStatus();
}

absl::Status VocationalTraining::RecordOutcome(
    CallContext& call, const pb::RecordOutcomeRequest& req,
    pb::RecordOutcomeResponse* resp) {
  Violations v;
  v.Check(ValidateRequestId("request_id", req.request_id()));
  v.Check(ValidateRecordId("application_id", req.application_id()));
  if (!pb::Outcome_IsValid(req.outcome()) ||
      req.outcome() == pb::OUTCOME_UNSPECIFIED) {
    v.Add("outcome", "must be a known outcome");
  }
  v.Check(ValidateText("employer", req.employer(), 100, /*required=*/false));
  if (req.monthly_income_fen() < 0 || req.monthly_income_fen() > 100000000) {
    v.Add("monthly_income_fen", "must be 0..100000000");
  }
  CheckPastDate(v, "recorded_on", req.recorded_on(), TodayCst());
  RETURN_IF_ERROR(v.ToStatus());
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  RETURN_IF_ERROR(host_.requests().Run(
      p, "RecordOutcome", req.request_id(), req, resp,
      [&](SqlConnection& c) { return StoreOutcome(c, p, req, resp); }));
  return RestoreNames(p, {resp->mutable_application()});
}

absl::Status VocationalTraining::StoreOutcome(
    SqlConnection& c, const Principal& p, const pb::RecordOutcomeRequest& req,
    pb::RecordOutcomeResponse* resp) {
  const int64_t id = req.application_id();
  ASSIGN_OR_RETURN(const ApplicationScope a, ReadApplicationScope(c, id));
  if (!p.Covers(a.course_region) && !p.Covers(a.member_region)) {
    return CheckRegion(p, a.member_region);
  }
  RETURN_IF_ERROR(CheckSchool(p, a.course_school_code));
  if (a.state != kCompleted) {
    return ApplicationStateRefused(a.state, "; outcomes follow a completion");
  }
  if (req.recorded_on() < a.completed_on) {
    return InvalidField("recorded_on", "must not be before the completion");
  }
  RETURN_IF_ERROR(SetOutcome(c, id, int64_t{req.outcome()}, req.employer(),
                             req.monthly_income_fen(), req.recorded_on()));
  ASSIGN_OR_RETURN(*resp->mutable_application(),
                   LoadApplication(c, id, p, /*with_grants=*/false));
  resp->mutable_application()->clear_name();
  return absl::OkStatus();
}

}  // namespace eduaid::vocational
