// The rules of home-visit campaigns, free of storage and RPC: which
// households a new assignment must place, why a household stays
// uncovered, and coverage arithmetic. The assignment itself is
// AssignVisits (assignment.h). Pure and thread-safe.
#ifndef EDUAID_SERVICES_TEACHER_VISIT_RULES_H_
#define EDUAID_SERVICES_TEACHER_VISIT_RULES_H_

#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/teacher/assignment.h"

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;

// A household as a campaign needs it (from the registry or its row).
struct HouseholdNeed {
  std::string household_id;
  std::string region_code;
  std::vector<std::string> schools;  // sorted, unique
  std::vector<std::string> members;  // sorted, unique
  bool stored = false;               // already a row of the campaign
  // Members on a roster (enrolled or suspended) / out of school.
  int students = 0, out_of_school = 0;
};

// A stored household with its teacher's school and standing.
struct StoredHousehold {
  std::string schools, members;  // "|a|b|" lists
  int64_t teacher = 0;
  int64_t visits = 0;
  std::string teacher_school;
  bool teacher_active = false;
  int rule = 0;  // pb::AssignmentRule
  std::string region_code, teacher_region;
  int students = 0, out_of_school = 0;
};

// What a new assignment of a campaign does to its households.
struct AssignmentPlan {
  // Households to place, by id: new ones, and stored ones without a fitting
  // teacher (unvisited).
  std::vector<HouseholdNeed> pending;
  // Stored households that keep their teacher or were visited.
  int64_t kept = 0;
  // Stored households whose school or member lists changed.
  std::vector<const HouseholdNeed*> relisted;
  // Stored households whose teacher must be taken away first.
  std::vector<std::string> released;
};

// Plans the assignment of `found` (the registry's households; `stored` is
// set on each) against the campaign's `stored` rows. A stored household
// keeps a teacher who is active and teaches at one of its schools (or, when
// the county rule placed it, teaches in its county), and a visited one is
// never moved. Stored households the registry no longer
// lists keep their row; if unassigned they are tried again with the
// schools on record. `found` must outlive the plan.
AssignmentPlan PlanAssignment(
    std::vector<HouseholdNeed>& found,
    const std::unordered_map<std::string, StoredHousehold>& stored);

// A teacher as the county rule sees them.
struct CountyTeacher {
  int64_t id = 0;
  std::string region_code;  // 6-digit county of the teacher's school
  int load = 0;             // households carried in the campaign
};

// The county rule, for households the schools of their children could not
// place: in the order given, each household h with want[h] goes to the
// least-loaded teacher of its own county (regions[h] equal to the
// teacher's region_code) who carries fewer than `cap`; ties by teacher id.
// Per household: an index into `teachers`, or -1 (not wanted, or nobody in
// the county has room). The loads in `teachers` grow as households land.
std::vector<int> AssignByCounty(const std::vector<std::string>& regions,
                                const std::vector<bool>& want,
                                std::vector<CountyTeacher>& teachers, int cap);

// The reason recorded for a household that neither its children's schools
// (`school_cause`) nor the county rule could place: NO_TEACHER_IN_COUNTY
// when it has no school on record, else the schools' own cause.
UncoveredCause CauseAfterCountyRule(const HouseholdNeed& n,
                                    UncoveredCause school_cause);

// Why household `n` stays uncovered, for its row: no teacher at its
// schools, or all of them (`teachers_at` per school) at `cap`; when the
// county rule was tried too (`county_teachers` >= 0, the active teachers of
// its county), that none of them had room.
std::string UncoveredDetail(
    const HouseholdNeed& n, UncoveredCause cause,
    const std::unordered_map<std::string, int>& teachers_at, int cap,
    int county_teachers = -1);

// A household as coverage counts it, with its teacher's school and
// encrypted name.
struct CoverageFact {
  std::string region_code;
  std::string schools;  // "|a|b|"
  int64_t teacher_id = 0;
  int64_t visits = 0;
  int64_t last_risk = 0;
  std::string teacher_school, teacher_school_name, teacher_name_enc;
};

// Counts households, assigned, uncovered, visited, overdue (unvisited when
// `past_due`) and high-risk ones per group (county, school, or teacher, in
// key order) and in total (keyed `region`), with coverage = visited /
// households. Groups by teacher are labelled `teacher_label(fact)`, called
// once per teacher.
void TallyCoverage(
    const std::vector<CoverageFact>& facts, pb::CoverageGrouping group,
    bool past_due, const std::string& region,
    const std::function<std::string(const CoverageFact&)>& teacher_label,
    pb::GetCampaignCoverageResponse* resp);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_VISIT_RULES_H_
