#include "services/vocational/course_store.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/cache.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"

namespace eduaid::vocational {

namespace cpb = ::eduaid::common::v1;

std::string CourseCacheKey(const std::string& code) {
  return CacheKey("vocational", "course", code);
}

const char* KindLabel(int64_t kind) {
  return kind == kMajor ? "major" : "training_class";
}

CourseRecord CourseFromRow(const SqlRow& r, bool with_counts) {
  CourseRecord c;
  c.code = r.Str(0);
  c.kind = r.Int(1);
  c.name = r.Str(2);
  c.region = r.Str(3);
  c.capacity = r.Int(4);
  c.trade = r.Str(5);
  c.school_code = r.Str(6);
  c.school_name = r.Str(7);
  c.intake.set_year(static_cast<int32_t>(r.Int(8)));
  c.intake.set_season(static_cast<cpb::Season>(r.Int(9)));
  c.duration_years = r.Int(10);
  c.provider = r.Str(11);
  c.location = r.Str(12);
  c.schedule = r.Str(13);
  c.start_date = r.Str(14);
  c.end_date = r.Str(15);
  c.total_hours = r.Int(16);
  c.taken = r.Int(17);
  c.updated_at = r.Int(18);
  if (with_counts) {
    c.enrolled = r.Int(19);
    c.waitlisted = r.Int(20);
    c.completed = r.Int(21);
  }
  return c;
}

pb::Course ToProto(const CourseRecord& r, bool with_counts) {
  pb::Course c;
  c.set_code(r.code);
  c.set_kind(static_cast<pb::CourseKind>(r.kind));
  c.set_name(r.name);
  c.set_region_code(r.region);
  c.set_capacity(static_cast<int32_t>(r.capacity));
  c.set_trade(r.trade);
  c.set_school_code(r.school_code);
  c.set_school_name(r.school_name);
  if (r.intake.year() != 0) *c.mutable_intake_term() = r.intake;
  c.set_duration_years(static_cast<int32_t>(r.duration_years));
  c.set_provider(r.provider);
  c.set_location(r.location);
  c.set_schedule(r.schedule);
  c.set_start_date(r.start_date);
  c.set_end_date(r.end_date);
  c.set_total_hours(static_cast<int32_t>(r.total_hours));
  c.set_fill_rate_bp(
      r.capacity > 0 ? static_cast<int32_t>(r.taken * 10000 / r.capacity) : 0);
  c.set_updated_at(FormatTimestamp(r.updated_at));
  if (with_counts) {
    c.set_enrolled(static_cast<int32_t>(r.enrolled));
    c.set_waitlisted(static_cast<int32_t>(r.waitlisted));
    c.set_completed(static_cast<int32_t>(r.completed));
  }
  return c;
}

absl::StatusOr<CourseRecord> ReadCourse(SqlConnection& c,
                                        const std::string& code,
                                        const char* field) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kCourseColumns,
                                        " FROM courses WHERE code = ?"),
                           {code}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat(field, ": no such course"));
  }
  return CourseFromRow(rows.front(), /*with_counts=*/false);
}

absl::StatusOr<CourseRecord> ReadCourseWithCounts(SqlConnection& c,
                                                  const std::string& code,
                                                  const char* field) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kCourseColumns, ", ", kCourseCountColumns,
                           " FROM courses WHERE code = ?"),
              {code}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat(field, ": no such course"));
  }
  return CourseFromRow(rows.front(), /*with_counts=*/true);
}

absl::StatusOr<CourseRecord> LockCourse(SqlConnection& c,
                                        const std::string& code) {
  ASSIGN_OR_RETURN(
      const int64_t locked,
      c.Execute("UPDATE courses SET lock_seq = lock_seq + 1 WHERE code = ?",
                {code}));
  if (locked == 0) return absl::NotFoundError("course_code: no such course");
  return ReadCourse(c, code);
}

absl::StatusOr<bool> CourseExists(SqlConnection& c, const std::string& code) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT 1 FROM courses WHERE code = ?", {code}));
  return !rows.empty();
}

absl::Status InsertCourse(SqlConnection& c, const pb::Course& course,
                          int64_t now_ms) {
  return c
      .Execute(
          "INSERT INTO courses(code, kind, name, region_code, capacity, "
          "trade, school_code, school_name, term_year, term_season, "
          "duration_years, provider, location, schedule, start_date, "
          "end_date, total_hours, taken, lock_seq, created_at, "
          "updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,?,?)",
          {course.code(), int64_t{course.kind()}, course.name(),
           course.region_code(), int64_t{course.capacity()}, course.trade(),
           course.school_code(), course.school_name(),
           int64_t{course.intake_term().year()},
           int64_t{course.intake_term().season()},
           int64_t{course.duration_years()}, course.provider(),
           course.location(), course.schedule(), course.start_date(),
           course.end_date(), int64_t{course.total_hours()}, now_ms, now_ms})
      .status();
}

absl::Status UpdateCourse(SqlConnection& c, const pb::Course& course,
                          int64_t now_ms) {
  return c
      .Execute(
          "UPDATE courses SET name = ?, region_code = ?, capacity = ?, "
          "trade = ?, school_code = ?, school_name = ?, term_year = ?, "
          "term_season = ?, duration_years = ?, provider = ?, "
          "location = ?, schedule = ?, start_date = ?, end_date = ?, "
          "total_hours = ?, updated_at = ? WHERE code = ?",
          {course.name(), course.region_code(), int64_t{course.capacity()},
           course.trade(), course.school_code(), course.school_name(),
           int64_t{course.intake_term().year()},
           int64_t{course.intake_term().season()},
           int64_t{course.duration_years()}, course.provider(),
           course.location(), course.schedule(), course.start_date(),
           course.end_date(), int64_t{course.total_hours()}, now_ms,
           course.code()})
      .status();
}

absl::StatusOr<std::vector<CourseRecord>> ListCoursePage(
    SqlConnection& c, const std::string& region_prefix, int64_t kind,
    const SchoolScope& school, const std::string& after_code, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kCourseColumns, ", ", kCourseCountColumns,
                           " FROM courses WHERE region_code LIKE ? AND "
                           "(? = 0 OR kind = ?) AND ",
                           SchoolClause("school_code"),
                           " AND code > ? ORDER BY code LIMIT ?"),
              {region_prefix + "%", kind, kind, school.only, school.school,
               after_code, limit}));
  std::vector<CourseRecord> out;
  for (const auto& r : rows) out.push_back(CourseFromRow(r, true));
  return out;
}

absl::StatusOr<std::vector<std::string>> ListCourseCodes(SqlConnection& c) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT code FROM courses ORDER BY code"));
  std::vector<std::string> codes;
  for (const auto& r : rows) codes.push_back(r.Str(0));
  return codes;
}

absl::StatusOr<bool> TakeSeat(SqlConnection& c, const std::string& code) {
  ASSIGN_OR_RETURN(const int64_t taken,
                   c.Execute("UPDATE courses SET taken = taken + 1 WHERE "
                             "code = ? AND taken < capacity",
                             {code}));
  return taken == 1;
}

absl::Status FreeSeat(SqlConnection& c, const std::string& code) {
  return c
      .Execute(
          "UPDATE courses SET taken = taken - 1 WHERE code = ? AND "
          "taken > 0",
          {code})
      .status();
}

absl::StatusOr<std::vector<std::pair<std::string, CourseFill>>> ReadCourseFill(
    SqlConnection& c, const std::vector<std::string>& codes) {
  std::vector<std::pair<std::string, CourseFill>> out;
  for (const auto& code : codes) {
    ASSIGN_OR_RETURN(
        auto r, c.Query("SELECT capacity, taken, (SELECT COUNT(*) FROM "
                        "applications a WHERE a.course_code = courses.code "
                        "AND a.state = 2) FROM courses WHERE code = ?",
                        {code}));
    if (r.empty()) continue;
    out.push_back(
        {code, {r.front().Int(0), r.front().Int(1), r.front().Int(2)}});
  }
  return out;
}

}  // namespace eduaid::vocational
