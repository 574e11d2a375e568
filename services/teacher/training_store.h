// Training programmes as stored: tables training_programmes,
// training_allocations (seats per county), training_enrolments and
// training_attendance. Every SQL statement on these tables lives here,
// beside the record it reads.
//
// All functions run inside a caller's transaction or read (`c`), return
// the database's error unchanged, and are thread-compatible (one
// connection per call).
#ifndef EDUAID_SERVICES_TEACHER_TRAINING_STORE_H_
#define EDUAID_SERVICES_TEACHER_TRAINING_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"
#include "services/teacher/assignment.h"

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;

// ---------------------------------------------------------------- programmes

struct ProgrammeRecord {
  int64_t id = 0;
  std::string name;
  int level = 0;  // pb::TrainingLevel
  int year = 0;
  int seats = 0;
  std::string region_prefix;
  int w_students = 0, w_shortage = 0;  // permille
  int64_t created_at = 0;              // seconds
};

// Columns in the order FromProgrammeRow() reads them.
inline constexpr char kProgrammeColumns[] =
    "id, name, level, year, seats, region_prefix, w_students, w_shortage, "
    "created_at";
ProgrammeRecord FromProgrammeRow(const SqlRow& row);
// The programme's own fields (not its allocations).
void ToProto(const ProgrammeRecord& r, pb::TrainingProgramme* out);

// NOT_FOUND ("no such training programme") when absent.
absl::StatusOr<ProgrammeRecord> LoadProgramme(SqlConnection& c, int64_t id);

// The programme's region; NOT_FOUND when absent.
absl::StatusOr<std::string> ProgrammeRegion(SqlConnection& c, int64_t id);

// Inserts a programme; its id.
absl::StatusOr<int64_t> InsertProgramme(SqlConnection& c,
                                        const ProgrammeRecord& r,
                                        const std::string& created_by);

// Programmes inside `region` or wider ones it takes part in, as (id,
// region_prefix), after `after_id` in id order.
absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> ListProgrammes(
    SqlConnection& c, const std::string& region, int64_t after_id,
    int64_t limit);

// ---------------------------------------------------------------- allocations

struct AllocationRecord {
  std::string region_code;
  int64_t students = 0, shortage = 0;
  int seats = 0, enrolled = 0;
  std::string explanation;
  int64_t quota_milli = 0;
  int completed = 0;  // enrolments completed and passed
};

// Columns (training_allocations a) in the order FromAllocationRow() reads
// them; the last counts the county's passed completions.
inline constexpr char kAllocationColumns[] =
    "a.region_code, a.students, a.shortage, a.seats, a.enrolled, "
    "a.explanation, a.quota_milli, (SELECT COUNT(*) FROM "
    "training_enrolments e WHERE e.programme_id = a.programme_id AND "
    "e.region_code = a.region_code AND e.completed = 1 AND e.passed = 1)";
AllocationRecord FromAllocationRow(const SqlRow& row);
void ToProto(const AllocationRecord& a, pb::CountyAllocation* out);

// The programme's allocations by county.
absl::StatusOr<std::vector<AllocationRecord>> LoadAllocations(
    SqlConnection& c, int64_t programme_id);

absl::Status InsertAllocation(SqlConnection& c, int64_t programme_id,
                              const CountyWeight& weight,
                              const CountySeats& seats);

// Takes one of the county's seats: false when all are taken (a
// conditional increment, safe under concurrent enrolments).
absl::StatusOr<bool> TakeSeat(SqlConnection& c, int64_t programme_id,
                              const std::string& county);

// The county's seats; nullopt when the programme allocates none to it.
absl::StatusOr<std::optional<int64_t>> SeatsOf(SqlConnection& c,
                                               int64_t programme_id,
                                               const std::string& county);

// ---------------------------------------------------------------- enrolments

// An enrolment as the attendance and completion rules need it.
struct EnrolmentStanding {
  std::string region_code;
  bool completed = false;
  std::string school_code;
  int64_t enrolled_at = 0;  // seconds
};
// nullopt when the teacher is not enrolled.
absl::StatusOr<std::optional<EnrolmentStanding>> LoadEnrolmentStanding(
    SqlConnection& c, int64_t programme_id, int64_t teacher_id);

absl::StatusOr<bool> IsEnrolled(SqlConnection& c, int64_t programme_id,
                                int64_t teacher_id);

absl::Status InsertEnrolment(SqlConnection& c, int64_t programme_id,
                             int64_t teacher_id, const std::string& county,
                             int64_t now_sec);

absl::Status UpsertAttendance(SqlConnection& c, int64_t programme_id,
                              int64_t teacher_id,
                              const std::string& session_date, bool present);

// Sessions attended and sessions recorded.
struct Attendance {
  int64_t present = 0, sessions = 0;
};
absl::StatusOr<Attendance> AttendanceOf(SqlConnection& c, int64_t programme_id,
                                        int64_t teacher_id);

absl::Status MarkCompleted(SqlConnection& c, int64_t programme_id,
                           int64_t teacher_id, bool passed, int hours,
                           const std::string& certificate_ref, int64_t now_sec);

struct EnrolmentRecord {
  int64_t teacher_id = 0;
  std::string region_code, school_code;
  int64_t enrolled_at = 0;  // seconds
  bool completed = false, passed = false;
  int hours = 0;
  std::string certificate_ref;
  int64_t completed_at = 0;  // seconds
  int64_t present = 0, sessions = 0;
};
// Columns (training_enrolments e JOIN teachers t) in the order
// FromEnrolmentRow() reads them.
inline constexpr char kEnrolmentColumns[] =
    "e.teacher_id, e.region_code, t.school_code, e.enrolled_at, "
    "e.completed, e.passed, e.hours, e.certificate_ref, e.completed_at, "
    "(SELECT COALESCE(SUM(a.present), 0) FROM training_attendance a "
    " WHERE a.programme_id = e.programme_id AND a.teacher_id = "
    " e.teacher_id), "
    "(SELECT COUNT(*) FROM training_attendance a WHERE a.programme_id = "
    " e.programme_id AND a.teacher_id = e.teacher_id)";
EnrolmentRecord FromEnrolmentRow(const SqlRow& row);
// Without the name.
void ToProto(const EnrolmentRecord& e, pb::TrainingEnrolment* out);

// The programme's enrolments in `region`, narrowed to a school officer's
// school, by teacher id.
absl::StatusOr<std::vector<EnrolmentRecord>> ListEnrolments(
    SqlConnection& c, int64_t programme_id, const std::string& region,
    const SchoolScope& school);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_TRAINING_STORE_H_
