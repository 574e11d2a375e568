#include "services/teacher/campaign_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"

namespace eduaid::teacher {

namespace cpb = ::eduaid::common::v1;

namespace {

constexpr int kInsertBatch = 400;

// Narrows campaign_households (unqualified columns) to a school officer's
// school. Bind HouseholdSchoolParams().
constexpr char kHouseholdSchoolClause[] =
    "(? = 0 OR (? <> '' AND (schools LIKE ? ESCAPE '\\' OR teacher_id IN "
    "(SELECT t.id FROM teachers t WHERE t.school_code = ?))))";

absl::StatusOr<std::vector<HouseholdRecord>> HouseholdsOf(
    const std::vector<SqlRow>& rows) {
  std::vector<HouseholdRecord> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(FromHouseholdRow(r));
  return out;
}

}  // namespace

// ---------------------------------------------------------------- campaigns

CampaignRecord FromCampaignRow(const SqlRow& row) {
  CampaignRecord out;
  out.id = row.Int(0);
  out.name = row.Str(1);
  out.region_prefix = row.Str(2);
  out.term_year = static_cast<int>(row.Int(3));
  out.term_season = static_cast<int>(row.Int(4));
  out.term_index = row.Int(5);
  out.cap = static_cast<int>(row.Int(6));
  out.due_date = row.Str(7);
  out.state = static_cast<int>(row.Int(8));
  out.version = row.Int(9);
  out.created_at = row.Int(10);
  out.assigned_at = row.Int(11);
  return out;
}

void ToProto(const CampaignRecord& r, pb::Campaign* out) {
  out->set_campaign_id(r.id);
  out->set_name(r.name);
  out->set_region_prefix(r.region_prefix);
  out->mutable_term()->set_year(r.term_year);
  out->mutable_term()->set_season(static_cast<cpb::Season>(r.term_season));
  out->set_cap_per_teacher(r.cap);
  out->set_due_date(r.due_date);
  out->set_state(static_cast<pb::CampaignState>(r.state));
  out->set_created_at(
      FormatTimestamp(r.created_at * 1000, TimestampPrecision::kSeconds));
  out->set_assigned_at(
      FormatTimestamp(r.assigned_at * 1000, TimestampPrecision::kSeconds));
}

absl::StatusOr<CampaignRecord> LoadCampaign(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows, c.Query(absl::StrCat("SELECT ", kCampaignColumns,
                                                   " FROM campaigns "
                                                   "WHERE id = ?"),
                                      {id}));
  if (rows.empty()) return absl::NotFoundError("no such campaign");
  return FromCampaignRow(rows.front());
}

absl::StatusOr<int64_t> InsertCampaign(SqlConnection& c,
                                       const CampaignRecord& r,
                                       const std::string& created_by) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO campaigns(name, region_prefix, term_year, "
              "term_season, term_index, cap, due_date, state, version, "
              "created_by, created_at, assigned_at) "
              "VALUES(?,?,?,?,?,?,?,?,0,?,?,0) RETURNING id",
              {r.name, r.region_prefix, int64_t{r.term_year},
               int64_t{r.term_season}, r.term_index, int64_t{r.cap}, r.due_date,
               int64_t{pb::CAMPAIGN_STATE_DRAFT}, created_by, r.created_at}));
  return rows.front().Int(0);
}

absl::Status LockCampaign(SqlConnection& c, int64_t id) {
  return c
      .Execute("UPDATE campaigns SET version = version + 1 WHERE id = ?", {id})
      .status();
}

absl::Status MarkCampaignAssigned(SqlConnection& c, int64_t id,
                                  int64_t now_sec) {
  return c
      .Execute("UPDATE campaigns SET state = ?, assigned_at = ? WHERE id = ?",
               {int64_t{pb::CAMPAIGN_STATE_ACTIVE}, now_sec, id})
      .status();
}

absl::StatusOr<std::optional<std::pair<int64_t, std::string>>>
FindOverlappingCampaign(SqlConnection& c, int64_t term_index,
                        const std::string& region) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "SELECT id, region_prefix FROM campaigns WHERE term_index = ? AND "
          "(region_prefix LIKE ? OR ? LIKE region_prefix || '%') LIMIT 1",
          {term_index, region + "%", region}));
  if (rows.empty()) return std::nullopt;
  return std::make_pair(rows.front().Int(0), rows.front().Str(1));
}

absl::StatusOr<std::vector<int64_t>> ListCampaignIds(SqlConnection& c,
                                                     const std::string& region,
                                                     int64_t after_id,
                                                     int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id FROM campaigns WHERE (region_prefix LIKE ? OR ? LIKE "
              "region_prefix || '%') AND id > ? ORDER BY id LIMIT ?",
              {region + "%", region, after_id, limit}));
  std::vector<int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.Int(0));
  return ids;
}

absl::StatusOr<std::vector<int64_t>> CampaignsWithUnvisitedOf(
    SqlConnection& c, int64_t teacher_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT DISTINCT h.campaign_id FROM campaign_households h JOIN "
              "campaigns k ON k.id = h.campaign_id WHERE h.teacher_id = ? AND "
              "h.visits = 0 AND k.state = ? ORDER BY h.campaign_id",
              {teacher_id, int64_t{pb::CAMPAIGN_STATE_ACTIVE}}));
  std::vector<int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.Int(0));
  return ids;
}

// ---------------------------------------------------------------- households

std::vector<SqlValue> HouseholdSchoolParams(const Principal& p) {
  const internal::SchoolScope s = internal::SchoolScopeOf(p);
  return {s.only, s.school,
          absl::StrCat("%|", internal::EscapeLike(s.school), "|%"), s.school};
}

HouseholdRecord FromHouseholdRow(const SqlRow& r) {
  HouseholdRecord h;
  h.household_id = r.Str(0);
  h.region_code = r.Str(1);
  h.schools = internal::SplitList(r.Str(2));
  h.members = internal::SplitList(r.Str(3));
  h.teacher_id = r.Int(4);
  h.uncovered_reason = static_cast<int>(r.Int(5));
  h.uncovered_detail = r.Str(6);
  h.first_visit_date = r.Str(7);
  h.visits = r.Int(8);
  h.last_risk = static_cast<int>(r.Int(9));
  h.assignment_rule = static_cast<int>(r.Int(10));
  h.students = static_cast<int>(r.Int(11));
  h.out_of_school = static_cast<int>(r.Int(12));
  h.campaign_id = r.Int(13);
  return h;
}

void ToProto(const HouseholdRecord& r, const std::string& due_date,
             const std::string& today, pb::CampaignHousehold* h) {
  h->set_household_id(r.household_id);
  h->set_region_code(r.region_code);
  for (const auto& s : r.schools) h->add_school_codes(s);
  for (const auto& m : r.members) h->add_member_ids(m);
  if (r.teacher_id != 0) h->set_teacher_id(TeacherIdString(r.teacher_id));
  h->set_uncovered_reason(static_cast<pb::UncoveredReason>(r.uncovered_reason));
  h->set_uncovered_explanation(r.uncovered_detail);
  h->set_first_visit_date(r.first_visit_date);
  h->set_visits(static_cast<int32_t>(r.visits));
  h->set_visited(r.visits > 0);
  h->set_last_dropout_risk(static_cast<pb::DropoutRisk>(r.last_risk));
  h->set_assignment_rule(static_cast<pb::AssignmentRule>(r.assignment_rule));
  h->set_students(r.students);
  h->set_out_of_school(r.out_of_school);
  h->set_campaign_id(r.campaign_id);
  if (r.visits == 0 && today > due_date) {
    h->set_overdue(true);
    h->set_days_overdue(DaysBetween(due_date, today));
  }
}

absl::StatusOr<std::optional<HouseholdRecord>> LoadHousehold(
    SqlConnection& c, int64_t campaign_id, const std::string& household_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kHouseholdColumns,
                           " FROM campaign_households WHERE campaign_id = ? "
                           "AND household_id = ?"),
              {campaign_id, household_id}));
  if (rows.empty()) return std::nullopt;
  return FromHouseholdRow(rows.front());
}

absl::StatusOr<std::vector<HouseholdRecord>> LoadUncovered(SqlConnection& c,
                                                           int64_t campaign_id,
                                                           int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kHouseholdColumns,
                           " FROM campaign_households WHERE campaign_id = ? "
                           "AND teacher_id = 0 ORDER BY household_id LIMIT ?"),
              {campaign_id, limit}));
  return HouseholdsOf(rows);
}

absl::StatusOr<std::unordered_map<std::string, StoredHousehold>>
LoadStoredHouseholds(SqlConnection& c, int64_t campaign_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT h.household_id, h.schools, h.members, h.teacher_id, "
              "h.visits, COALESCE(t.school_code, ''), COALESCE(t.active, 0), "
              "h.assignment_rule, h.region_code, COALESCE(t.region_code, ''), "
              "h.students, h.out_of_school "
              "FROM campaign_households h LEFT JOIN teachers t ON t.id = "
              "h.teacher_id WHERE h.campaign_id = ?",
              {campaign_id}));
  std::unordered_map<std::string, StoredHousehold> out;
  for (const auto& r : rows) {
    StoredHousehold e;
    e.schools = r.Str(1);
    e.members = r.Str(2);
    e.teacher = r.Int(3);
    e.visits = r.Int(4);
    e.teacher_school = r.Str(5);
    e.teacher_active = r.Int(6) != 0;
    e.rule = static_cast<int>(r.Int(7));
    e.region_code = r.Str(8);
    e.teacher_region = r.Str(9);
    e.students = static_cast<int>(r.Int(10));
    e.out_of_school = static_cast<int>(r.Int(11));
    out[r.Str(0)] = std::move(e);
  }
  return out;
}

absl::StatusOr<std::vector<HouseholdNeed>> LoadUnvisitedOf(SqlConnection& c,
                                                           int64_t campaign_id,
                                                           int64_t teacher_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT household_id, region_code, schools, members, "
              "students, out_of_school FROM "
              "campaign_households WHERE campaign_id = ? AND teacher_id = ? "
              "AND visits = 0 ORDER BY household_id",
              {campaign_id, teacher_id}));
  std::vector<HouseholdNeed> needs;
  needs.reserve(rows.size());
  for (const auto& m : rows) {
    HouseholdNeed n;
    n.household_id = m.Str(0);
    n.region_code = m.Str(1);
    n.schools = internal::SplitList(m.Str(2));
    n.members = internal::SplitList(m.Str(3));
    n.students = static_cast<int>(m.Int(4));
    n.out_of_school = static_cast<int>(m.Int(5));
    n.stored = true;
    needs.push_back(std::move(n));
  }
  return needs;
}

absl::StatusOr<std::unordered_map<int64_t, int>> TeacherLoads(
    SqlConnection& c, int64_t campaign_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT teacher_id, COUNT(*) FROM campaign_households WHERE "
              "campaign_id = ? AND teacher_id <> 0 GROUP BY teacher_id",
              {campaign_id}));
  std::unordered_map<int64_t, int> load_of;
  for (const auto& r : rows) load_of[r.Int(0)] = static_cast<int>(r.Int(1));
  return load_of;
}

absl::Status UpdateHouseholdLists(SqlConnection& c, int64_t campaign_id,
                                  const HouseholdNeed& n, int64_t now_sec) {
  return c
      .Execute(
          "UPDATE campaign_households SET schools = ?, members = ?, "
          "students = ?, out_of_school = ?, updated_at = ? WHERE "
          "campaign_id = ? AND household_id = ?",
          {internal::JoinList(n.schools), internal::JoinList(n.members),
           int64_t{n.students}, int64_t{n.out_of_school}, now_sec, campaign_id,
           n.household_id})
      .status();
}

absl::Status ReleaseHousehold(SqlConnection& c, int64_t campaign_id,
                              const std::string& household_id) {
  return c
      .Execute(
          "UPDATE campaign_households SET teacher_id = 0 WHERE "
          "campaign_id = ? AND household_id = ?",
          {campaign_id, household_id})
      .status();
}

absl::Status ReleaseUnvisitedOf(SqlConnection& c, int64_t campaign_id,
                                int64_t teacher_id, int64_t now_sec) {
  return c
      .Execute(
          "UPDATE campaign_households SET teacher_id = 0, updated_at = ? "
          "WHERE campaign_id = ? AND teacher_id = ? AND visits = 0",
          {now_sec, campaign_id, teacher_id})
      .status();
}

absl::Status SetHouseholdTeacher(SqlConnection& c, int64_t campaign_id,
                                 const std::string& household_id,
                                 const Placement& p, int64_t now_sec) {
  return c
      .Execute(
          "UPDATE campaign_households SET teacher_id = ?, uncovered_reason = "
          "?, uncovered_detail = ?, assignment_rule = ?, updated_at = ? "
          "WHERE campaign_id = ? AND household_id = ?",
          {p.teacher_id, p.reason, p.detail, p.rule, now_sec, campaign_id,
           household_id})
      .status();
}

absl::Status HouseholdInserter::Add(const HouseholdNeed& n,
                                    const Placement& p) {
  for (SqlValue v :
       {SqlValue(campaign_id_), SqlValue(n.household_id),
        SqlValue(n.region_code), SqlValue(internal::JoinList(n.schools)),
        SqlValue(internal::JoinList(n.members)), SqlValue(p.teacher_id),
        SqlValue(p.reason), SqlValue(p.detail), SqlValue(p.rule),
        SqlValue(int64_t{n.students}), SqlValue(int64_t{n.out_of_school}),
        SqlValue(now_)}) {
    batch_.push_back(std::move(v));
  }
  if (++batched_ == kInsertBatch) return Flush();
  return absl::OkStatus();
}

absl::Status HouseholdInserter::Flush() {
  if (batched_ == 0) return absl::OkStatus();
  std::string sql =
      "INSERT INTO campaign_households(campaign_id, household_id, "
      "region_code, schools, members, teacher_id, uncovered_reason, "
      "uncovered_detail, assignment_rule, students, out_of_school, "
      "first_visit_date, visits, last_risk, updated_at) VALUES ";
  for (int i = 0; i < batched_; ++i) {
    absl::StrAppend(&sql, i ? "," : "", "(?,?,?,?,?,?,?,?,?,?,?,'',0,0,?)");
  }
  auto ins = c_.Execute(sql, batch_);
  batch_.clear();
  batched_ = 0;
  return ins.status();
}

absl::Status CountVisit(SqlConnection& c, int64_t campaign_id,
                        const std::string& household_id,
                        const std::string& visit_date, int risk,
                        int64_t visitor, int64_t now_sec) {
  return c
      .Execute(
          "UPDATE campaign_households SET visits = visits + 1, "
          "first_visit_date = CASE WHEN first_visit_date = '' OR "
          "first_visit_date > ? THEN ? ELSE first_visit_date END, "
          "last_risk = ?, teacher_id = CASE WHEN teacher_id = 0 THEN ? ELSE "
          "teacher_id END, uncovered_reason = 0, uncovered_detail = '', "
          "updated_at = ? WHERE campaign_id = ? AND household_id = ?",
          {visit_date, visit_date, int64_t{risk}, visitor, now_sec, campaign_id,
           household_id})
      .status();
}

absl::StatusOr<HouseholdCounts> CountHouseholds(SqlConnection& c,
                                                int64_t campaign_id,
                                                const std::string& region) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT COUNT(*), "
              "COALESCE(SUM(CASE WHEN teacher_id <> 0 THEN 1 ELSE 0 END), 0), "
              "COALESCE(SUM(CASE WHEN visits > 0 THEN 1 ELSE 0 END), 0) "
              "FROM campaign_households WHERE campaign_id = ? AND region_code "
              "LIKE ?",
              {campaign_id, region + "%"}));
  return HouseholdCounts{rows.front().Int(0), rows.front().Int(1),
                         rows.front().Int(2)};
}

absl::StatusOr<std::vector<CountyVisits>> VisitsPerCounty(
    SqlConnection& c, int64_t campaign_id, const std::string& region) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "SELECT region_code, COUNT(*), "
          "COALESCE(SUM(CASE WHEN visits > 0 THEN 1 ELSE 0 END), 0) FROM "
          "campaign_households WHERE campaign_id = ? AND region_code LIKE ? "
          "GROUP BY region_code",
          {campaign_id, region + "%"}));
  std::vector<CountyVisits> out;
  for (const auto& r : rows) out.push_back({r.Str(0), r.Int(1), r.Int(2)});
  return out;
}

absl::StatusOr<std::vector<CoverageFact>> LoadCoverageFacts(
    SqlConnection& c, int64_t campaign_id, const std::string& region,
    std::vector<SqlValue> school_params) {
  std::vector<SqlValue> params = {campaign_id, region + "%"};
  for (auto& v : school_params) params.push_back(std::move(v));
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat(
                  "SELECT h.region_code, h.schools, h.teacher_id, h.visits, "
                  "h.last_risk, COALESCE(t.school_code, ''), "
                  "COALESCE(t.school_name, ''), COALESCE(t.name_enc, '') FROM "
                  "campaign_households h LEFT JOIN teachers t ON t.id = "
                  "h.teacher_id WHERE h.campaign_id = ? AND h.region_code "
                  "LIKE ? AND ",
                  kHouseholdSchoolClause),
              params));
  std::vector<CoverageFact> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    out.push_back({r.Str(0), r.Str(1), r.Int(2), r.Int(3), r.Int(4), r.Str(5),
                   r.Str(6), r.Str(7)});
  }
  return out;
}

namespace {

// The WHERE clause of a household query and its parameters.
std::pair<std::string, std::vector<SqlValue>> HouseholdWhere(
    const HouseholdQuery& q) {
  std::string where = absl::StrCat(
      "campaign_id = ? AND region_code LIKE ? AND (? = 0 OR teacher_id = ?) "
      "AND ",
      kHouseholdSchoolClause);
  switch (q.filter) {
    case pb::HOUSEHOLD_FILTER_UNVISITED:
      where += " AND visits = 0";
      break;
    case pb::HOUSEHOLD_FILTER_OVERDUE:
      where += q.past_due ? " AND visits = 0" : " AND 1 = 0";
      break;
    case pb::HOUSEHOLD_FILTER_UNCOVERED:
      where += " AND teacher_id = 0";
      break;
    case pb::HOUSEHOLD_FILTER_VISITED:
      where += " AND visits > 0";
      break;
    default:
      break;
  }
  std::vector<SqlValue> params = {q.campaign_id, q.region + "%", q.teacher_id,
                                  q.teacher_id};
  for (const auto& v : q.school_params) params.push_back(v);
  return {std::move(where), std::move(params)};
}

}  // namespace

absl::StatusOr<std::vector<HouseholdRecord>> ListHouseholds(
    SqlConnection& c, const HouseholdQuery& q, const std::string& after_id,
    int64_t limit) {
  auto [where, params] = HouseholdWhere(q);
  params.push_back(after_id);
  params.push_back(limit);
  ASSIGN_OR_RETURN(
      auto rows, c.Query(absl::StrCat("SELECT ", kHouseholdColumns,
                                      " FROM campaign_households WHERE ", where,
                                      " AND household_id > ? ORDER BY "
                                      "household_id LIMIT ?"),
                         params));
  return HouseholdsOf(rows);
}

absl::StatusOr<int64_t> CountMatchingHouseholds(SqlConnection& c,
                                                const HouseholdQuery& q) {
  auto [where, params] = HouseholdWhere(q);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT COUNT(*) FROM campaign_households WHERE ",
                           where),
              params));
  return rows.front().Int(0);
}

namespace {

// The WHERE clause of a teacher's own households and its parameters.
std::pair<std::string, std::vector<SqlValue>> TeacherHouseholdWhere(
    const MyHouseholdQuery& q) {
  std::string where =
      "h.teacher_id = ? AND ((? = 0 AND k.state = ?) OR h.campaign_id = ?)";
  std::vector<SqlValue> params = {q.teacher_id, q.campaign_id,
                                  int64_t{pb::CAMPAIGN_STATE_ACTIVE},
                                  q.campaign_id};
  switch (q.filter) {
    case pb::HOUSEHOLD_FILTER_UNVISITED:
      where += " AND h.visits = 0";
      break;
    case pb::HOUSEHOLD_FILTER_OVERDUE:
      where += " AND h.visits = 0 AND k.due_date < ?";
      params.push_back(q.today);
      break;
    case pb::HOUSEHOLD_FILTER_UNCOVERED:
      where += " AND 1 = 0";  // a teacher's households have a teacher
      break;
    case pb::HOUSEHOLD_FILTER_VISITED:
      where += " AND h.visits > 0";
      break;
    default:
      break;
  }
  return {std::move(where), std::move(params)};
}

// kHouseholdColumns qualified with the table alias h.
std::string QualifiedHouseholdColumns() {
  std::string out;
  for (absl::string_view col : absl::StrSplit(kHouseholdColumns, ", ")) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", "h.", col);
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<HouseholdRecord>> ListTeacherHouseholds(
    SqlConnection& c, const MyHouseholdQuery& q, int64_t after_campaign,
    const std::string& after_household, int64_t limit) {
  auto [where, params] = TeacherHouseholdWhere(q);
  params.push_back(after_campaign);
  params.push_back(after_campaign);
  params.push_back(after_household);
  params.push_back(limit);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat(
                  "SELECT ", QualifiedHouseholdColumns(),
                  " FROM campaign_households h JOIN campaigns k ON k.id = "
                  "h.campaign_id WHERE ",
                  where,
                  " AND (h.campaign_id > ? OR (h.campaign_id = ? AND "
                  "h.household_id > ?)) ORDER BY h.campaign_id, "
                  "h.household_id LIMIT ?"),
              params));
  return HouseholdsOf(rows);
}

absl::StatusOr<int64_t> CountTeacherHouseholds(SqlConnection& c,
                                               const MyHouseholdQuery& q) {
  auto [where, params] = TeacherHouseholdWhere(q);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT COUNT(*) FROM campaign_households h JOIN "
                           "campaigns k ON k.id = h.campaign_id WHERE ",
                           where),
              params));
  return rows.front().Int(0);
}

// ---------------------------------------------------------------- visits

absl::StatusOr<int64_t> InsertVisit(SqlConnection& c, const VisitInsert& v) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("INSERT INTO visits(campaign_id, household_id, teacher_id, "
              "visit_date, dropout_risk, evidence_ref, detail_enc, "
              "recorded_by, recorded_at) VALUES(?,?,?,?,?,?,?,?,?) RETURNING "
              "id",
              {v.campaign_id, v.household_id, v.teacher_id, v.visit_date,
               int64_t{v.dropout_risk}, v.evidence_ref, v.detail_enc,
               v.recorded_by, v.recorded_at}));
  return rows.front().Int(0);
}

}  // namespace eduaid::teacher
