#include "services/vocational/report.h"

#include "absl/strings/str_cat.h"
#include "services/vocational/course_store.h"

namespace eduaid::vocational {

int32_t RateBp(int64_t part, int64_t whole) {
  return whole > 0 ? static_cast<int32_t>(part * 10000 / whole) : 0;
}

std::pair<std::string, std::string> ReportGroupOf(pb::ReportGrouping grouping,
                                                  const ReportCourse& c) {
  switch (grouping) {
    case pb::REPORT_GROUPING_COURSE:
      return {c.code, c.name};
    case pb::REPORT_GROUPING_SCHOOL:
      if (c.kind == kMajor) return {c.school_code, c.school_name};
      return {absl::StrCat("provider:", c.provider), c.provider};
    default:
      return {c.region, ""};
  }
}

void ReportTotals::AddInto(const ReportCourse& c, Tally* t) {
  pb::ReportRow& to = t->row;
  to.set_courses(to.courses() + 1);
  to.set_capacity(to.capacity() + c.capacity);
  to.set_enrolled(to.enrolled() + c.enrolled);
  to.set_waitlisted(to.waitlisted() + c.waitlisted);
  to.set_withdrawn(to.withdrawn() + c.withdrawn);
  to.set_admitted(to.admitted() + c.admitted);
  to.set_completed(to.completed() + c.completed);
  to.set_certified(to.certified() + c.certified);
  to.set_employed(to.employed() + c.employed);
  to.set_further_study(to.further_study() + c.further_study);
  to.set_grants_pending(to.grants_pending() + c.grants_pending);
  to.set_grants_delivered(to.grants_delivered() + c.grants_delivered);
  to.set_grants_rejected(to.grants_rejected() + c.grants_rejected);
  t->taken += c.taken;
  t->days += c.attendance_days;
  t->present += c.present_days;
}

void ReportTotals::FinishRates(Tally* t) {
  t->row.set_fill_rate_bp(RateBp(t->taken, t->row.capacity()));
  t->row.set_completion_rate_bp(RateBp(t->row.completed(), t->row.admitted()));
  t->row.set_employment_rate_bp(RateBp(t->row.employed(), t->row.completed()));
  t->row.set_attendance_rate_bp(RateBp(t->present, t->days));
}

void ReportTotals::Add(const ReportCourse& course) {
  auto [key, label] = ReportGroupOf(grouping_, course);
  Tally& g = groups_[key];
  g.row.set_key(key);
  g.row.set_label(label);
  AddInto(course, &g);
  AddInto(course, &total_);
}

void ReportTotals::Finish(const std::string& total_key,
                          pb::GetReportResponse* resp) {
  for (auto& [key, g] : groups_) {
    FinishRates(&g);
    *resp->add_rows() = g.row;
  }
  FinishRates(&total_);
  total_.row.set_key(total_key);
  total_.row.set_label("合计 total");
  *resp->mutable_total() = total_.row;
}

}  // namespace eduaid::vocational
