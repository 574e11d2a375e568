#include "services/vocational/application_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/household_ids.h"
#include "services/common/status_macros.h"

namespace eduaid::vocational {

namespace cpb = ::eduaid::common::v1;

namespace {

constexpr char kApplicationFrom[] =
    " FROM applications a JOIN courses c ON c.code = a.course_code ";

absl::Status NoSuchApplication() {
  return absl::NotFoundError("application_id: no such application");
}

}  // namespace

ApplicationRecord ApplicationFromRow(const SqlRow& r) {
  ApplicationRecord a;
  a.id = r.Int(0);
  a.course_code = r.Str(1);
  a.course_name = r.Str(2);
  a.kind = r.Int(3);
  a.member_id = r.Str(4);
  a.name_enc = r.Str(5);
  a.member_region = r.Str(6);
  a.course_region = r.Str(7);
  a.household_status = r.Int(8);
  a.state = r.Int(9);
  a.free_tuition = r.Int(10) != 0;
  a.boarder = r.Int(11) != 0;
  a.offer_id = r.Int(12);
  a.applied_at = r.Int(13);
  a.enrolled_at = r.Int(14);
  a.closed_at = r.Int(15);
  a.promoted = r.Int(16) != 0;
  a.withdraw_reason = r.Str(17);
  a.completed_on = r.Str(18);
  a.certificate_no = r.Str(19);
  a.certificate_name = r.Str(20);
  a.outcome = r.Int(21);
  a.employer = r.Str(22);
  a.monthly_income_fen = r.Int(23);
  a.outcome_on = r.Str(24);
  a.note = r.Str(25);
  a.tier = r.Int(26);
  a.attendance_days = r.Int(27);
  a.present_days = r.Int(28);
  a.present_hours = r.Int(29);
  a.course_school_code = r.Str(30);
  return a;
}

pb::Application ToProto(const ApplicationRecord& r,
                        const std::string& shown_name) {
  pb::Application a;
  a.set_application_id(r.id);
  a.set_course_code(r.course_code);
  a.set_course_name(r.course_name);
  a.set_kind(static_cast<pb::CourseKind>(r.kind));
  a.set_member_id(r.member_id);
  a.set_name(shown_name);
  a.set_member_region_code(r.member_region);
  a.set_course_region_code(r.course_region);
  a.set_household_status(static_cast<cpb::HouseholdStatus>(r.household_status));
  a.set_state(static_cast<pb::ApplicationState>(r.state));
  a.set_free_tuition(r.free_tuition);
  a.set_boarder(r.boarder);
  a.set_offer_id(r.offer_id);
  a.set_applied_at(FormatTimestamp(r.applied_at));
  a.set_enrolled_at(FormatTimestamp(r.enrolled_at));
  a.set_closed_at(FormatTimestamp(r.closed_at));
  a.set_promoted(r.promoted);
  a.set_withdraw_reason(r.withdraw_reason);
  a.set_completed_on(r.completed_on);
  a.set_certificate_no(r.certificate_no);
  a.set_certificate_name(r.certificate_name);
  a.set_outcome(static_cast<pb::Outcome>(r.outcome));
  a.set_employer(r.employer);
  a.set_monthly_income_fen(r.monthly_income_fen);
  a.set_outcome_on(r.outcome_on);
  a.set_note(r.note);
  a.set_attendance_days(static_cast<int32_t>(r.attendance_days));
  a.set_present_days(static_cast<int32_t>(r.present_days));
  a.set_present_hours(static_cast<int32_t>(r.present_hours));
  a.set_course_school_code(r.course_school_code);
  return a;
}

absl::StatusOr<ApplicationRecord> ReadApplication(SqlConnection& c,
                                                  int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kApplicationColumns,
                                        kApplicationFrom, "WHERE a.id = ?"),
                           {id}));
  if (rows.empty()) return NoSuchApplication();
  return ApplicationFromRow(rows.front());
}

absl::StatusOr<std::vector<ApplicationRecord>> ListApplicationPage(
    SqlConnection& c, const ApplicationFilter& f, int64_t after,
    int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat(
                  "SELECT ", kApplicationColumns, kApplicationFrom,
                  "WHERE (a.course_region LIKE ? OR a.member_region LIKE ?) "
                  "AND (? = '' OR a.course_code = ?) AND (? = 0 OR "
                  "a.state = ?) AND (? = '' OR a.member_id = ?) AND ",
                  SchoolClause("c.school_code"),
                  " AND a.id > ? ORDER BY a.id LIMIT ?"),
              {f.region_prefix + "%", f.region_prefix + "%", f.course_code,
               f.course_code, f.state, f.state, f.member_id, f.member_id,
               f.school.only, f.school.school, after, limit}));
  std::vector<ApplicationRecord> out;
  for (const auto& r : rows) out.push_back(ApplicationFromRow(r));
  return out;
}

absl::StatusOr<std::vector<ApplicationRecord>> ApplicationsOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids) {
  std::vector<ApplicationRecord> out;
  if (member_ids.empty()) return out;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kApplicationColumns, kApplicationFrom,
                           "WHERE a.member_id IN ",
                           SqlInList(member_ids.size()), " ORDER BY a.id"),
              std::vector<SqlValue>(member_ids.begin(), member_ids.end())));
  for (const auto& r : rows) out.push_back(ApplicationFromRow(r));
  return out;
}

absl::StatusOr<WaitlistAhead> CountWaitlistAhead(SqlConnection& c,
                                                 const std::string& course,
                                                 int64_t tier,
                                                 int64_t applied_at,
                                                 int64_t id) {
  ASSIGN_OR_RETURN(
      auto r,
      c.Query("SELECT COUNT(*), COALESCE(SUM(CASE WHEN tier < ? THEN 1 ELSE "
              "0 END), 0) FROM applications WHERE course_code = ? AND "
              "state = 2 AND (tier < ? OR (tier = ? AND (applied_at < ? OR "
              "(applied_at = ? AND id < ?))))",
              {tier, course, tier, tier, applied_at, applied_at, id}));
  return WaitlistAhead{r.front().Int(0), r.front().Int(1)};
}

absl::StatusOr<std::vector<WaitlistRow>> ReadWaitlist(
    SqlConnection& c, const std::string& course) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, member_id, name_enc, household_status, offer_id, "
              "applied_at, tier FROM applications WHERE course_code = ? AND "
              "state = 2 ORDER BY tier, applied_at, id",
              {course}));
  std::vector<WaitlistRow> out;
  for (const auto& r : rows) {
    out.push_back(
        {r.Int(0), r.Str(1), r.Str(2), r.Int(3), r.Int(4), r.Int(5), r.Int(6)});
  }
  return out;
}

absl::StatusOr<std::vector<int64_t>> NextWaitlisted(SqlConnection& c,
                                                    const std::string& course,
                                                    int64_t n) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id FROM applications WHERE course_code = ? AND state = "
              "2 ORDER BY tier, applied_at, id LIMIT ?",
              {course, n}));
  std::vector<int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.Int(0));
  return ids;
}

absl::StatusOr<bool> EnrolFromWaitlist(SqlConnection& c, int64_t id,
                                       int64_t now_ms) {
  ASSIGN_OR_RETURN(
      const int64_t n,
      c.Execute("UPDATE applications SET state = 1, enrolled_at = ?, "
                "promoted = 1 WHERE id = ? AND state = 2",
                {now_ms, id}));
  return n == 1;
}

absl::StatusOr<std::optional<ApplicationRef>> FindApplication(
    SqlConnection& c, const std::string& course, const std::string& member_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT id, state FROM applications WHERE "
                           "course_code = ? AND member_id = ?",
                           {course, member_id}));
  if (rows.empty()) return std::nullopt;
  return ApplicationRef{rows.front().Int(0), rows.front().Int(1), course};
}

absl::StatusOr<std::optional<ApplicationRef>> FindHeldMajor(
    SqlConnection& c, const std::string& member_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT id, course_code FROM applications WHERE "
                           "member_id = ? AND kind = 1 AND state IN (1, 2)",
                           {member_id}));
  if (rows.empty()) return std::nullopt;
  return ApplicationRef{rows.front().Int(0), 0, rows.front().Str(1)};
}

absl::StatusOr<int64_t> InsertApplication(SqlConnection& c,
                                          const NewApplication& a) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "INSERT INTO applications(course_code, kind, member_id, "
          "member_region, course_region, name_enc, household_status, tier, "
          "offer_id, free_tuition, boarder, state, applied_at, enrolled_at, "
          "closed_at, promoted, withdraw_reason, completed_on, "
          "certificate_no, certificate_name, outcome, employer, "
          "monthly_income_fen, outcome_on, note, created_by) "
          "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,'','','','',0,'',0,'',?,?) "
          "RETURNING id",
          {a.course_code, a.kind, a.member_id, a.member_region, a.course_region,
           a.name_enc, a.household_status, a.tier, a.offer_id, int64_t{1},
           int64_t{a.boarder ? 1 : 0}, a.state, a.applied_at, a.enrolled_at,
           a.note, a.created_by}));
  return rows.front().Int(0);
}

absl::StatusOr<Applicant> ReadApplicant(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT member_id, member_region, name_enc, boarder "
                           "FROM applications WHERE id = ?",
                           {id}));
  if (rows.empty()) return absl::InternalError("application vanished");
  const SqlRow& r = rows.front();
  return Applicant{r.Str(0), r.Str(1), r.Str(2), r.Int(3) != 0};
}

absl::StatusOr<std::optional<std::string>> ReadNameEnc(SqlConnection& c,
                                                       int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT name_enc FROM applications WHERE id = ?", {id}));
  if (rows.empty()) return std::nullopt;
  return rows.front().Str(0);
}

ApplicationScope FromApplicationScopeRow(const SqlRow& r) {
  ApplicationScope s;
  s.course_code = r.Str(0);
  s.state = r.Int(1);
  s.course_region = r.Str(2);
  s.member_region = r.Str(3);
  s.course_school_code = r.Str(4);
  s.course_kind = r.Int(5);
  s.enrolled_at = r.Int(6);
  s.completed_on = r.Str(7);
  return s;
}

absl::StatusOr<ApplicationScope> ReadApplicationScope(SqlConnection& c,
                                                      int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kApplicationScopeColumns,
                           " FROM applications a LEFT JOIN courses c ON "
                           "c.code = a.course_code WHERE a.id = ?"),
              {id}));
  if (rows.empty()) return NoSuchApplication();
  return FromApplicationScopeRow(rows.front());
}

absl::StatusOr<int64_t> ReadState(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows, c.Query("SELECT state FROM applications WHERE id = ?", {id}));
  if (rows.empty()) return NoSuchApplication();
  return rows.front().Int(0);
}

absl::Status MarkWithdrawn(SqlConnection& c, int64_t id, int64_t now_ms,
                           const std::string& reason, int64_t from_state) {
  return c
      .Execute(
          "UPDATE applications SET state = 3, closed_at = ?, "
          "withdraw_reason = ? WHERE id = ? AND state = ?",
          {now_ms, reason, id, from_state})
      .status();
}

absl::Status MarkCompleted(SqlConnection& c, int64_t id,
                           const std::string& completed_on,
                           const std::string& certificate_no,
                           const std::string& certificate_name,
                           int64_t now_ms) {
  return c
      .Execute(
          "UPDATE applications SET state = 4, completed_on = ?, "
          "certificate_no = ?, certificate_name = ?, closed_at = ? "
          "WHERE id = ? AND state = 1",
          {completed_on, certificate_no, certificate_name, now_ms, id})
      .status();
}

absl::Status SetOutcome(SqlConnection& c, int64_t id, int64_t outcome,
                        const std::string& employer, int64_t monthly_income_fen,
                        const std::string& outcome_on) {
  return c
      .Execute(
          "UPDATE applications SET outcome = ?, employer = ?, "
          "monthly_income_fen = ?, outcome_on = ? WHERE id = ?",
          {outcome, employer, monthly_income_fen, outcome_on, id})
      .status();
}

absl::Status MoveCourseRegion(SqlConnection& c, const std::string& course,
                              const std::string& region) {
  return c
      .Execute(
          "UPDATE applications SET course_region = ? WHERE "
          "course_code = ?",
          {region, course})
      .status();
}

absl::StatusOr<int64_t> CountCourseApplications(SqlConnection& c,
                                                const std::string& course) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT COUNT(*) FROM applications WHERE course_code = ?",
              {course}));
  return rows.front().Int(0);
}

absl::StatusOr<std::vector<ApplicationRef>> EnrolledMajorsIn(
    SqlConnection& c, const std::string& region_prefix) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, course_code FROM applications WHERE kind = 1 AND "
              "state = 1 AND member_region LIKE ? ORDER BY id",
              {region_prefix + "%"}));
  std::vector<ApplicationRef> out;
  for (const auto& r : rows) out.push_back({r.Int(0), kEnrolled, r.Str(1)});
  return out;
}

absl::StatusOr<std::set<std::string>> MembersWithMajor(
    SqlConnection& c, const std::string& region_prefix) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT DISTINCT member_id FROM applications WHERE "
              "member_region LIKE ? AND kind = 1 AND state IN (1, 2, 4)",
              {region_prefix + "%"}));
  std::set<std::string> out;
  for (const auto& r : rows) out.insert(r.Str(0));
  return out;
}

absl::StatusOr<bool> AttendanceExists(SqlConnection& c, int64_t id,
                                      const std::string& day) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT 1 FROM attendance WHERE application_id = ? AND day = ?",
              {id, day}));
  return !rows.empty();
}

absl::Status UpsertAttendance(SqlConnection& c, int64_t id,
                              const std::string& day, bool present,
                              int64_t hours, const std::string& recorded_by,
                              int64_t now_ms) {
  return c
      .Execute(
          "INSERT INTO attendance(application_id, day, present, hours, "
          "recorded_by, recorded_at) VALUES(?,?,?,?,?,?) "
          "ON CONFLICT(application_id, day) DO UPDATE SET "
          "present = excluded.present, hours = excluded.hours, "
          "recorded_by = excluded.recorded_by, "
          "recorded_at = excluded.recorded_at",
          {id, day, int64_t{present ? 1 : 0}, hours, recorded_by, now_ms})
      .status();
}

absl::StatusOr<std::optional<int64_t>> StateInCourse(
    SqlConnection& c, int64_t id, const std::string& course) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT state FROM applications WHERE id = ? AND course_code = ?",
              {id, course}));
  if (rows.empty()) return std::nullopt;
  return rows.front().Int(0);
}

}  // namespace eduaid::vocational
