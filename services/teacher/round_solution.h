// A support-teaching round as the solver sees it (read from the round's
// stores) and the solver's answer as the API reports it. Used by SolveRound.
#ifndef EDUAID_SERVICES_TEACHER_ROUND_SOLUTION_H_
#define EDUAID_SERVICES_TEACHER_ROUND_SOLUTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/common/sql.h"
#include "services/teacher/assignment.h"
#include "services/teacher/round_store.h"

namespace eduaid::teacher {

// The solver's view of a round.
struct SolveInputs {
  std::vector<SupportDemand> demands;
  std::vector<std::string> school_names;  // per demand
  std::vector<SupportTeacher> teachers;
  std::vector<PairConstraint> constraints;
};

// Reads the round's demand, nominees (with their placement history read
// against the round's term) and constraints. FAILED_PRECONDITION:
// NO_DEMAND, NO_NOMINATIONS.
absl::StatusOr<SolveInputs> ReadSolveInputs(SqlConnection& c,
                                            const RoundRecord& round);

// The solution as answered (teacher names are filled in later), with the
// solve time.
void SolutionToProto(const SupportSolution& solved, const SolveInputs& in,
                     int64_t micros, pb::Solution* s);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_ROUND_SOLUTION_H_
