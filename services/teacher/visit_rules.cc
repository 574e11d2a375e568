#include "services/teacher/visit_rules.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"

namespace eduaid::teacher {

using internal::JoinList;
using internal::SplitList;

AssignmentPlan PlanAssignment(
    std::vector<HouseholdNeed>& found,
    const std::unordered_map<std::string, StoredHousehold>& stored) {
  AssignmentPlan plan;
  std::unordered_set<std::string> seen;
  for (auto& n : found) {
    seen.insert(n.household_id);
    auto it = stored.find(n.household_id);
    if (it == stored.end()) {
      n.stored = false;
      plan.pending.push_back(n);
      continue;
    }
    const StoredHousehold& e = it->second;
    n.stored = true;
    if (JoinList(n.schools) != e.schools || JoinList(n.members) != e.members ||
        n.students != e.students || n.out_of_school != e.out_of_school) {
      plan.relisted.push_back(&n);
    }
    const bool at_school = std::find(n.schools.begin(), n.schools.end(),
                                     e.teacher_school) != n.schools.end();
    const bool in_county = e.rule == pb::ASSIGNMENT_RULE_COUNTY &&
                           e.teacher_region == n.region_code;
    const bool teacher_fits =
        e.teacher != 0 && e.teacher_active && (at_school || in_county);
    if (e.visits > 0 || teacher_fits) {
      ++plan.kept;
      continue;
    }
    if (e.teacher != 0) plan.released.push_back(n.household_id);
    plan.pending.push_back(n);
  }
  for (const auto& [id, e] : stored) {
    if (seen.count(id) || e.visits > 0) continue;
    if (e.teacher != 0 && e.teacher_active) {
      ++plan.kept;
      continue;
    }
    HouseholdNeed n;
    n.household_id = id;
    n.region_code = e.region_code;
    n.schools = SplitList(e.schools);
    n.members = SplitList(e.members);
    n.students = e.students;
    n.out_of_school = e.out_of_school;
    n.stored = true;
    if (e.teacher != 0) plan.released.push_back(id);
    plan.pending.push_back(std::move(n));
  }
  std::sort(plan.pending.begin(), plan.pending.end(),
            [](const HouseholdNeed& a, const HouseholdNeed& b) {
              return a.household_id < b.household_id;
            });
  return plan;
}

std::vector<int> AssignByCounty(const std::vector<std::string>& regions,
                                const std::vector<bool>& want,
                                std::vector<CountyTeacher>& teachers, int cap) {
  // Per county, the teachers with room as (load, id, index), least first.
  std::map<std::string, std::set<std::tuple<int, int64_t, int>>> room;
  for (int i = 0; i < static_cast<int>(teachers.size()); ++i) {
    const CountyTeacher& t = teachers[i];
    if (t.load < cap) room[t.region_code].insert({t.load, t.id, i});
  }
  std::vector<int> out(regions.size(), -1);
  for (size_t h = 0; h < regions.size(); ++h) {
    if (h >= want.size() || !want[h]) continue;
    auto it = room.find(regions[h]);
    if (it == room.end() || it->second.empty()) continue;
    auto first = it->second.begin();
    const auto [load, id, index] = *first;
    it->second.erase(first);
    out[h] = index;
    teachers[index].load = load + 1;
    if (load + 1 < cap) it->second.insert({load + 1, id, index});
  }
  return out;
}

UncoveredCause CauseAfterCountyRule(const HouseholdNeed& n,
                                    UncoveredCause school_cause) {
  if (n.schools.empty() || school_cause == UncoveredCause::kNone) {
    return UncoveredCause::kNoTeacherInCounty;
  }
  return school_cause;
}

std::string UncoveredDetail(
    const HouseholdNeed& n, UncoveredCause cause,
    const std::unordered_map<std::string, int>& teachers_at, int cap,
    int county_teachers) {
  const std::string list = n.schools.empty()
                               ? std::string("(no school on record)")
                               : absl::StrJoin(n.schools, ", ");
  std::string county;
  if (county_teachers == 0) {
    county = absl::StrCat("no school of county ", n.region_code,
                          " has an active teacher in the teacher registry");
  } else if (county_teachers > 0) {
    county = absl::StrCat("all ", county_teachers, " teacher",
                          county_teachers == 1 ? "" : "s", " of county ",
                          n.region_code, " already carry the cap of ", cap,
                          " households");
  }
  if (cause == UncoveredCause::kNoTeacherInCounty) {
    return absl::StrCat("no member is on a school roster, and ", county);
  }
  std::string school;
  if (cause == UncoveredCause::kNoTeacherAtSchool) {
    school = absl::StrCat("no active teacher of ", list,
                          " is in the teacher registry");
  } else {
    int staff = 0;
    for (const auto& s : n.schools) {
      auto it = teachers_at.find(s);
      if (it != teachers_at.end()) staff += it->second;
    }
    school = absl::StrCat("all ", staff, " teacher", staff == 1 ? "" : "s",
                          " of ", list, " already carry the cap of ", cap,
                          " households");
  }
  return county.empty() ? school : absl::StrCat(school, "; ", county);
}

namespace {

// The group of a household and its label (teachers' labels come later).
std::pair<std::string, std::string> GroupOf(const CoverageFact& f,
                                            pb::CoverageGrouping group) {
  if (group == pb::COVERAGE_GROUPING_REGION) {
    return {f.region_code, f.region_code};
  }
  if (group == pb::COVERAGE_GROUPING_SCHOOL) {
    if (f.teacher_id != 0) {
      return {f.teacher_school, f.teacher_school_name.empty()
                                    ? f.teacher_school
                                    : f.teacher_school_name};
    }
    auto schools = SplitList(f.schools);
    std::string k = schools.empty() ? "" : schools.front();
    return {k, absl::StrCat(k, " (no teacher)")};
  }
  if (f.teacher_id == 0) return {"", "uncovered"};
  return {TeacherIdString(f.teacher_id), ""};
}

void Count(const CoverageFact& f, bool past_due, pb::CoverageRow* row) {
  const bool visited = f.visits > 0;
  row->set_households(row->households() + 1);
  if (f.teacher_id != 0) row->set_assigned(row->assigned() + 1);
  if (f.teacher_id == 0) row->set_uncovered(row->uncovered() + 1);
  if (visited) row->set_visited(row->visited() + 1);
  if (!visited && past_due) row->set_overdue(row->overdue() + 1);
  if (f.last_risk == pb::DROPOUT_RISK_HIGH) {
    row->set_high_risk(row->high_risk() + 1);
  }
}

void SetCoverage(pb::CoverageRow* row) {
  row->set_coverage(row->households() ? static_cast<double>(row->visited()) /
                                            row->households()
                                      : 0.0);
}

}  // namespace

void TallyCoverage(
    const std::vector<CoverageFact>& facts, pb::CoverageGrouping group,
    bool past_due, const std::string& region,
    const std::function<std::string(const CoverageFact&)>& teacher_label,
    pb::GetCampaignCoverageResponse* resp) {
  std::map<std::string, pb::CoverageRow> groups;
  pb::CoverageRow* total = resp->mutable_total();
  total->set_key(region);
  total->set_label("total");
  for (const auto& f : facts) {
    auto [k, label] = GroupOf(f, group);
    auto [it, fresh] = groups.try_emplace(k);
    pb::CoverageRow& g = it->second;
    if (fresh) {
      g.set_key(k);
      if (group == pb::COVERAGE_GROUPING_TEACHER && f.teacher_id != 0) {
        label = teacher_label(f);
      }
      g.set_label(label);
    }
    Count(f, past_due, &g);
    Count(f, past_due, total);
  }
  for (auto& [k, g] : groups) {
    SetCoverage(&g);
    *resp->add_rows() = std::move(g);
  }
  SetCoverage(total);
}

}  // namespace eduaid::teacher
