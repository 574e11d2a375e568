// Attendance, completion, outcomes, reports, grants and the audit log.
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/vocational/vocational.h"
#include "services/vocational/vocational_internal.h"

namespace eduaid::vocational {

using internal::kCompleted;
using internal::kEnrolled;
using internal::kMajor;

namespace {

int32_t RateBp(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<int32_t>(part * 10000 / whole) : 0;
}

void AddInto(const pb::ReportRow& from, pb::ReportRow* to) {
  to->set_courses(to->courses() + from.courses());
  to->set_capacity(to->capacity() + from.capacity());
  to->set_enrolled(to->enrolled() + from.enrolled());
  to->set_waitlisted(to->waitlisted() + from.waitlisted());
  to->set_withdrawn(to->withdrawn() + from.withdrawn());
  to->set_admitted(to->admitted() + from.admitted());
  to->set_completed(to->completed() + from.completed());
  to->set_certified(to->certified() + from.certified());
  to->set_employed(to->employed() + from.employed());
  to->set_further_study(to->further_study() + from.further_study());
  to->set_grants_pending(to->grants_pending() + from.grants_pending());
  to->set_grants_delivered(to->grants_delivered() + from.grants_delivered());
  to->set_grants_rejected(to->grants_rejected() + from.grants_rejected());
}

// Taken places, attendance days and present days travel beside the row
// because the rates need them.
struct Tally {
  pb::ReportRow row;
  int64_t taken = 0, days = 0, present = 0;
};

void FinishRates(Tally* t) {
  t->row.set_fill_rate_bp(RateBp(t->taken, t->row.capacity()));
  t->row.set_completion_rate_bp(RateBp(t->row.completed(), t->row.admitted()));
  t->row.set_employment_rate_bp(RateBp(t->row.employed(), t->row.completed()));
  t->row.set_attendance_rate_bp(RateBp(t->present, t->days));
}

}  // namespace

// ---------------------------------------------------------------- progress

absl::Status VocationalTraining::RecordAttendance(
    CallContext& call, const pb::RecordAttendanceRequest& req,
    pb::RecordAttendanceResponse* resp) {
  const std::string today = TodayCst();
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  if (!internal::IsCode(req.course_code(), 32)) {
    v.push_back({"course_code", "must be 1..32 of A-Z a-z 0-9 -"});
  }
  absl::Status date = ValidateDate("date", req.date());
  check(date);
  if (date.ok() && req.date() > today) {
    v.push_back({"date", "must not be in the future"});
  }
  if (req.marks_size() == 0 || req.marks_size() > 1000) {
    v.push_back({"marks", "must hold 1..1000 marks"});
  }
  std::set<int64_t> seen;
  for (int i = 0; i < req.marks_size(); ++i) {
    const auto& m = req.marks(i);
    const std::string f = absl::StrCat("marks[", i, "]");
    if (m.application_id() <= 0) {
      v.push_back({f + ".application_id", "must be a positive id"});
    } else if (!seen.insert(m.application_id()).second) {
      v.push_back({f + ".application_id", "is marked twice in this request"});
    }
    if (m.hours() < 0 || m.hours() > 24) {
      v.push_back({f + ".hours", "must be 0..24"});
    } else if (!m.present() && m.hours() != 0) {
      v.push_back({f + ".hours", "must be 0 when absent"});
    }
  }
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  call.AddRecord(
      absl::StrCat("attendance:", req.course_code(), ":", req.date()));
  return host_.requests().Run(
      call.principal, "RecordAttendance", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto course = ReadCourse(c, req.course_code());
        if (!course.ok()) return course.status();
        VOC_RETURN_IF_ERROR(
            CheckRecordScope(p, course->region, course->school_code));
        if (course->kind != kMajor && (req.date() < course->start_date ||
                                       req.date() > course->end_date)) {
          return InvalidField(
              "date", absl::StrCat("must lie in the class "
                                   "period ",
                                   course->start_date, "..", course->end_date));
        }
        const int64_t now = internal::NowMs();
        int32_t recorded = 0, replaced = 0;
        for (int i = 0; i < req.marks_size(); ++i) {
          const auto& m = req.marks(i);
          auto app = c.Query(
              "SELECT state FROM applications WHERE id = ? AND course_code = ?",
              {m.application_id(), course->code});
          if (!app.ok()) return app.status();
          if (app->empty() || app->front().Int(0) != kEnrolled) {
            return InvalidField(absl::StrCat("marks[", i, "].application_id"),
                                "is not an enrolled application of this "
                                "course");
          }
          auto old = c.Query(
              "SELECT 1 FROM attendance WHERE application_id = ? AND day = ?",
              {m.application_id(), req.date()});
          if (!old.ok()) return old.status();
          if (!old->empty()) ++replaced;
          auto up = c.Execute(
              "INSERT INTO attendance(application_id, day, present, hours, "
              "recorded_by, recorded_at) VALUES(?,?,?,?,?,?) "
              "ON CONFLICT(application_id, day) DO UPDATE SET "
              "present = excluded.present, hours = excluded.hours, "
              "recorded_by = excluded.recorded_by, "
              "recorded_at = excluded.recorded_at",
              {m.application_id(), req.date(), int64_t{m.present() ? 1 : 0},
               int64_t{m.hours()}, p.subject, now});
          if (!up.ok()) return up.status();
          ++recorded;
        }
        resp->set_marks_recorded(recorded);
        resp->set_marks_replaced(replaced);
        return absl::OkStatus();
      });
}

absl::Status VocationalTraining::RecordCompletion(
    CallContext& call, const pb::RecordCompletionRequest& req,
    pb::RecordCompletionResponse* resp) {
  const std::string today = TodayCst();
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  check(internal::ValidateRecordId("application_id", req.application_id()));
  absl::Status date = ValidateDate("completed_on", req.completed_on());
  check(date);
  if (date.ok() && req.completed_on() > today) {
    v.push_back({"completed_on", "must not be in the future"});
  }
  const bool certified =
      !req.certificate_no().empty() || !req.certificate_name().empty();
  if (certified) {
    check(ValidateText("certificate_no", req.certificate_no(), 50));
    check(ValidateText("certificate_name", req.certificate_name(), 100));
  }
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  std::string course_code;
  absl::Status st = host_.requests().Run(
      call.principal, "RecordCompletion", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto app = c.Query(
            "SELECT a.state, a.course_region, a.course_code, a.enrolled_at, "
            "c.kind, c.school_code FROM applications a JOIN courses c ON "
            "c.code = a.course_code WHERE a.id = ?",
            {req.application_id()});
        if (!app.ok()) return app.status();
        if (app->empty()) {
          return absl::NotFoundError("application_id: no such application");
        }
        const SqlRow& a = app->front();
        VOC_RETURN_IF_ERROR(CheckRecordScope(p, a.Str(1), a.Str(5)));
        course_code = a.Str(2);
        if (a.Int(0) != kEnrolled) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "APPLICATION_STATE",
              absl::StrCat("application_id: the application is ",
                           pb::ApplicationState_Name(
                               static_cast<pb::ApplicationState>(a.Int(0))),
                           "; only an enrolled application can complete"));
        }
        if (req.completed_on() < internal::DateCst(a.Int(3))) {
          return InvalidField("completed_on",
                              "must not be before the enrolment");
        }
        auto up = c.Execute(
            "UPDATE applications SET state = 4, completed_on = ?, "
            "certificate_no = ?, certificate_name = ?, closed_at = ? "
            "WHERE id = ? AND state = 1",
            {req.completed_on(), req.certificate_no(), req.certificate_name(),
             internal::NowMs(), req.application_id()});
        if (!up.ok()) return up.status();
        auto loaded = LoadApplication(c, req.application_id(), p, true);
        if (!loaded.ok()) return loaded.status();
        *resp->mutable_application() = std::move(*loaded);
        resp->mutable_application()->clear_name();
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  Effects fx;
  if (!course_code.empty()) fx.courses.push_back(course_code);
  AfterCommit(fx);
  return RestoreNames(p, {resp->mutable_application()});
}

absl::Status VocationalTraining::RecordOutcome(
    CallContext& call, const pb::RecordOutcomeRequest& req,
    pb::RecordOutcomeResponse* resp) {
  const std::string today = TodayCst();
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  check(internal::ValidateRecordId("application_id", req.application_id()));
  if (!pb::Outcome_IsValid(req.outcome()) ||
      req.outcome() == pb::OUTCOME_UNSPECIFIED) {
    v.push_back({"outcome", "must be a known outcome"});
  }
  check(ValidateText("employer", req.employer(), 100, /*required=*/false));
  if (req.monthly_income_fen() < 0 || req.monthly_income_fen() > 100000000) {
    v.push_back({"monthly_income_fen", "must be 0..100000000"});
  }
  absl::Status date = ValidateDate("recorded_on", req.recorded_on());
  check(date);
  if (date.ok() && req.recorded_on() > today) {
    v.push_back({"recorded_on", "must not be in the future"});
  }
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("application:", req.application_id()));
  absl::Status st = host_.requests().Run(
      call.principal, "RecordOutcome", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto app = c.Query(
            "SELECT a.state, a.course_region, a.member_region, "
            "a.completed_on, c.school_code FROM applications a JOIN courses "
            "c ON c.code = a.course_code WHERE a.id = ?",
            {req.application_id()});
        if (!app.ok()) return app.status();
        if (app->empty()) {
          return absl::NotFoundError("application_id: no such application");
        }
        const SqlRow& a = app->front();
        if (!p.Covers(a.Str(1)) && !p.Covers(a.Str(2))) {
          return CheckRegion(p, a.Str(2));
        }
        VOC_RETURN_IF_ERROR(CheckSchool(p, a.Str(4)));
        if (a.Int(0) != kCompleted) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "APPLICATION_STATE",
              absl::StrCat("application_id: the application is ",
                           pb::ApplicationState_Name(
                               static_cast<pb::ApplicationState>(a.Int(0))),
                           "; outcomes follow a completion"));
        }
        if (req.recorded_on() < a.Str(3)) {
          return InvalidField("recorded_on",
                              "must not be before the completion");
        }
        auto up = c.Execute(
            "UPDATE applications SET outcome = ?, employer = ?, "
            "monthly_income_fen = ?, outcome_on = ? WHERE id = ?",
            {int64_t{req.outcome()}, req.employer(), req.monthly_income_fen(),
             req.recorded_on(), req.application_id()});
        if (!up.ok()) return up.status();
        auto loaded = LoadApplication(c, req.application_id(), p, false);
        if (!loaded.ok()) return loaded.status();
        *resp->mutable_application() = std::move(*loaded);
        resp->mutable_application()->clear_name();
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  return RestoreNames(p, {resp->mutable_application()});
}

// ---------------------------------------------------------------- report

absl::Status VocationalTraining::GetReport(CallContext& call,
                                           const pb::GetReportRequest& req,
                                           pb::GetReportResponse* resp) {
  VOC_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::ReportGrouping_IsValid(req.group_by())) {
    return InvalidField("group_by", "is not a known grouping");
  }
  if (!pb::CourseKind_IsValid(req.kind())) {
    return InvalidField("kind", "is not a known course kind");
  }
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const pb::ReportGrouping grouping =
      req.group_by() == pb::REPORT_GROUPING_UNSPECIFIED
          ? pb::REPORT_GROUPING_REGION
          : req.group_by();
  // A school officer's report covers its own school's majors.
  const internal::SchoolScope school = internal::SchoolScopeOf(call.principal);
  const std::vector<SqlValue> filter = {*region + "%", int64_t{req.kind()},
                                        int64_t{req.kind()}, school.only,
                                        school.school};
  const std::string school_clause =
      absl::StrCat(" AND ", internal::SchoolClause("c.school_code"), " ");
  std::map<std::string, Tally> groups;
  Tally total;
  VOC_RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    auto courses = c.Query(
        "SELECT c.code, c.name, c.kind, c.region_code, c.school_code, "
        "c.school_name, c.provider, c.capacity, c.taken, "
        "COALESCE(SUM(CASE WHEN a.state = 1 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN a.state = 2 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN a.state = 3 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN a.enrolled_at > 0 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN a.state = 4 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN a.state = 4 AND a.certificate_no <> '' "
        " THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN a.state = 4 AND a.outcome IN (1, 2) "
        " THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN a.state = 4 AND a.outcome = 3 "
        " THEN 1 ELSE 0 END), 0) "
        "FROM courses c LEFT JOIN applications a ON a.course_code = c.code "
        "WHERE c.region_code LIKE ? AND (? = 0 OR c.kind = ?) " +
            school_clause +
            "GROUP BY c.code, c.name, c.kind, c.region_code, c.school_code, "
        "c.school_name, c.provider, c.capacity, c.taken ORDER BY c.code",
        filter);
    if (!courses.ok()) return courses.status();
    auto attendance = c.Query(
        "SELECT a.course_code, COUNT(*), COALESCE(SUM(t.present), 0) "
        "FROM attendance t JOIN applications a ON a.id = t.application_id "
        "JOIN courses c ON c.code = a.course_code WHERE c.region_code LIKE ? "
        "AND (? = 0 OR c.kind = ?)" +
            school_clause + "GROUP BY a.course_code",
        filter);
    if (!attendance.ok()) return attendance.status();
    auto grants = c.Query(
        "SELECT a.course_code, g.state, COUNT(*) FROM grant_outbox g "
        "JOIN applications a ON a.id = g.application_id "
        "JOIN courses c ON c.code = a.course_code WHERE c.region_code LIKE ? "
        "AND (? = 0 OR c.kind = ?)" +
            school_clause + "GROUP BY a.course_code, g.state",
        filter);
    if (!grants.ok()) return grants.status();
    std::map<std::string, std::pair<int64_t, int64_t>> days;
    for (const auto& r : *attendance) days[r.Str(0)] = {r.Int(1), r.Int(2)};
    std::map<std::string, std::map<int64_t, int64_t>> grant_counts;
    for (const auto& r : *grants) grant_counts[r.Str(0)][r.Int(1)] = r.Int(2);
    for (const auto& r : *courses) {
      Tally t;
      const std::string code = r.Str(0);
      t.row.set_courses(1);
      t.row.set_capacity(r.Int(7));
      t.taken = r.Int(8);
      t.row.set_enrolled(r.Int(9));
      t.row.set_waitlisted(r.Int(10));
      t.row.set_withdrawn(r.Int(11));
      t.row.set_admitted(r.Int(12));
      t.row.set_completed(r.Int(13));
      t.row.set_certified(r.Int(14));
      t.row.set_employed(r.Int(15));
      t.row.set_further_study(r.Int(16));
      t.days = days[code].first;
      t.present = days[code].second;
      auto& gc = grant_counts[code];
      t.row.set_grants_pending(gc[kGrantPending]);
      t.row.set_grants_delivered(gc[kGrantDelivered]);
      t.row.set_grants_rejected(gc[kGrantRejected]);
      std::string key, label;
      switch (grouping) {
        case pb::REPORT_GROUPING_COURSE:
          key = code;
          label = r.Str(1);
          break;
        case pb::REPORT_GROUPING_SCHOOL:
          if (r.Int(2) == kMajor) {
            key = r.Str(4);
            label = r.Str(5);
          } else {
            key = absl::StrCat("provider:", r.Str(6));
            label = r.Str(6);
          }
          break;
        default:
          key = r.Str(3);
          break;
      }
      Tally& g = groups[key];
      g.row.set_key(key);
      g.row.set_label(label);
      AddInto(t.row, &g.row);
      g.taken += t.taken;
      g.days += t.days;
      g.present += t.present;
      AddInto(t.row, &total.row);
      total.taken += t.taken;
      total.days += t.days;
      total.present += t.present;
    }
    return absl::OkStatus();
  }));
  for (auto& [key, g] : groups) {
    FinishRates(&g);
    *resp->add_rows() = g.row;
  }
  FinishRates(&total);
  total.row.set_key(*region);
  total.row.set_label("合计 total");
  *resp->mutable_total() = total.row;
  call.AddRecord(absl::StrCat("report:", *region));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- grants

absl::Status VocationalTraining::RaiseTermGrants(
    CallContext& call, const pb::RaiseTermGrantsRequest& req,
    pb::RaiseTermGrantsResponse* resp) {
  const int this_year = std::stoi(TodayCst().substr(0, 4));
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  absl::Status term = internal::ValidateTerm("term", req.term());
  check(term);
  if (term.ok() && req.term().year() > this_year + 1) {
    v.push_back({"term.year", absl::StrCat("must be at most ", this_year + 1,
                                           " (one year ahead)")});
  }
  check(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  if (!internal::IsOfficerOrService(p)) {
    return absl::PermissionDeniedError(
        "only province, city and county officers may raise term grants");
  }
  auto region = ScopeRegionFilter(p, req.region_prefix());
  if (!region.ok()) return region.status();
  const int ordinal = internal::TermOrdinal(req.term());
  call.AddRecord(absl::StrCat("term-grants:", *region, ":",
                              internal::TermKey(req.term())));
  bool queued_any = false;
  absl::Status st = host_.requests().Run(
      call.principal, "RaiseTermGrants", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        queued_any = false;
        auto rows = c.Query(
            "SELECT id, course_code FROM applications WHERE kind = 1 AND "
            "state = 1 AND member_region LIKE ? ORDER BY id",
            {*region + "%"});
        if (!rows.ok()) return rows.status();
        std::map<std::string, CourseRow> courses;
        int64_t seen = 0, queued = 0, already = 0;
        for (const auto& r : *rows) {
          auto it = courses.find(r.Str(1));
          if (it == courses.end()) {
            auto course = ReadCourse(c, r.Str(1));
            if (!course.ok()) return course.status();
            it = courses.emplace(r.Str(1), std::move(*course)).first;
          }
          const CourseRow& course = it->second;
          const int first = internal::TermOrdinal(course.intake);
          if (ordinal < first || ordinal >= first + 2 * course.duration_years) {
            continue;
          }
          ++seen;
          auto n = QueueGrants(c, r.Int(0), course, req.term(), p);
          if (!n.ok()) return n.status();
          queued += *n;
          already +=
              static_cast<int64_t>(options_.grant_programmes.size()) - *n;
        }
        resp->set_students_seen(seen);
        resp->set_grants_queued(queued);
        resp->set_already_queued(already);
        queued_any = queued > 0;
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  if (queued_any) {
    Effects fx;
    fx.grants_queued = true;
    AfterCommit(fx);
  }
  return absl::OkStatus();
}

absl::Status VocationalTraining::ListGrants(CallContext& call,
                                            const pb::ListGrantsRequest& req,
                                            pb::ListGrantsResponse* resp) {
  VOC_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (req.application_id() < 0) {
    return InvalidField("application_id", "must not be negative");
  }
  if (!pb::GrantState_IsValid(req.state())) {
    return InvalidField("state", "is not a known grant state");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters = absl::StrCat(
      "grants|", *region, "|", req.application_id(), "|", req.state());
  auto after = internal::DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  // A school officer sees the grants of its own school's majors.
  const internal::SchoolScope school = internal::SchoolScopeOf(call.principal);
  const std::string school_clause = absl::StrCat(
      "(? = 0 OR EXISTS (SELECT 1 FROM applications a JOIN courses c ON "
      "c.code = a.course_code WHERE a.id = grant_outbox.application_id AND ",
      internal::SchoolClause("c.school_code"), "))");
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat("SELECT ", internal::kGrantColumns,
                     " FROM grant_outbox WHERE member_region LIKE ? AND "
                     "(? = 0 OR application_id = ?) AND (? = 0 OR state = ?) "
                     "AND ",
                     school_clause, " AND id > ? ORDER BY id LIMIT ?"),
        {*region + "%", req.application_id(), req.application_id(),
         int64_t{req.state()}, int64_t{req.state()}, school.only, school.only,
         school.school, *after, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      internal::FillGrant((*rows)[i], resp->add_grants());
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(
          absl::StrCat(resp->grants(*size - 1).grant_id()), filters));
    }
    auto backlog = c.Query(
        absl::StrCat("SELECT COUNT(*) FROM grant_outbox WHERE member_region "
                     "LIKE ? AND state = ? AND ",
                     school_clause),
        {*region + "%", kGrantPending, school.only, school.only,
         school.school});
    if (!backlog.ok()) return backlog.status();
    resp->set_backlog(backlog->front().Int(0));
    return absl::OkStatus();
  });
}

absl::Status VocationalTraining::RetryGrants(CallContext& call,
                                             const pb::RetryGrantsRequest& req,
                                             pb::RetryGrantsResponse* resp) {
  std::vector<FieldViolation> v;
  for (auto& f :
       FieldViolationsOf(ValidateRequestId("request_id", req.request_id()))) {
    v.push_back(f);
  }
  if (req.grant_ids_size() == 0 || req.grant_ids_size() > 1000) {
    v.push_back({"grant_ids", "must hold 1..1000 ids"});
  }
  std::set<int64_t> seen;
  for (int i = 0; i < req.grant_ids_size(); ++i) {
    if (req.grant_ids(i) <= 0) {
      v.push_back(
          {absl::StrCat("grant_ids[", i, "]"), "must be a positive id"});
    } else if (!seen.insert(req.grant_ids(i)).second) {
      v.push_back({absl::StrCat("grant_ids[", i, "]"), "is listed twice"});
    }
  }
  if (!v.empty()) return InvalidFields(v);
  const Principal& p = call.principal;
  if (!internal::IsOfficerOrService(p)) {
    return absl::PermissionDeniedError(
        "only province, city and county officers may retry grants");
  }
  absl::Status st = host_.requests().Run(
      call.principal, "RetryGrants", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        int32_t requeued = 0;
        for (int i = 0; i < req.grant_ids_size(); ++i) {
          const std::string field = absl::StrCat("grant_ids[", i, "]");
          auto g = c.Query(
              "SELECT state, member_region FROM grant_outbox WHERE id = ?",
              {req.grant_ids(i)});
          if (!g.ok()) return g.status();
          if (g->empty()) {
            return absl::NotFoundError(absl::StrCat(field, ": no such grant"));
          }
          VOC_RETURN_IF_ERROR(CheckRegion(p, g->front().Str(1)));
          if (g->front().Int(0) != kGrantRejected) {
            return WithReason(
                absl::StatusCode::kFailedPrecondition, "GRANT_STATE",
                absl::StrCat(field, ": only a REJECTED grant can be retried"));
          }
          auto up = c.Execute(
              "UPDATE grant_outbox SET state = ?, next_attempt_ms = ?, "
              "last_error = '', outcome = '' WHERE id = ? AND state = ?",
              {kGrantPending, internal::NowMs(), req.grant_ids(i),
               kGrantRejected});
          if (!up.ok()) return up.status();
          requeued += static_cast<int32_t>(*up);
          call.AddRecord(absl::StrCat("grant:", req.grant_ids(i)));
        }
        resp->set_requeued(requeued);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  Effects fx;
  fx.grants_queued = resp->requeued() > 0;
  AfterCommit(fx);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- audit

absl::Status VocationalTraining::ListAuditEvents(
    CallContext& call, const pb::ListAuditEventsRequest& req,
    pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

}  // namespace eduaid::vocational
