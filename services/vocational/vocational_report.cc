// GetReport: places, applications, attendance, completion, outcomes and
// grants, grouped by county, school or provider, or course.
#include "absl/strings/str_cat.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/vocational/report.h"
#include "services/vocational/report_store.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {

absl::Status VocationalTraining::GetReport(CallContext& call,
                                           const pb::GetReportRequest& req,
                                           pb::GetReportResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::ReportGrouping_IsValid(req.group_by())) {
    return InvalidField("group_by", "is not a known grouping");
  }
  if (!pb::CourseKind_IsValid(req.kind())) {
    return InvalidField("kind", "is not a known course kind");
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ReportTotals totals(req.group_by() == pb::REPORT_GROUPING_UNSPECIFIED
                          ? pb::REPORT_GROUPING_REGION
                          : req.group_by());
  // A school officer's report covers its own school's majors.
  const SchoolScope school = SchoolScopeOf(call.principal);
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto courses,
                     ReadReportCourses(c, region, int64_t{req.kind()}, school));
    for (const ReportCourse& course : courses) totals.Add(course);
    return absl::OkStatus();
  }));
  totals.Finish(region, resp);
  call.AddRecord(absl::StrCat("report:", region));
  return absl::OkStatus();
}

}  // namespace eduaid::vocational
