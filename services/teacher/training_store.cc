#include "services/teacher/training_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/teacher/teacher.h"

namespace eduaid::teacher {

// ---------------------------------------------------------------- programmes

ProgrammeRecord FromProgrammeRow(const SqlRow& row) {
  ProgrammeRecord r;
  r.id = row.Int(0);
  r.name = row.Str(1);
  r.level = static_cast<int>(row.Int(2));
  r.year = static_cast<int>(row.Int(3));
  r.seats = static_cast<int>(row.Int(4));
  r.region_prefix = row.Str(5);
  r.w_students = static_cast<int>(row.Int(6));
  r.w_shortage = static_cast<int>(row.Int(7));
  r.created_at = row.Int(8);
  return r;
}

void ToProto(const ProgrammeRecord& r, pb::TrainingProgramme* out) {
  out->set_programme_id(r.id);
  out->set_name(r.name);
  out->set_level(static_cast<pb::TrainingLevel>(r.level));
  out->set_year(r.year);
  out->set_seats(r.seats);
  out->set_region_prefix(r.region_prefix);
  out->set_student_weight_permille(r.w_students);
  out->set_shortage_weight_permille(r.w_shortage);
  out->set_created_at(
      FormatTimestamp(r.created_at * 1000, TimestampPrecision::kSeconds));
}

absl::StatusOr<ProgrammeRecord> LoadProgramme(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kProgrammeColumns,
                                        " FROM training_programmes WHERE id "
                                        "= ?"),
                           {id}));
  if (rows.empty()) return absl::NotFoundError("no such training programme");
  return FromProgrammeRow(rows.front());
}

absl::StatusOr<std::string> ProgrammeRegion(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT region_prefix FROM training_programmes WHERE id = ?",
              {id}));
  if (rows.empty()) return absl::NotFoundError("no such training programme");
  return rows.front().Str(0);
}

absl::StatusOr<int64_t> InsertProgramme(SqlConnection& c,
                                        const ProgrammeRecord& r,
                                        const std::string& created_by) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO training_programmes(name, level, year, seats, "
              "region_prefix, w_students, w_shortage, created_by, created_at) "
              "VALUES(?,?,?,?,?,?,?,?,?) RETURNING id",
              {r.name, int64_t{r.level}, int64_t{r.year}, int64_t{r.seats},
               r.region_prefix, int64_t{r.w_students}, int64_t{r.w_shortage},
               created_by, r.created_at}));
  return rows.front().Int(0);
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ListProgrammes(
    SqlConnection& c, const std::string& region, int64_t after_id,
    int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, region_prefix FROM training_programmes WHERE "
              "(region_prefix LIKE ? OR ? LIKE region_prefix || '%') AND id > "
              "? ORDER BY id LIMIT ?",
              {region + "%", region, after_id, limit}));
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& r : rows) out.emplace_back(r.Int(0), r.Str(1));
  return out;
}

// ---------------------------------------------------------------- allocations

AllocationRecord FromAllocationRow(const SqlRow& a) {
  AllocationRecord r;
  r.region_code = a.Str(0);
  r.students = a.Int(1);
  r.shortage = a.Int(2);
  r.seats = static_cast<int>(a.Int(3));
  r.enrolled = static_cast<int>(a.Int(4));
  r.explanation = a.Str(5);
  r.quota_milli = a.Int(6);
  r.completed = static_cast<int>(a.Int(7));
  return r;
}

void ToProto(const AllocationRecord& a, pb::CountyAllocation* ca) {
  ca->set_region_code(a.region_code);
  ca->set_registered_students(a.students);
  ca->set_rural_teacher_shortage(a.shortage);
  ca->set_seats(a.seats);
  ca->set_enrolled(a.enrolled);
  ca->set_explanation(a.explanation);
  ca->set_quota_milli(a.quota_milli);
  ca->set_completed(a.completed);
}

absl::StatusOr<std::vector<AllocationRecord>> LoadAllocations(
    SqlConnection& c, int64_t programme_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kAllocationColumns,
                           " FROM training_allocations a WHERE "
                           "a.programme_id = ? ORDER BY a.region_code"),
              {programme_id}));
  std::vector<AllocationRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromAllocationRow(r));
  return out;
}

absl::Status InsertAllocation(SqlConnection& c, int64_t programme_id,
                              const CountyWeight& weight,
                              const CountySeats& seats) {
  return c
      .Execute(
          "INSERT INTO training_allocations(programme_id, region_code, "
          "students, shortage, seats, enrolled, quota_milli, explanation) "
          "VALUES(?,?,?,?,?,0,?,?)",
          {programme_id, seats.region_code, weight.students, weight.shortage,
           int64_t{seats.seats}, seats.quota_milli, seats.explanation})
      .status();
}

absl::StatusOr<bool> TakeSeat(SqlConnection& c, int64_t programme_id,
                              const std::string& county) {
  ASSIGN_OR_RETURN(
      int64_t n,
      c.Execute("UPDATE training_allocations SET enrolled = enrolled + 1 "
                "WHERE programme_id = ? AND region_code = ? AND enrolled < "
                "seats",
                {programme_id, county}));
  return n != 0;
}

absl::StatusOr<std::optional<int64_t>> SeatsOf(SqlConnection& c,
                                               int64_t programme_id,
                                               const std::string& county) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT seats FROM training_allocations WHERE "
                           "programme_id = ? AND region_code = ?",
                           {programme_id, county}));
  if (rows.empty()) return std::nullopt;
  return rows.front().Int(0);
}

// ---------------------------------------------------------------- enrolments

absl::StatusOr<std::optional<EnrolmentStanding>> LoadEnrolmentStanding(
    SqlConnection& c, int64_t programme_id, int64_t teacher_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT e.region_code, e.completed, t.school_code, e.enrolled_at "
              "FROM training_enrolments e JOIN teachers t ON t.id = "
              "e.teacher_id WHERE e.programme_id = ? AND e.teacher_id = ?",
              {programme_id, teacher_id}));
  if (rows.empty()) return std::nullopt;
  const SqlRow& r = rows.front();
  return EnrolmentStanding{r.Str(0), r.Int(1) != 0, r.Str(2), r.Int(3)};
}

absl::StatusOr<bool> IsEnrolled(SqlConnection& c, int64_t programme_id,
                                int64_t teacher_id) {
  ASSIGN_OR_RETURN(auto rows, c.Query("SELECT 1 FROM training_enrolments WHERE "
                                      "programme_id = ? AND teacher_id = ?",
                                      {programme_id, teacher_id}));
  return !rows.empty();
}

absl::Status InsertEnrolment(SqlConnection& c, int64_t programme_id,
                             int64_t teacher_id, const std::string& county,
                             int64_t now_sec) {
  return c
      .Execute(
          "INSERT INTO training_enrolments(programme_id, teacher_id, "
          "region_code, enrolled_at, completed, passed, hours, "
          "certificate_ref, completed_at) VALUES(?,?,?,?,0,0,0,'',0)",
          {programme_id, teacher_id, county, now_sec})
      .status();
}

absl::Status UpsertAttendance(SqlConnection& c, int64_t programme_id,
                              int64_t teacher_id,
                              const std::string& session_date, bool present) {
  return c
      .Execute(
          "INSERT INTO training_attendance(programme_id, teacher_id, "
          "session_date, present) VALUES(?,?,?,?) ON CONFLICT("
          "programme_id, teacher_id, session_date) DO UPDATE SET present = "
          "excluded.present",
          {programme_id, teacher_id, session_date, int64_t{present}})
      .status();
}

absl::StatusOr<Attendance> AttendanceOf(SqlConnection& c, int64_t programme_id,
                                        int64_t teacher_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT COALESCE(SUM(present), 0), COUNT(*) FROM "
              "training_attendance WHERE programme_id = ? AND teacher_id = ?",
              {programme_id, teacher_id}));
  return Attendance{rows.front().Int(0), rows.front().Int(1)};
}

absl::Status MarkCompleted(SqlConnection& c, int64_t programme_id,
                           int64_t teacher_id, bool passed, int hours,
                           const std::string& certificate_ref,
                           int64_t now_sec) {
  return c
      .Execute(
          "UPDATE training_enrolments SET completed = 1, passed = ?, "
          "hours = ?, certificate_ref = ?, completed_at = ? WHERE "
          "programme_id = ? AND teacher_id = ?",
          {int64_t{passed}, int64_t{hours}, certificate_ref, now_sec,
           programme_id, teacher_id})
      .status();
}

EnrolmentRecord FromEnrolmentRow(const SqlRow& r) {
  EnrolmentRecord e;
  e.teacher_id = r.Int(0);
  e.region_code = r.Str(1);
  e.school_code = r.Str(2);
  e.enrolled_at = r.Int(3);
  e.completed = r.Int(4) != 0;
  e.passed = r.Int(5) != 0;
  e.hours = static_cast<int>(r.Int(6));
  e.certificate_ref = r.Str(7);
  e.completed_at = r.Int(8);
  e.present = r.Int(9);
  e.sessions = r.Int(10);
  return e;
}

void ToProto(const EnrolmentRecord& r, pb::TrainingEnrolment* e) {
  e->set_teacher_id(TeacherIdString(r.teacher_id));
  e->set_region_code(r.region_code);
  e->set_school_code(r.school_code);
  e->set_enrolled_at(
      FormatTimestamp(r.enrolled_at * 1000, TimestampPrecision::kSeconds));
  e->set_completed(r.completed);
  e->set_passed(r.passed);
  e->set_hours(r.hours);
  e->set_certificate_ref(r.certificate_ref);
  e->set_completed_at(
      FormatTimestamp(r.completed_at * 1000, TimestampPrecision::kSeconds));
  e->set_sessions_present(static_cast<int32_t>(r.present));
  e->set_sessions_absent(static_cast<int32_t>(r.sessions - r.present));
}

absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolments(
    SqlConnection& c, int64_t programme_id, const std::string& region,
    const SchoolScope& school) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat("SELECT ", kEnrolmentColumns,
                       " FROM training_enrolments e JOIN teachers t ON "
                       "t.id = e.teacher_id WHERE e.programme_id = ? AND "
                       "e.region_code LIKE ? AND ",
                       SchoolClause("t.school_code"), " ORDER BY e.teacher_id"),
          {programme_id, region + "%", school.only, school.school}));
  std::vector<EnrolmentRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromEnrolmentRow(r));
  return out;
}

}  // namespace eduaid::teacher
