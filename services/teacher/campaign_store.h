// Home-visit campaigns as stored: tables campaigns, campaign_households
// (a campaign's households and their assignment) and visits. Every SQL
// statement on these tables lives here, beside the record it reads.
//
// All functions run inside a caller's transaction or read (`c`), return
// the database's error unchanged, and are thread-compatible (one
// connection per call).
#ifndef EDUAID_SERVICES_TEACHER_CAMPAIGN_STORE_H_
#define EDUAID_SERVICES_TEACHER_CAMPAIGN_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "services/common/auth.h"
#include "services/common/sql.h"
#include "services/teacher/visit_rules.h"

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;

// ---------------------------------------------------------------- campaigns

struct CampaignRecord {
  int64_t id = 0;
  std::string name;
  std::string region_prefix;
  int term_year = 0;
  int term_season = 0;
  int64_t term_index = 0;
  int cap = 0;  // households per teacher
  std::string due_date;
  int state = 0;  // pb::CampaignState
  int64_t version = 0;
  int64_t created_at = 0, assigned_at = 0;  // seconds
};

// Columns in the order FromCampaignRow() reads them.
inline constexpr char kCampaignColumns[] =
    "id, name, region_prefix, term_year, term_season, term_index, cap, "
    "due_date, state, version, created_at, assigned_at";
CampaignRecord FromCampaignRow(const SqlRow& row);

// The campaign's own fields (not the household counts).
void ToProto(const CampaignRecord& r, pb::Campaign* out);

// NOT_FOUND ("no such campaign") when absent.
absl::StatusOr<CampaignRecord> LoadCampaign(SqlConnection& c, int64_t id);

// Inserts a DRAFT campaign; its id.
absl::StatusOr<int64_t> InsertCampaign(SqlConnection& c,
                                       const CampaignRecord& r,
                                       const std::string& created_by);

// Bumps the campaign's version: its row lock (PostgreSQL) for the rest of
// the transaction, and a new key for its cached coverage.
absl::Status LockCampaign(SqlConnection& c, int64_t id);

// state ACTIVE, assigned at `now_sec`.
absl::Status MarkCampaignAssigned(SqlConnection& c, int64_t id,
                                  int64_t now_sec);

// A campaign of the term whose region overlaps `region`: (id, region).
absl::StatusOr<std::optional<std::pair<int64_t, std::string>>>
FindOverlappingCampaign(SqlConnection& c, int64_t term_index,
                        const std::string& region);

// Ids of campaigns inside `region` or wider ones it takes part in.
absl::StatusOr<std::vector<int64_t>> ListCampaignIds(SqlConnection& c,
                                                     const std::string& region,
                                                     int64_t after_id,
                                                     int64_t limit);

// Active campaigns where the teacher carries unvisited households.
absl::StatusOr<std::vector<int64_t>> CampaignsWithUnvisitedOf(
    SqlConnection& c, int64_t teacher_id);

// ---------------------------------------------------------------- households

struct HouseholdRecord {
  std::string household_id;
  std::string region_code;
  std::vector<std::string> schools;
  std::vector<std::string> members;
  int64_t teacher_id = 0;  // 0 when uncovered
  int uncovered_reason = 0;
  std::string uncovered_detail;
  std::string first_visit_date;
  int64_t visits = 0;
  int last_risk = 0;
  int assignment_rule = 0;  // pb::AssignmentRule
  int students = 0, out_of_school = 0;
  int64_t campaign_id = 0;
};

// Columns in the order FromHouseholdRow() reads them.
inline constexpr char kHouseholdColumns[] =
    "household_id, region_code, schools, members, teacher_id, "
    "uncovered_reason, uncovered_detail, first_visit_date, visits, last_risk, "
    "assignment_rule, students, out_of_school, campaign_id";
HouseholdRecord FromHouseholdRow(const SqlRow& row);

// Without the teacher's name; overdue when unvisited after `due_date`.
void ToProto(const HouseholdRecord& h, const std::string& due_date,
             const std::string& today, pb::CampaignHousehold* out);

// nullopt when the household is not in the campaign.
absl::StatusOr<std::optional<HouseholdRecord>> LoadHousehold(
    SqlConnection& c, int64_t campaign_id, const std::string& household_id);

// Uncovered households by id, at most `limit`.
absl::StatusOr<std::vector<HouseholdRecord>> LoadUncovered(SqlConnection& c,
                                                           int64_t campaign_id,
                                                           int64_t limit);

// Every stored household of the campaign by id.
absl::StatusOr<std::unordered_map<std::string, StoredHousehold>>
LoadStoredHouseholds(SqlConnection& c, int64_t campaign_id);

// The teacher's unvisited households in the campaign, by id (stored).
absl::StatusOr<std::vector<HouseholdNeed>> LoadUnvisitedOf(SqlConnection& c,
                                                           int64_t campaign_id,
                                                           int64_t teacher_id);

// Households carried per teacher in the campaign.
absl::StatusOr<std::unordered_map<int64_t, int>> TeacherLoads(
    SqlConnection& c, int64_t campaign_id);

// The household's schools, members and counts as the registry lists them.
absl::Status UpdateHouseholdLists(SqlConnection& c, int64_t campaign_id,
                                  const HouseholdNeed& n, int64_t now_sec);

// Takes the household's teacher away (teacher_id 0).
absl::Status ReleaseHousehold(SqlConnection& c, int64_t campaign_id,
                              const std::string& household_id);

// Takes the teacher's unvisited households away from them.
absl::Status ReleaseUnvisitedOf(SqlConnection& c, int64_t campaign_id,
                                int64_t teacher_id, int64_t now_sec);

// How AssignPending placed one household: its teacher (0 with a reason
// when uncovered) and the rule (pb::AssignmentRule) that chose them.
struct Placement {
  int64_t teacher_id = 0;
  int64_t reason = 0;
  std::string detail;
  int64_t rule = 0;
};

// Sets a stored household's teacher.
absl::Status SetHouseholdTeacher(SqlConnection& c, int64_t campaign_id,
                                 const std::string& household_id,
                                 const Placement& p, int64_t now_sec);

// Inserts new households in multi-row batches. Lives within one
// transaction; Flush() must succeed before it commits.
class HouseholdInserter {
 public:
  HouseholdInserter(SqlConnection& c, int64_t campaign_id, int64_t now_sec)
      : c_(c), campaign_id_(campaign_id), now_(now_sec) {}
  absl::Status Add(const HouseholdNeed& n, const Placement& p);
  absl::Status Flush();

 private:
  SqlConnection& c_;
  const int64_t campaign_id_, now_;
  std::vector<SqlValue> batch_;
  int batched_ = 0;
};

// A visit counted on its household: visits, first visit date, last risk,
// the visitor as teacher when it had none.
absl::Status CountVisit(SqlConnection& c, int64_t campaign_id,
                        const std::string& household_id,
                        const std::string& visit_date, int risk,
                        int64_t visitor, int64_t now_sec);

// Households of the campaign (in `region`) counted.
struct HouseholdCounts {
  int64_t households = 0, assigned = 0, visited = 0;
};
absl::StatusOr<HouseholdCounts> CountHouseholds(SqlConnection& c,
                                                int64_t campaign_id,
                                                const std::string& region);

// Households and visited ones per county (of `region`).
struct CountyVisits {
  std::string region_code;
  int64_t households = 0, visited = 0;
};
absl::StatusOr<std::vector<CountyVisits>> VisitsPerCounty(
    SqlConnection& c, int64_t campaign_id, const std::string& region);

// The parameters narrowing households to a school officer's school:
// households with a student at that school or whose teacher teaches there.
std::vector<SqlValue> HouseholdSchoolParams(const Principal& p);

// The campaign's households in `region`, narrowed to the caller's school
// by `school_params` (HouseholdSchoolParams).
absl::StatusOr<std::vector<CoverageFact>> LoadCoverageFacts(
    SqlConnection& c, int64_t campaign_id, const std::string& region,
    std::vector<SqlValue> school_params);

// A page of households by id, and the count of all that match.
struct HouseholdQuery {
  int64_t campaign_id = 0;
  std::string region;  // prefix
  int64_t teacher_id = 0;
  pb::HouseholdFilter filter = pb::HOUSEHOLD_FILTER_UNSPECIFIED;
  bool past_due = false;
  std::vector<SqlValue> school_params;  // HouseholdSchoolParams
};
absl::StatusOr<std::vector<HouseholdRecord>> ListHouseholds(
    SqlConnection& c, const HouseholdQuery& q, const std::string& after_id,
    int64_t limit);
absl::StatusOr<int64_t> CountMatchingHouseholds(SqlConnection& c,
                                                const HouseholdQuery& q);

// A teacher's own households (ListMyHouseholds): in one campaign, or in
// every ACTIVE campaign when campaign_id is 0; ordered by (campaign,
// household). OVERDUE compares each campaign's due date with `today`.
struct MyHouseholdQuery {
  int64_t teacher_id = 0;
  int64_t campaign_id = 0;
  pb::HouseholdFilter filter = pb::HOUSEHOLD_FILTER_UNSPECIFIED;
  std::string today;
};
// The page after (after_campaign, after_household), at most `limit`.
absl::StatusOr<std::vector<HouseholdRecord>> ListTeacherHouseholds(
    SqlConnection& c, const MyHouseholdQuery& q, int64_t after_campaign,
    const std::string& after_household, int64_t limit);
absl::StatusOr<int64_t> CountTeacherHouseholds(SqlConnection& c,
                                               const MyHouseholdQuery& q);

// ---------------------------------------------------------------- visits

struct VisitInsert {
  int64_t campaign_id = 0;
  std::string household_id;
  int64_t teacher_id = 0;
  std::string visit_date;
  int dropout_risk = 0;
  std::string evidence_ref;
  std::string detail_enc;  // the whole pb::Visit, encrypted
  std::string recorded_by;
  int64_t recorded_at = 0;  // seconds
};
// The new visit's id.
absl::StatusOr<int64_t> InsertVisit(SqlConnection& c, const VisitInsert& v);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_CAMPAIGN_STORE_H_
