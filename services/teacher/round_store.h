// The support-teaching rounds and their inputs as stored: tables rounds,
// round_demands, round_nominations, round_constraints, and the placements
// a published round writes into placement_history. Every SQL statement on
// these tables lives here, beside the record it reads.
//
// All functions run inside a caller's transaction or read (`c`), return
// the database's error unchanged, and are thread-compatible (one
// connection per call).
#ifndef EDUAID_SERVICES_TEACHER_ROUND_STORE_H_
#define EDUAID_SERVICES_TEACHER_ROUND_STORE_H_

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/common/sql.h"
#include "services/teacher/assignment.h"

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;

// ---------------------------------------------------------------- rounds

struct RoundRecord {
  int64_t id = 0;
  std::string name;
  std::string region_prefix;
  int term_year = 0;
  int term_season = 0;
  int64_t term_index = 0;
  SupportRules rules;
  int state = 0;  // pb::RoundState
  int64_t version = 0;
  std::string solution;  // base64 of pb::Solution, "" when none
  int64_t filled = 0;
  int64_t total_cost = 0;
  std::string created_by;
  int64_t created_at = 0, solved_at = 0, published_at = 0;  // seconds

  bool Is(pb::RoundState s) const { return state == static_cast<int>(s); }
};

// Columns in the order FromRoundRow() reads them.
inline constexpr char kRoundColumns[] =
    "id, name, region_prefix, term_year, term_season, term_index, "
    "max_consecutive, max_per_source, allow_same_school, state, version, "
    "solution, filled, total_cost, created_by, created_at, solved_at, "
    "published_at";
RoundRecord FromRoundRow(const SqlRow& row);

// The round's own fields (not the demand/nomination counts, which
// CountRoundInputs reads). Filled slots and cost only once solved.
void ToProto(const RoundRecord& r, pb::Round* out);

// NOT_FOUND ("no such round") when absent.
absl::StatusOr<RoundRecord> LoadRound(SqlConnection& c, int64_t round_id);

// Inserts a DRAFT round; its id.
absl::StatusOr<int64_t> InsertRound(SqlConnection& c, const RoundRecord& r);

// Bumps the round's version, which takes its row lock (PostgreSQL) so that
// changes to one round's inputs and its solve serialise. NOT_FOUND when
// absent.
absl::Status LockRound(SqlConnection& c, int64_t round_id);

absl::Status SetRoundState(SqlConnection& c, int64_t round_id,
                           pb::RoundState state);

// Stores a solution: state SOLVED, its figures and solved_at.
absl::Status SaveSolution(SqlConnection& c, int64_t round_id,
                          const std::string& solution_b64, int64_t filled,
                          int64_t total_cost, int64_t now_sec);

// state PUBLISHED at `now_sec`.
absl::Status MarkPublished(SqlConnection& c, int64_t round_id, int64_t now_sec);

// Other SOLVED rounds of the term back to DRAFT (their solutions may place
// teachers a published round placed).
absl::Status UnsolveOtherRoundsOfTerm(SqlConnection& c, int64_t term_index,
                                      int64_t except_round_id);

// SOLVED rounds nominating the teacher back to DRAFT (bumping versions).
absl::Status UnsolveRoundsNominating(SqlConnection& c, int64_t teacher_id);

// Demanded slots and nominated teachers of the round.
struct RoundInputCounts {
  int64_t demanded_slots = 0;
  int64_t nominated_teachers = 0;
};
absl::StatusOr<RoundInputCounts> CountRoundInputs(SqlConnection& c,
                                                  int64_t round_id);

// Ids of rounds inside `region` or wider rounds it takes part in, after
// `after_id`, in id order, at most `limit`.
absl::StatusOr<std::vector<int64_t>> ListRoundIds(SqlConnection& c,
                                                  const std::string& region,
                                                  int64_t after_id,
                                                  int64_t limit);

// ---------------------------------------------------------------- demand

struct DemandRecord {
  std::string school_code;
  std::string subject;
  std::string school_name;
  std::string region_code;
  int stage = 0;
  int slots = 0;
};

// Columns in the order FromDemandRow() reads them.
inline constexpr char kDemandColumns[] =
    "school_code, subject, school_name, region_code, stage, slots";
DemandRecord FromDemandRow(const SqlRow& row);
void ToProto(const DemandRecord& d, pb::DemandLine* out);

// The round's demand lines by school and subject.
absl::StatusOr<std::vector<DemandRecord>> LoadDemands(SqlConnection& c,
                                                      int64_t round_id);

// Inserts or replaces the line (round, school, subject).
absl::Status UpsertDemand(SqlConnection& c, int64_t round_id,
                          const pb::DemandLine& d);

// Removes the line; with the school's last line go the constraints on it.
absl::Status DeleteDemand(SqlConnection& c, int64_t round_id,
                          const std::string& school_code,
                          const std::string& subject);

absl::StatusOr<bool> HasDemandAtSchool(SqlConnection& c, int64_t round_id,
                                       const std::string& school_code);

// ---------------------------------------------------------------- nominees

// A nomination with the nominated teacher's fields.
struct NominationRecord {
  int64_t teacher_id = 0;
  std::vector<std::string> preferences;  // school codes
  std::string school_code;
  std::string region_code;
  std::vector<std::string> subjects;
  int stage = 0;
  bool active = false;
};

// Columns (nominations n JOIN teachers t) in the order FromNominationRow()
// reads them.
inline constexpr char kNominationColumns[] =
    "n.teacher_id, n.preferences, t.school_code, t.region_code, "
    "t.subjects, t.stage, t.active";
NominationRecord FromNominationRow(const SqlRow& row);
// Without the name, which is filled in after the read.
void ToProto(const NominationRecord& n, pb::NominatedTeacher* out);

// The round's nominations by teacher id.
absl::StatusOr<std::vector<NominationRecord>> LoadNominations(SqlConnection& c,
                                                              int64_t round_id);

absl::Status UpsertNomination(SqlConnection& c, int64_t round_id,
                              int64_t teacher_id,
                              const std::string& preferences,
                              const std::string& nominated_by);

// Withdraws the nomination and the constraints on the teacher.
absl::Status DeleteNomination(SqlConnection& c, int64_t round_id,
                              int64_t teacher_id);

absl::StatusOr<bool> IsNominated(SqlConnection& c, int64_t round_id,
                                 int64_t teacher_id);

// Placement history of the round's nominees: teacher id -> term -> school.
absl::StatusOr<std::unordered_map<int64_t, std::map<int64_t, std::string>>>
LoadNomineeHistory(SqlConnection& c, int64_t round_id);

// ---------------------------------------------------------------- constraints

struct ConstraintRecord {
  int64_t teacher_id = 0;
  std::string school_code;
  int kind = 0;  // pb::ConstraintKind
  std::string set_by;
};

// Columns in the order FromConstraintRow() reads them.
inline constexpr char kConstraintColumns[] =
    "teacher_id, school_code, kind, set_by";
ConstraintRecord FromConstraintRow(const SqlRow& row);
void ToProto(const ConstraintRecord& k, pb::PlacementConstraint* out);

// The round's constraints by teacher and school.
absl::StatusOr<std::vector<ConstraintRecord>> LoadConstraints(SqlConnection& c,
                                                              int64_t round_id);

// Sets PIN or FORBID on (teacher, school); a PIN first lifts the teacher's
// other pins.
absl::Status SetConstraint(SqlConnection& c, int64_t round_id,
                           int64_t teacher_id, const std::string& school_code,
                           pb::ConstraintKind kind, const std::string& set_by);

absl::Status ClearConstraint(SqlConnection& c, int64_t round_id,
                             int64_t teacher_id,
                             const std::string& school_code);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_ROUND_STORE_H_
