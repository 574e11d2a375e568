// The catalogue (table courses): the typed course record, its columns
// beside its row reader, every statement on the table, and the proto
// mapping. Every function runs inside the caller's transaction or read on
// `c` and returns the database's error unchanged (UNAVAILABLE when it is
// unreachable).
#ifndef EDUAID_SERVICES_VOCATIONAL_COURSE_STORE_H_
#define EDUAID_SERVICES_VOCATIONAL_COURSE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/common/v1/common.pb.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;

// Stored course kinds (pb::CourseKind).
inline constexpr int64_t kMajor = 1;
inline constexpr int64_t kClass = 2;

// The cache key of the answer of GetCourse for `code`.
std::string CourseCacheKey(const std::string& code);

// "major" / "training_class": the kind label of metrics.
const char* KindLabel(int64_t kind);

struct CourseRecord {
  std::string code;
  int64_t kind = 0;
  std::string name, region, trade, school_code, school_name;
  int64_t capacity = 0;
  ::eduaid::common::v1::Term intake;
  int64_t duration_years = 0;
  std::string provider, location, schedule, start_date, end_date;
  int64_t total_hours = 0, taken = 0, updated_at = 0;
  // Only when read with counts (kCourseCountColumns).
  int64_t enrolled = 0, waitlisted = 0, completed = 0;
};

// Columns in the order CourseFromRow() reads them.
inline constexpr char kCourseColumns[] =
    "code, kind, name, region_code, capacity, trade, school_code, "
    "school_name, term_year, term_season, duration_years, provider, "
    "location, schedule, start_date, end_date, total_hours, taken, "
    "updated_at";
// Read after kCourseColumns by CourseFromRow(r, /*with_counts=*/true): the
// enrolled, waitlisted and completed applications of the course.
inline constexpr char kCourseCountColumns[] =
    "(SELECT COUNT(*) FROM applications a WHERE a.course_code = courses.code "
    " AND a.state = 1), "
    "(SELECT COUNT(*) FROM applications a WHERE a.course_code = courses.code "
    " AND a.state = 2), "
    "(SELECT COUNT(*) FROM applications a WHERE a.course_code = courses.code "
    " AND a.state = 4)";

CourseRecord CourseFromRow(const SqlRow& r, bool with_counts);
// The course as answered (counts only when read with them).
pb::Course ToProto(const CourseRecord& c, bool with_counts);

// The course `code`; NOT_FOUND naming `field` when there is none.
absl::StatusOr<CourseRecord> ReadCourse(SqlConnection& c,
                                        const std::string& code,
                                        const char* field = "course_code");
// The same with its application counts.
absl::StatusOr<CourseRecord> ReadCourseWithCounts(
    SqlConnection& c, const std::string& code,
    const char* field = "course_code");
// Locks the course row for the rest of the transaction (a write to the
// row: the PostgreSQL row lock; SQLite's writer lock already serialises),
// then reads it. NOT_FOUND naming course_code.
absl::StatusOr<CourseRecord> LockCourse(SqlConnection& c,
                                        const std::string& code);
absl::StatusOr<bool> CourseExists(SqlConnection& c, const std::string& code);
// Inserts `course` (none taken) / updates everything but kind and taken.
absl::Status InsertCourse(SqlConnection& c, const pb::Course& course,
                          int64_t now_ms);
absl::Status UpdateCourse(SqlConnection& c, const pb::Course& course,
                          int64_t now_ms);
// One page of courses (with counts) in code order after `after_code`,
// `limit` rows at most, under the region prefix, kind (0 = any) and school
// scope.
absl::StatusOr<std::vector<CourseRecord>> ListCoursePage(
    SqlConnection& c, const std::string& region_prefix, int64_t kind,
    const SchoolScope& school, const std::string& after_code, int64_t limit);
// Every course code, in order.
absl::StatusOr<std::vector<std::string>> ListCourseCodes(SqlConnection& c);

// Takes one place when one is free (true) or none (false).
absl::StatusOr<bool> TakeSeat(SqlConnection& c, const std::string& code);
// Gives one taken place back.
absl::Status FreeSeat(SqlConnection& c, const std::string& code);

// What the per-course gauges show.
struct CourseFill {
  int64_t capacity = 0, taken = 0, waitlisted = 0;
};
// The fill of each of `codes` that still exists, in the order given.
absl::StatusOr<std::vector<std::pair<std::string, CourseFill>>> ReadCourseFill(
    SqlConnection& c, const std::vector<std::string>& codes);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_COURSE_STORE_H_
