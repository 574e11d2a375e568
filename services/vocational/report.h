// The arithmetic of the vocational report, as pure functions (no SQL, no
// RPC): per-course counts summed into groups (region, school or provider,
// course) and a total, and the rates in basis points.
#ifndef EDUAID_SERVICES_VOCATIONAL_REPORT_H_
#define EDUAID_SERVICES_VOCATIONAL_REPORT_H_

#include <cstdint>
#include <map>
#include <string>

#include "eduaid/vocational/v1/vocational.pb.h"

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;

// What the report counts of one course.
struct ReportCourse {
  std::string code, name;
  int64_t kind = 0;
  std::string region, school_code, school_name, provider;
  int64_t capacity = 0, taken = 0;
  int64_t enrolled = 0, waitlisted = 0, withdrawn = 0, admitted = 0,
          completed = 0, certified = 0, employed = 0, further_study = 0;
  int64_t attendance_days = 0, present_days = 0;
  int64_t grants_pending = 0, grants_delivered = 0, grants_rejected = 0;
};

// part / whole in basis points (0 when whole is 0).
int32_t RateBp(int64_t part, int64_t whole);

// The (key, label) of the group `course` falls in: its county; its school
// (majors) or "provider:<provider>" (classes); or the course itself.
std::pair<std::string, std::string> ReportGroupOf(pb::ReportGrouping grouping,
                                                  const ReportCourse& course);

// Sums courses into groups and a total.
class ReportTotals {
 public:
  explicit ReportTotals(pb::ReportGrouping grouping) : grouping_(grouping) {}
  void Add(const ReportCourse& course);
  // The groups in key order and the total (keyed `total_key`), with rates.
  void Finish(const std::string& total_key, pb::GetReportResponse* resp);

 private:
  // Taken places, attendance days and present days travel beside the row
  // because the rates need them.
  struct Tally {
    pb::ReportRow row;
    int64_t taken = 0, days = 0, present = 0;
  };
  static void AddInto(const ReportCourse& c, Tally* t);
  static void FinishRates(Tally* t);

  pb::ReportGrouping grouping_;
  std::map<std::string, Tally> groups_;
  Tally total_;
};

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_REPORT_H_
