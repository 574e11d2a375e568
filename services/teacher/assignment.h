// The optimisation at the heart of the teacher service, free of storage and
// RPC so that tests and benchmarks call it directly:
//
// - SolveSupportRound: support-teaching placements (对口交流支教) as a
//   min-cost flow (LEMON NetworkSimplex). Filling the most demand comes
//   first, the least cost second; the rotation rules are arc exclusions and
//   capacities.
// - AssignVisits: home-visit households to teachers of their students'
//   schools, balanced under a cap, as a min-cost flow with convex load costs.
// - AllocateSeats: training seats to counties by weights, with the
//   largest-remainder method, in exact integer arithmetic.
//
// All functions are pure and thread-safe.
#ifndef EDUAID_SERVICES_TEACHER_ASSIGNMENT_H_
#define EDUAID_SERVICES_TEACHER_ASSIGNMENT_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace eduaid::teacher {

// ---------------------------------------------------------------- rounds

// A nominated teacher as the solver sees them.
struct SupportTeacher {
  std::string id;                     // "t-12"
  std::string source_school;          // school the teacher comes from
  std::string region_code;            // county of the source school
  std::vector<std::string> subjects;  // first = main subject
  int stage = 0;                      // eduaid.common.v1.SchoolStage, 0 = any
  bool active = true;
  // Placements served in terms before the round's term.
  int prior_placements = 0;
  // Consecutive terms served ending with the term just before the round's.
  int consecutive_terms = 0;
  // School of the most recent earlier placement ("" = none).
  std::string last_school;
  // Already placed in the round's term by another published round.
  bool placed_this_term = false;
  // Up to 5 school codes, most wanted first.
  std::vector<std::string> preferred_schools;
};

// A rural school's demand for one subject.
struct SupportDemand {
  std::string school_code;
  std::string region_code;
  std::string subject;
  int stage = 0;  // 0 = any
  int slots = 0;
};

struct SupportRules {
  int max_consecutive_terms = 2;  // N
  int max_per_source_school = 3;  // K
  bool allow_same_school_twice = false;
};

// An officer's pin (the teacher must go to the school) or forbid.
struct PairConstraint {
  std::string teacher_id;
  std::string school_code;
  bool pin = false;
};

struct CostTermValue {
  std::string factor;  // subject, stage, distance, prior_placements, preference
  int64_t points = 0;
  std::string explanation;
};

// Cost weights (integers, so optima are exact).
inline constexpr int64_t kCostSecondSubject = 30;
inline constexpr int64_t kCostStageDiffers = 40;
inline constexpr int64_t kCostSameCity = 20;
inline constexpr int64_t kCostSameProvince = 60;
inline constexpr int64_t kCostOtherProvince = 150;
inline constexpr int64_t kCostPerPriorPlacement = 10;
inline constexpr int kMaxCountedPriorPlacements = 5;
inline constexpr int64_t kCostPerPreferenceRank = 5;
inline constexpr int64_t kCostNotPreferred = 30;
// The largest cost of one placement.
inline constexpr int64_t kMaxPlacementCost =
    kCostSecondSubject + kCostStageDiffers + kCostOtherProvince +
    kCostPerPriorPlacement * kMaxCountedPriorPlacements + kCostNotPreferred;

// The cost of sending `t` to fill `d`, term by term; nullopt when the
// teacher does not teach the subject at all. Rules are not checked here.
std::optional<std::vector<CostTermValue>> PlacementCost(const SupportTeacher& t,
                                                        const SupportDemand& d);

// Why `t` may not fill `d` under `rules` and `constraints` ("" = allowed).
// Checks: left, already placed this term, N consecutive terms, same school
// twice running, forbidden, pinned to another school. Subject is not
// checked (see PlacementCost).
std::string RuleBlock(const SupportTeacher& t, const SupportDemand& d,
                      const SupportRules& rules,
                      const std::vector<PairConstraint>& constraints);

struct SupportPlacement {
  int teacher = 0;  // index into the teachers
  int demand = 0;   // index into the demands
  bool pinned = false;
  int64_t cost = 0;
  std::vector<CostTermValue> terms;
};

// Matches eduaid.teacher.v1.UnfilledReason.
enum class UnfilledCause {
  kNoTeacherWithSubject = 1,
  kRulesBlockAll = 2,
  kSourceSchoolLimit = 3,
  kPlacedElsewhere = 4,
};

struct SupportUnfilled {
  int demand = 0;
  int slots = 0;
  UnfilledCause cause = UnfilledCause::kNoTeacherWithSubject;
  std::string explanation;
};

struct SupportUnplaced {
  int teacher = 0;
  std::string explanation;
};

struct SupportSolution {
  std::vector<SupportPlacement> placements;  // by demand, then teacher
  std::vector<SupportUnfilled> unfilled;     // by demand
  std::vector<SupportUnplaced> unplaced;     // by teacher
  int demanded = 0;
  int filled = 0;
  int64_t total_cost = 0;  // of the placements (penalties excluded)
};

// The optimal placement: among all placements that respect the rules and
// constraints, one that fills the most slots and, among those, has the
// least total cost (lexicographic; exact, by min-cost flow).
// Errors: INVALID_ARGUMENT for malformed input (duplicate teacher ids,
// negative slots); FAILED_PRECONDITION (reason PIN_INFEASIBLE) when the
// pins cannot all be honoured, naming the pins.
absl::StatusOr<SupportSolution> SolveSupportRound(
    const std::vector<SupportTeacher>& teachers,
    const std::vector<SupportDemand>& demands, const SupportRules& rules,
    const std::vector<PairConstraint>& constraints);

// ---------------------------------------------------------------- visits

struct VisitTeacher {
  std::string school_code;
  int load = 0;  // households already carried in this campaign
};

struct VisitHousehold {
  std::vector<std::string> school_codes;  // schools of its students
};

// Matches eduaid.teacher.v1.UncoveredReason.
enum class UncoveredCause {
  kNone = 0,
  kNoTeacherAtSchool = 1,
  kTeachersAtCapacity = 2,
  kNoTeacherInCounty = 3,
};

struct VisitAssignment {
  // Per household: index into the teachers, or -1 when uncovered.
  std::vector<int> teacher_of;
  std::vector<UncoveredCause> cause;
  // Per teacher: load after the assignment.
  std::vector<int> load;
};

// Assigns every household to a teacher of one of its students' schools so
// that (1) the most households are covered and (2) loads are as even as
// possible (the sum over teachers of 1 + 2 + ... + load is least), with no
// teacher above `cap`. Households are interchangeable within the same set
// of schools, so the flow runs on (school set -> school) with convex
// per-school level costs, and each school's share is water-filled onto its
// teachers. Deterministic for equal input.
VisitAssignment AssignVisits(const std::vector<VisitHousehold>& households,
                             const std::vector<VisitTeacher>& teachers,
                             int cap);

// ---------------------------------------------------------------- training

struct CountyWeight {
  std::string region_code;
  int64_t students = 0;  // registered students
  int64_t shortage = 0;  // rural teacher shortage
};

struct CountySeats {
  std::string region_code;
  int seats = 0;
  int64_t quota_milli = 0;  // exact quota in thousandths, rounded down
  bool got_remainder_seat = false;
  int remainder_rank = 0;  // 1 = largest remainder
  std::string explanation;
};

// Splits `seats` among `counties` in proportion to
//   w_students * students/sum(students) + w_shortage * shortage/sum(shortage)
// (a share with a zero sum drops out and the other carries all the
// weight); integer parts first, the seats left go one each to the largest
// remainders (ties: more students, then region code). The counts sum to
// `seats` exactly. FAILED_PRECONDITION when every county has neither
// students nor shortage; INVALID_ARGUMENT for negative figures or weights.
absl::StatusOr<std::vector<CountySeats>> AllocateSeats(
    int seats, const std::vector<CountyWeight>& counties, int w_students,
    int w_shortage);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_ASSIGNMENT_H_
