#include "services/registry/coverage_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"
#include "services/registry/rules.h"

namespace eduaid::registry {

CoverageRecord FromCoverageRow(const SqlRow& r) {
  CoverageRecord g;
  g.region_code = r.Str(0);
  g.households = r.Int(1);
  g.members = r.Int(2);
  g.school_age = r.Int(3);
  g.identified = r.Int(4);
  g.in_school = r.Int(5);
  g.out_of_school = r.Int(6);
  g.left_behind = r.Int(7);
  g.disability_plans = r.Int(8);
  g.home_taught = r.Int(9);
  g.studying_elsewhere = r.Int(10);
  g.disabled = r.Int(11);
  return g;
}

void ToProto(const CoverageRecord& r, pb::RegionCoverage* out) {
  out->set_region_code(r.region_code);
  out->set_households(r.households);
  out->set_members(r.members);
  out->set_school_age(r.school_age);
  out->set_identified(r.identified);
  out->set_in_school(r.in_school);
  out->set_out_of_school(r.out_of_school);
  out->set_left_behind(r.left_behind);
  out->set_disability_plans(r.disability_plans);
  out->set_home_taught(r.home_taught);
  out->set_studying_elsewhere(r.studying_elsewhere);
  out->set_disabled(r.disabled);
  out->set_disabled_without_plan(r.disabled - r.disability_plans);
  out->set_disability_plan_rate(PlanRate(r.disability_plans, r.disabled));
}

void AddCoverage(const pb::RegionCoverage& g, pb::RegionCoverage* total) {
  total->set_households(total->households() + g.households());
  total->set_members(total->members() + g.members());
  total->set_school_age(total->school_age() + g.school_age());
  total->set_identified(total->identified() + g.identified());
  total->set_in_school(total->in_school() + g.in_school());
  total->set_out_of_school(total->out_of_school() + g.out_of_school());
  total->set_open_cases(total->open_cases() + g.open_cases());
  total->set_left_behind(total->left_behind() + g.left_behind());
  total->set_disability_plans(total->disability_plans() + g.disability_plans());
  total->set_home_taught(total->home_taught() + g.home_taught());
  total->set_studying_elsewhere(total->studying_elsewhere() +
                                g.studying_elsewhere());
  total->set_disabled(total->disabled() + g.disabled());
  total->set_disabled_without_plan(total->disabled_without_plan() +
                                   g.disabled_without_plan());
}

absl::StatusOr<std::vector<CoverageRecord>> CountCoverage(
    SqlConnection& c, const std::pair<std::string, std::string>& band,
    const std::string& region_prefix, const std::string& school) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat(
              "SELECT ", kCoverageColumns,
              " FROM members m "
              "LEFT JOIN enrolments e ON e.id_hash = m.id_hash AND e.current = "
              "1 "
              "LEFT JOIN out_of_school o ON o.member_id = m.id AND "
              " o.resolved_at IS NULL "
              "LEFT JOIN left_behind lb ON lb.member_id = m.id "
              "LEFT JOIN disability_plans dp ON dp.member_id = m.id "
              "LEFT JOIN schooling_arrangements a ON a.member_id = m.id AND "
              "a.running = 1 "
              "WHERE m.region_code LIKE ? AND (? = '' OR e.school_code = ?) "
              "GROUP BY m.region_code ORDER BY m.region_code"),
          {band.first, band.second, region_prefix + "%", school, school}));
  std::vector<CoverageRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromCoverageRow(r));
  return out;
}

}  // namespace eduaid::registry
