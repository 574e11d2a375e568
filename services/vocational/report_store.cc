#include "services/vocational/report_store.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/vocational/grant_store.h"

namespace eduaid::vocational {
namespace {

// Columns in the order CourseCountsFromRow() reads them.
constexpr char kReportCourseColumns[] =
    "c.code, c.name, c.kind, c.region_code, c.school_code, "
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
    " THEN 1 ELSE 0 END), 0) ";

ReportCourse CourseCountsFromRow(const SqlRow& r) {
  ReportCourse c;
  c.code = r.Str(0);
  c.name = r.Str(1);
  c.kind = r.Int(2);
  c.region = r.Str(3);
  c.school_code = r.Str(4);
  c.school_name = r.Str(5);
  c.provider = r.Str(6);
  c.capacity = r.Int(7);
  c.taken = r.Int(8);
  c.enrolled = r.Int(9);
  c.waitlisted = r.Int(10);
  c.withdrawn = r.Int(11);
  c.admitted = r.Int(12);
  c.completed = r.Int(13);
  c.certified = r.Int(14);
  c.employed = r.Int(15);
  c.further_study = r.Int(16);
  return c;
}

}  // namespace

absl::StatusOr<std::vector<ReportCourse>> ReadReportCourses(
    SqlConnection& c, const std::string& region_prefix, int64_t kind,
    const SchoolScope& school) {
  const std::vector<SqlValue> filter = {region_prefix + "%", kind, kind,
                                        school.only, school.school};
  const std::string school_clause =
      absl::StrCat(" AND ", SchoolClause("c.school_code"), " ");
  ASSIGN_OR_RETURN(
      auto courses,
      c.Query(
          absl::StrCat(
              "SELECT ", kReportCourseColumns,
              "FROM courses c LEFT JOIN applications a ON a.course_code = "
              "c.code WHERE c.region_code LIKE ? AND (? = 0 OR c.kind = ?) ",
              school_clause,
              "GROUP BY c.code, c.name, c.kind, c.region_code, "
              "c.school_code, c.school_name, c.provider, c.capacity, "
              "c.taken ORDER BY c.code"),
          filter));
  ASSIGN_OR_RETURN(
      auto attendance,
      c.Query(absl::StrCat(
                  "SELECT a.course_code, COUNT(*), COALESCE(SUM(t.present), 0) "
                  "FROM attendance t JOIN applications a ON a.id = "
                  "t.application_id JOIN courses c ON c.code = a.course_code "
                  "WHERE c.region_code LIKE ? AND (? = 0 OR c.kind = ?)",
                  school_clause, "GROUP BY a.course_code"),
              filter));
  ASSIGN_OR_RETURN(
      auto grants,
      c.Query(absl::StrCat(
                  "SELECT a.course_code, g.state, COUNT(*) FROM grant_outbox g "
                  "JOIN applications a ON a.id = g.application_id "
                  "JOIN courses c ON c.code = a.course_code WHERE "
                  "c.region_code LIKE ? AND (? = 0 OR c.kind = ?)",
                  school_clause, "GROUP BY a.course_code, g.state"),
              filter));
  std::map<std::string, std::pair<int64_t, int64_t>> days;
  for (const auto& r : attendance) days[r.Str(0)] = {r.Int(1), r.Int(2)};
  std::map<std::string, std::map<int64_t, int64_t>> grant_counts;
  for (const auto& r : grants) grant_counts[r.Str(0)][r.Int(1)] = r.Int(2);
  std::vector<ReportCourse> out;
  for (const auto& r : courses) {
    ReportCourse course = CourseCountsFromRow(r);
    course.attendance_days = days[course.code].first;
    course.present_days = days[course.code].second;
    auto& gc = grant_counts[course.code];
    course.grants_pending = gc[kGrantPending];
    course.grants_delivered = gc[kGrantDelivered];
    course.grants_rejected = gc[kGrantRejected];
    out.push_back(std::move(course));
  }
  return out;
}

}  // namespace eduaid::vocational
