// The reads behind the vocational report: per course of a region, kind
// and school scope, its places and applications by state (courses,
// applications), its attendance marks (attendance) and its grants by
// state (grant_outbox). Runs on the caller's read `c`.
#ifndef EDUAID_SERVICES_VOCATIONAL_REPORT_STORE_H_
#define EDUAID_SERVICES_VOCATIONAL_REPORT_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"
#include "services/vocational/report.h"

namespace eduaid::vocational {

// The courses under `region_prefix` of `kind` (0 = any) within `school`,
// in code order.
absl::StatusOr<std::vector<ReportCourse>> ReadReportCourses(
    SqlConnection& c, const std::string& region_prefix, int64_t kind,
    const SchoolScope& school);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_REPORT_STORE_H_
