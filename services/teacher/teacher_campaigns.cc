// Home-visit campaigns (万名教师大走访): households from the registry,
// balanced assignment to teachers, visits, coverage and overdue lists.
#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/cache.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"

namespace eduaid::teacher {

using internal::AddRowError;
using internal::Scope;

namespace {

constexpr int kUncoveredListed = 1000;
constexpr int kInsertBatch = 400;

absl::Status ValidateCampaignId(int64_t id) {
  if (id <= 0) return InvalidField("campaign_id", "must be positive");
  return absl::OkStatus();
}

// Narrows campaign_households (unqualified columns) to a school officer's
// school: households with a student at that school or whose teacher
// teaches there. Bind HouseholdSchoolParams().
constexpr char kHouseholdSchoolClause[] =
    "(? = 0 OR (? <> '' AND (schools LIKE ? ESCAPE '\\' OR teacher_id IN "
    "(SELECT t.id FROM teachers t WHERE t.school_code = ?))))";

std::vector<SqlValue> HouseholdSchoolParams(const Principal& p) {
  const internal::SchoolScope s = internal::SchoolScopeOf(p);
  return {s.only, s.school,
          absl::StrCat("%|", internal::EscapeLike(s.school), "|%"), s.school};
}

constexpr char kHouseholdCols[] =
    "household_id, region_code, schools, members, teacher_id, "
    "uncovered_reason, uncovered_detail, first_visit_date, visits, last_risk";

// Fills a household from a row of kHouseholdCols (names come later).
void FillHousehold(const SqlRow& r, const std::string& due_date,
                   const std::string& today, pb::CampaignHousehold* h) {
  h->set_household_id(r.Str(0));
  h->set_region_code(r.Str(1));
  for (auto& s : internal::SplitList(r.Str(2))) h->add_school_codes(s);
  for (auto& m : internal::SplitList(r.Str(3))) h->add_member_ids(m);
  if (r.Int(4) != 0) h->set_teacher_id(TeacherIdString(r.Int(4)));
  h->set_uncovered_reason(static_cast<pb::UncoveredReason>(r.Int(5)));
  h->set_uncovered_explanation(r.Str(6));
  h->set_first_visit_date(r.Str(7));
  h->set_visits(static_cast<int32_t>(r.Int(8)));
  h->set_visited(r.Int(8) > 0);
  h->set_last_dropout_risk(static_cast<pb::DropoutRisk>(r.Int(9)));
  if (r.Int(8) == 0 && today > due_date) {
    h->set_overdue(true);
    h->set_days_overdue(DaysBetween(due_date, today));
  }
}

std::string CoverageKey(int64_t campaign, int64_t version, int group,
                        const std::string& scope) {
  return CacheKey(
      "teacher", "coverage",
      absl::StrCat("c", campaign, ":v", version, ":g", group, ":r", scope));
}

}  // namespace

absl::StatusOr<TeacherSupport::CampaignRow> TeacherSupport::LoadCampaign(
    SqlConnection& c, int64_t id) {
  auto r = c.Query(
      "SELECT id, name, region_prefix, term_year, term_season, term_index, "
      "cap, due_date, state, version, created_at, assigned_at FROM campaigns "
      "WHERE id = ?",
      {id});
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::NotFoundError("no such campaign");
  const SqlRow& row = r->front();
  CampaignRow out;
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

absl::Status TeacherSupport::FillCampaign(SqlConnection& c,
                                          const CampaignRow& row,
                                          const std::string& scope,
                                          pb::Campaign* out) {
  out->set_campaign_id(row.id);
  out->set_name(row.name);
  out->set_region_prefix(row.region_prefix);
  out->mutable_term()->set_year(row.term_year);
  out->mutable_term()->set_season(static_cast<cpb::Season>(row.term_season));
  out->set_cap_per_teacher(row.cap);
  out->set_due_date(row.due_date);
  out->set_state(static_cast<pb::CampaignState>(row.state));
  out->set_created_at(
      FormatTimestamp(row.created_at * 1000, TimestampPrecision::kSeconds));
  out->set_assigned_at(
      FormatTimestamp(row.assigned_at * 1000, TimestampPrecision::kSeconds));
  auto n = c.Query(
      "SELECT COUNT(*), "
      "COALESCE(SUM(CASE WHEN teacher_id <> 0 THEN 1 ELSE 0 END), 0), "
      "COALESCE(SUM(CASE WHEN visits > 0 THEN 1 ELSE 0 END), 0) "
      "FROM campaign_households WHERE campaign_id = ? AND region_code LIKE ?",
      {row.id, scope + "%"});
  if (!n.ok()) return n.status();
  out->set_households(n->front().Int(0));
  out->set_assigned(n->front().Int(1));
  out->set_uncovered(n->front().Int(0) - n->front().Int(1));
  out->set_visited(n->front().Int(2));
  return absl::OkStatus();
}

absl::Status TeacherSupport::FillHouseholdNames(
    const Principal& p,
    google::protobuf::RepeatedPtrField<pb::CampaignHousehold>* households) {
  std::vector<int64_t> ids;
  for (const auto& h : *households) {
    auto id = ParseTeacherId("teacher_id", h.teacher_id());
    if (id.ok()) ids.push_back(*id);
  }
  auto names = TeacherNames(ids, p);
  if (!names.ok()) return names.status();
  for (auto& h : *households) {
    auto id = ParseTeacherId("teacher_id", h.teacher_id());
    if (id.ok()) h.set_teacher_name((*names)[*id]);
  }
  return absl::OkStatus();
}

void TeacherSupport::RefreshCoverageGauges(int64_t campaign_id,
                                           const std::string& region) {
  (void)db_.Read([&](SqlConnection& c) -> absl::Status {
    auto campaign = LoadCampaign(c, campaign_id);
    if (!campaign.ok()) return campaign.status();
    auto rows = c.Query(
        "SELECT region_code, COUNT(*), "
        "COALESCE(SUM(CASE WHEN visits > 0 THEN 1 ELSE 0 END), 0) FROM "
        "campaign_households WHERE campaign_id = ? AND region_code LIKE ? "
        "GROUP BY region_code",
        {campaign_id, region + "%"});
    if (!rows.ok()) return rows.status();
    const std::string term = absl::StrCat(
        campaign->term_year, "-",
        campaign->term_season == cpb::SEASON_AUTUMN ? "autumn" : "spring");
    for (const auto& r : *rows) {
      const double total = static_cast<double>(r.Int(1));
      coverage_gauge_->Add({{"region", r.Str(0)}, {"term", term}})
          .Set(total > 0 ? static_cast<double>(r.Int(2)) / total : 0.0);
    }
    return absl::OkStatus();
  });
}

absl::Status TeacherSupport::CreateCampaign(
    CallContext& call, const pb::CreateCampaignRequest& req,
    pb::CreateCampaignResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  std::vector<FieldViolation> v;
  auto add = [&](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st)) v.push_back(f);
  };
  add(ValidateText("name", req.name(), 100));
  if (req.region_prefix().empty()) {
    v.push_back({"region_prefix", "must be a 2, 4 or 6 digit region code"});
  } else {
    add(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  }
  absl::Status term_st = ValidateTerm("term", req.term());
  add(term_st);
  if (req.cap_per_teacher() < 1 || req.cap_per_teacher() > 500) {
    v.push_back({"cap_per_teacher", "must be 1..500"});
  }
  std::string due = req.due_date();
  if (term_st.ok()) {
    const std::string start = TermStart(req.term().year(), req.term().season());
    const std::string end = TermEnd(req.term().year(), req.term().season());
    if (due.empty()) {
      due = end;
    } else if (absl::Status d = ValidateDate("due_date", due); !d.ok()) {
      add(d);
    } else if (due < start || due > end) {
      v.push_back({"due_date", absl::StrCat("must lie within the term (", start,
                                            " .. ", end, ")")});
    }
  }
  if (!v.empty()) return InvalidFields(v);
  RETURN_IF_ERROR(CheckRegion(call.principal, req.region_prefix()));
  return host_.requests().Run(
      call.principal, "CreateCampaign", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        const int64_t term = TermIndex(req.term().year(), req.term().season());
        auto overlap = c.Query(
            "SELECT id, region_prefix FROM campaigns WHERE term_index = ? AND "
            "(region_prefix LIKE ? OR ? LIKE region_prefix || '%') LIMIT 1",
            {term, req.region_prefix() + "%", req.region_prefix()});
        if (!overlap.ok()) return overlap.status();
        if (!overlap->empty()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "CAMPAIGN_OVERLAPS",
              absl::StrCat("region_prefix: campaign ", overlap->front().Int(0),
                           " (", overlap->front().Str(1),
                           ") already covers households of this region in "
                           "this term"));
        }
        auto ins = c.Query(
            "INSERT INTO campaigns(name, region_prefix, term_year, "
            "term_season, term_index, cap, due_date, state, version, "
            "created_by, created_at, assigned_at) "
            "VALUES(?,?,?,?,?,?,?,?,0,?,?,0) RETURNING id",
            {req.name(), req.region_prefix(), int64_t{req.term().year()},
             int64_t{req.term().season()}, term, int64_t{req.cap_per_teacher()},
             due, int64_t{pb::CAMPAIGN_STATE_DRAFT}, call.principal.subject,
             NowSec()});
        if (!ins.ok()) return ins.status();
        auto row = LoadCampaign(c, ins->front().Int(0));
        if (!row.ok()) return row.status();
        call.AddRecord(absl::StrCat("campaign:", row->id));
        return FillCampaign(c, *row, "", resp->mutable_campaign());
      });
}

absl::StatusOr<std::vector<TeacherSupport::HouseholdNeed>>
TeacherSupport::FetchHouseholds(const std::string& region_prefix,
                                int64_t* students) {
  std::map<std::string, HouseholdNeed> by_id;
  *students = 0;
  // Households of enrolled, suspended and dropped-out children are all due a
  // visit; the last two most of all (控辍保学).
  for (auto status :
       {rpb::ENROLMENT_STATUS_ENROLLED, rpb::ENROLMENT_STATUS_SUSPENDED,
        rpb::ENROLMENT_STATUS_DROPPED_OUT}) {
    std::string token;
    do {
      rpb::ListStudentsRequest req;
      req.set_region_prefix(region_prefix);
      req.set_status(status);
      req.set_page_size(1000);
      req.set_page_token(token);
      rpb::ListStudentsResponse resp;
      grpc::ClientContext ctx;
      registry_channel_->Prepare(&ctx, options_.registry_deadline);
      grpc::Status s = registry_->ListStudents(&ctx, req, &resp);
      if (!s.ok())
        return PeerError(RegistryPeer(), s, "list the region's students");
      for (const auto& st : resp.students()) {
        ++*students;
        auto& need = by_id[st.household_id()];
        if (need.household_id.empty()) {
          need.household_id = st.household_id();
          need.region_code = st.region_code();
        }
        if (!st.current_enrolment().school_code().empty()) {
          need.schools.push_back(st.current_enrolment().school_code());
        }
        need.members.push_back(st.member_id());
      }
      if (static_cast<int64_t>(by_id.size()) > kMaxCampaignHouseholds) {
        return WithReason(
            absl::StatusCode::kFailedPrecondition, "CAMPAIGN_TOO_LARGE",
            absl::StrCat("the region holds more than ", kMaxCampaignHouseholds,
                         " households; open one campaign per county"));
      }
      token = resp.next_page_token();
    } while (!token.empty());
  }
  std::vector<HouseholdNeed> out;
  out.reserve(by_id.size());
  for (auto& [id, need] : by_id) {
    std::sort(need.schools.begin(), need.schools.end());
    need.schools.erase(std::unique(need.schools.begin(), need.schools.end()),
                       need.schools.end());
    std::sort(need.members.begin(), need.members.end());
    need.members.erase(std::unique(need.members.begin(), need.members.end()),
                       need.members.end());
    out.push_back(std::move(need));
  }
  return out;
}

absl::StatusOr<TeacherSupport::PendingResult> TeacherSupport::AssignPending(
    SqlConnection& c, const CampaignRow& campaign,
    const std::vector<HouseholdNeed>& needs) {
  PendingResult result;
  if (needs.empty()) return result;
  std::set<std::string> schools;
  for (const auto& n : needs)
    schools.insert(n.schools.begin(), n.schools.end());
  std::vector<std::string> school_list(schools.begin(), schools.end());
  std::vector<int64_t> teacher_ids;
  std::vector<VisitTeacher> teachers;
  constexpr size_t kChunk = 500;
  for (size_t at = 0; at < school_list.size(); at += kChunk) {
    const size_t n = std::min(kChunk, school_list.size() - at);
    std::string sql =
        "SELECT id, school_code FROM teachers WHERE active = 1 AND "
        "school_code IN (";
    std::vector<SqlValue> params;
    for (size_t i = 0; i < n; ++i) {
      absl::StrAppend(&sql, i ? ",?" : "?");
      params.push_back(school_list[at + i]);
    }
    sql += ") ORDER BY id";
    auto rows = c.Query(sql, params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      teacher_ids.push_back(r.Int(0));
      teachers.push_back({r.Str(1), 0});
    }
  }
  auto loads = c.Query(
      "SELECT teacher_id, COUNT(*) FROM campaign_households WHERE "
      "campaign_id = ? AND teacher_id <> 0 GROUP BY teacher_id",
      {campaign.id});
  if (!loads.ok()) return loads.status();
  std::unordered_map<int64_t, int> load_of;
  for (const auto& r : *loads) load_of[r.Int(0)] = static_cast<int>(r.Int(1));
  std::unordered_map<std::string, int> teachers_at;
  for (size_t i = 0; i < teachers.size(); ++i) {
    teachers[i].load = load_of[teacher_ids[i]];
    ++teachers_at[teachers[i].school_code];
  }
  std::vector<VisitHousehold> households;
  households.reserve(needs.size());
  for (const auto& n : needs) households.push_back({n.schools});

  const auto start = std::chrono::steady_clock::now();
  VisitAssignment a = AssignVisits(households, teachers, campaign.cap);
  result.micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  solve_campaign_seconds_->Observe(result.micros / 1e6);

  auto detail = [&](const HouseholdNeed& n, UncoveredCause cause) {
    const std::string list = n.schools.empty()
                                 ? std::string("(no school on record)")
                                 : absl::StrJoin(n.schools, ", ");
    if (cause == UncoveredCause::kNoTeacherAtSchool) {
      return absl::StrCat("no active teacher of ", list,
                          " is in the teacher registry");
    }
    int staff = 0;
    for (const auto& s : n.schools) staff += teachers_at[s];
    return absl::StrCat("all ", staff, " teacher", staff == 1 ? "" : "s",
                        " of ", list, " already carry the cap of ",
                        campaign.cap, " households");
  };
  const int64_t now = NowSec();
  std::vector<SqlValue> batch;
  int batched = 0;
  auto flush = [&]() -> absl::Status {
    if (batched == 0) return absl::OkStatus();
    std::string sql =
        "INSERT INTO campaign_households(campaign_id, household_id, "
        "region_code, schools, members, teacher_id, uncovered_reason, "
        "uncovered_detail, first_visit_date, visits, last_risk, updated_at) "
        "VALUES ";
    for (int i = 0; i < batched; ++i) {
      absl::StrAppend(&sql, i ? "," : "", "(?,?,?,?,?,?,?,?,'',0,0,?)");
    }
    auto ins = c.Execute(sql, batch);
    batch.clear();
    batched = 0;
    return ins.status();
  };
  for (size_t h = 0; h < needs.size(); ++h) {
    const HouseholdNeed& n = needs[h];
    const int t = a.teacher_of[h];
    const int64_t teacher = t >= 0 ? teacher_ids[t] : 0;
    const int64_t reason = t >= 0 ? 0 : static_cast<int64_t>(a.cause[h]);
    const std::string why = t >= 0 ? std::string() : detail(n, a.cause[h]);
    if (t >= 0) {
      ++result.assigned;
    } else {
      ++result.uncovered;
      result.uncovered_ids.push_back(n.household_id);
    }
    if (n.stored) {
      auto up = c.Execute(
          "UPDATE campaign_households SET teacher_id = ?, uncovered_reason = "
          "?, "
          "uncovered_detail = ?, updated_at = ? WHERE campaign_id = ? AND "
          "household_id = ?",
          {teacher, reason, why, now, campaign.id, n.household_id});
      if (!up.ok()) return up.status();
    } else {
      for (SqlValue v :
           {SqlValue(campaign.id), SqlValue(n.household_id),
            SqlValue(n.region_code), SqlValue(internal::JoinList(n.schools)),
            SqlValue(internal::JoinList(n.members)), SqlValue(teacher),
            SqlValue(reason), SqlValue(why), SqlValue(now)}) {
        batch.push_back(std::move(v));
      }
      if (++batched == kInsertBatch) RETURN_IF_ERROR(flush());
    }
  }
  RETURN_IF_ERROR(flush());
  if (!teachers.empty()) {
    result.min_load = *std::min_element(a.load.begin(), a.load.end());
    result.max_load = *std::max_element(a.load.begin(), a.load.end());
    for (int l : a.load) result.teachers_used += l > 0 ? 1 : 0;
  }
  return result;
}

absl::Status TeacherSupport::AssignCampaign(
    CallContext& call, const pb::AssignCampaignRequest& req,
    pb::AssignCampaignResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateCampaignId(req.campaign_id()));
  call.AddRecord(absl::StrCat("campaign:", req.campaign_id()));
  std::string region;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto row = LoadCampaign(c, req.campaign_id());
    if (!row.ok()) return row.status();
    region = row->region_prefix;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  RETURN_IF_ERROR(CheckRegion(call.principal, region));
  int64_t students = 0;
  auto fetched = FetchHouseholds(region, &students);
  if (!fetched.ok()) return fetched.status();
  std::vector<HouseholdNeed>& found = *fetched;
  st = host_.requests().Run(
      call.principal, "AssignCampaign", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto lock =
            c.Execute("UPDATE campaigns SET version = version + 1 WHERE id = ?",
                      {req.campaign_id()});
        if (!lock.ok()) return lock.status();
        auto campaign = LoadCampaign(c, req.campaign_id());
        if (!campaign.ok()) return campaign.status();
        const int64_t now = NowSec();
        struct Existing {
          std::string schools, members;
          int64_t teacher;
          int64_t visits;
          std::string teacher_school;
          bool teacher_active;
        };
        std::unordered_map<std::string, Existing> existing;
        auto rows = c.Query(
            "SELECT h.household_id, h.schools, h.members, h.teacher_id, "
            "h.visits, COALESCE(t.school_code, ''), COALESCE(t.active, 0) "
            "FROM campaign_households h LEFT JOIN teachers t ON t.id = "
            "h.teacher_id WHERE h.campaign_id = ?",
            {campaign->id});
        if (!rows.ok()) return rows.status();
        for (const auto& r : *rows) {
          existing[r.Str(0)] = {r.Str(1), r.Str(2), r.Int(3),
                                r.Int(4), r.Str(5), r.Int(6) != 0};
        }
        std::vector<HouseholdNeed> pending;
        std::unordered_set<std::string> seen;
        int64_t kept = 0;
        for (auto& n : found) {
          seen.insert(n.household_id);
          auto it = existing.find(n.household_id);
          if (it == existing.end()) {
            n.stored = false;
            pending.push_back(n);
            continue;
          }
          Existing& e = it->second;
          n.stored = true;
          const std::string schools = internal::JoinList(n.schools);
          const std::string members = internal::JoinList(n.members);
          if (schools != e.schools || members != e.members) {
            auto up = c.Execute(
                "UPDATE campaign_households SET schools = ?, members = ?, "
                "updated_at = ? WHERE campaign_id = ? AND household_id = ?",
                {schools, members, now, campaign->id, n.household_id});
            if (!up.ok()) return up.status();
          }
          const bool teacher_fits =
              e.teacher != 0 && e.teacher_active &&
              std::find(n.schools.begin(), n.schools.end(), e.teacher_school) !=
                  n.schools.end();
          if (e.visits > 0 || teacher_fits) {
            ++kept;
            continue;
          }
          if (e.teacher != 0) {
            auto rel = c.Execute(
                "UPDATE campaign_households SET teacher_id = 0 WHERE "
                "campaign_id = ? AND household_id = ?",
                {campaign->id, n.household_id});
            if (!rel.ok()) return rel.status();
          }
          pending.push_back(n);
        }
        // Stored households the registry no longer lists keep their row; if
        // unassigned they are tried again with the schools on record.
        for (const auto& [id, e] : existing) {
          if (seen.count(id) || e.visits > 0) continue;
          if (e.teacher != 0 && e.teacher_active) {
            ++kept;
            continue;
          }
          HouseholdNeed n;
          n.household_id = id;
          n.schools = internal::SplitList(e.schools);
          n.members = internal::SplitList(e.members);
          n.stored = true;
          if (e.teacher != 0) {
            auto rel = c.Execute(
                "UPDATE campaign_households SET teacher_id = 0 WHERE "
                "campaign_id = ? AND household_id = ?",
                {campaign->id, id});
            if (!rel.ok()) return rel.status();
          }
          pending.push_back(std::move(n));
        }
        std::sort(pending.begin(), pending.end(),
                  [](const HouseholdNeed& a, const HouseholdNeed& b) {
                    return a.household_id < b.household_id;
                  });
        auto done = AssignPending(c, *campaign, pending);
        if (!done.ok()) return done.status();
        auto up = c.Execute(
            "UPDATE campaigns SET state = ?, assigned_at = ? WHERE id = ?",
            {int64_t{pb::CAMPAIGN_STATE_ACTIVE}, now, campaign->id});
        if (!up.ok()) return up.status();
        campaign->state = pb::CAMPAIGN_STATE_ACTIVE;
        campaign->assigned_at = now;
        resp->set_newly_assigned(done->assigned);
        resp->set_kept(kept);
        resp->set_students(students);
        resp->set_teachers_used(done->teachers_used);
        resp->set_max_load(done->max_load);
        resp->set_min_load(done->min_load);
        resp->set_solve_micros(done->micros);
        RETURN_IF_ERROR(
            FillCampaign(c, *campaign, "", resp->mutable_campaign()));
        resp->set_uncovered(resp->campaign().uncovered());
        auto unc = c.Query(
            absl::StrCat("SELECT ", kHouseholdCols,
                         " FROM campaign_households WHERE campaign_id = ? AND "
                         "teacher_id = 0 ORDER BY household_id LIMIT ?"),
            {campaign->id, int64_t{kUncoveredListed}});
        if (!unc.ok()) return unc.status();
        const std::string today = TodayCst();
        for (const auto& r : *unc) {
          FillHousehold(r, campaign->due_date, today,
                        resp->add_uncovered_households());
        }
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  RefreshCoverageGauges(req.campaign_id());
  return absl::OkStatus();
}

absl::Status TeacherSupport::RecordVisit(CallContext& call,
                                         const pb::RecordVisitRequest& req,
                                         pb::RecordVisitResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  const pb::Visit& v = req.visit();
  std::vector<FieldViolation> bad;
  auto add = [&](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st))
      bad.push_back({"visit." + f.field, f.rule});
  };
  if (v.campaign_id() <= 0)
    bad.push_back({"visit.campaign_id", "must be positive"});
  if (!IsCode(v.household_id(), 32)) {
    bad.push_back({"visit.household_id", "must be 1..32 of A-Z a-z 0-9 -"});
  }
  int64_t teacher = 0;
  if (!v.teacher_id().empty()) {
    auto t = ParseTeacherId("teacher_id", v.teacher_id());
    if (!t.ok()) {
      add(t.status());
    } else {
      teacher = *t;
    }
  }
  const std::string today = TodayCst();
  absl::Status date_st = ValidateDate("visit_date", v.visit_date());
  if (!date_st.ok()) {
    add(date_st);
  } else if (v.visit_date() > today) {
    bad.push_back({"visit.visit_date", "must not lie in the future"});
  }
  if (v.met_size() < 1 || v.met_size() > 10) {
    bad.push_back(
        {"visit.met", "must name 1..10 people met (户主, 母亲, ...)"});
  }
  for (int i = 0; i < v.met_size() && i < 10; ++i) {
    add(ValidateText(absl::StrCat("met[", i, "]"), v.met(i), 20));
  }
  if (v.policies_explained_size() > 20) {
    bad.push_back({"visit.policies_explained", "at most 20 entries"});
  }
  for (int i = 0; i < v.policies_explained_size() && i < 20; ++i) {
    add(ValidateText(absl::StrCat("policies_explained[", i, "]"),
                     v.policies_explained(i), 50));
  }
  if (v.subsidies_size() > 20) {
    bad.push_back({"visit.subsidies", "at most 20 entries"});
  }
  for (int i = 0; i < v.subsidies_size() && i < 20; ++i) {
    add(ValidateText(absl::StrCat("subsidies[", i, "].programme"),
                     v.subsidies(i).programme(), 50));
    add(ValidateText(absl::StrCat("subsidies[", i, "].note"),
                     v.subsidies(i).note(), 200, false));
  }
  if (!pb::DropoutRisk_IsValid(v.dropout_risk()) ||
      v.dropout_risk() == pb::DROPOUT_RISK_UNSPECIFIED) {
    bad.push_back({"visit.dropout_risk", "must be NONE, LOW, MEDIUM or HIGH"});
  }
  add(ValidateText("evidence_ref", v.evidence_ref(), 200));
  add(ValidateText("notes", v.notes(), 1000, false));
  if (!bad.empty()) return InvalidFields(bad);
  call.AddRecord(absl::StrCat("campaign:", v.campaign_id(),
                              " household:", v.household_id()));
  std::string region;
  absl::Status st = host_.requests().Run(
      call.principal, "RecordVisit", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto campaign = LoadCampaign(c, v.campaign_id());
        if (!campaign.ok()) return campaign.status();
        if (campaign->state != pb::CAMPAIGN_STATE_ACTIVE) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "CAMPAIGN_NOT_ASSIGNED",
                            "visit.campaign_id: assign the campaign's "
                            "households first");
        }
        const std::string start =
            TermStart(campaign->term_year, campaign->term_season);
        const std::string end =
            TermEnd(campaign->term_year, campaign->term_season);
        if (v.visit_date() < start || v.visit_date() > end) {
          return InvalidField(
              "visit.visit_date",
              absl::StrCat("must lie within the campaign's term (", start,
                           " .. ", end, ")"));
        }
        auto h = c.Query(
            "SELECT region_code, teacher_id FROM campaign_households WHERE "
            "campaign_id = ? AND household_id = ?",
            {campaign->id, v.household_id()});
        if (!h.ok()) return h.status();
        if (h->empty()) {
          return absl::NotFoundError(
              "visit.household_id: the household is not in this campaign");
        }
        region = h->front().Str(0);
        RETURN_IF_ERROR(CheckRegion(call.principal, region));
        int64_t visitor = teacher != 0 ? teacher : h->front().Int(1);
        if (visitor == 0) {
          return InvalidField("visit.teacher_id",
                              "is required: the household has no assigned "
                              "teacher");
        }
        auto t = c.Query(
            "SELECT active, school_code FROM teachers WHERE id = ?", {visitor});
        if (!t.ok()) return t.status();
        if (t->empty())
          return absl::NotFoundError("visit.teacher_id: no such teacher");
        // A school officer records the visits of its own school's teachers.
        RETURN_IF_ERROR(CheckSchool(call.principal, t->front().Str(1)));
        if (t->front().Int(0) == 0) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "TEACHER_INACTIVE",
                            "visit.teacher_id: the teacher has left");
        }
        const int64_t now = NowSec();
        pb::Visit stored = v;
        stored.set_teacher_id(TeacherIdString(visitor));
        stored.set_recorded_by(call.principal.subject);
        stored.set_recorded_at(
            FormatTimestamp(now * 1000, TimestampPrecision::kSeconds));
        auto ins = c.Query(
            "INSERT INTO visits(campaign_id, household_id, teacher_id, "
            "visit_date, dropout_risk, evidence_ref, detail_enc, recorded_by, "
            "recorded_at) VALUES(?,?,?,?,?,?,?,?,?) RETURNING id",
            {campaign->id, v.household_id(), visitor, v.visit_date(),
             int64_t{v.dropout_risk()}, v.evidence_ref(),
             host_.crypto().Encrypt(stored.SerializeAsString(),
                                    internal::kCtxVisit),
             call.principal.subject, now});
        if (!ins.ok()) return ins.status();
        stored.set_visit_id(ins->front().Int(0));
        auto up = c.Execute(
            "UPDATE campaign_households SET visits = visits + 1, "
            "first_visit_date = CASE WHEN first_visit_date = '' OR "
            "first_visit_date > ? THEN ? ELSE first_visit_date END, "
            "last_risk = ?, teacher_id = CASE WHEN teacher_id = 0 THEN ? ELSE "
            "teacher_id END, uncovered_reason = 0, uncovered_detail = '', "
            "updated_at = ? WHERE campaign_id = ? AND household_id = ?",
            {v.visit_date(), v.visit_date(), int64_t{v.dropout_risk()}, visitor,
             now, campaign->id, v.household_id()});
        if (!up.ok()) return up.status();
        auto bump =
            c.Execute("UPDATE campaigns SET version = version + 1 WHERE id = ?",
                      {campaign->id});
        if (!bump.ok()) return bump.status();
        stored.clear_notes();  // personal: kept encrypted, echoed after commit
        *resp->mutable_visit() = std::move(stored);
        auto row = c.Query(
            absl::StrCat("SELECT ", kHouseholdCols,
                         " FROM campaign_households WHERE campaign_id = ? AND "
                         "household_id = ?"),
            {campaign->id, v.household_id()});
        if (!row.ok()) return row.status();
        FillHousehold(row->front(), campaign->due_date, today,
                      resp->mutable_household());
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  resp->mutable_visit()->set_notes(v.notes());
  google::protobuf::RepeatedPtrField<pb::CampaignHousehold> one;
  *one.Add() = resp->household();
  RETURN_IF_ERROR(FillHouseholdNames(call.principal, &one));
  *resp->mutable_household() = one.Get(0);
  RefreshCoverageGauges(v.campaign_id(), region.empty()
                                             ? resp->household().region_code()
                                             : region);
  return absl::OkStatus();
}

absl::Status TeacherSupport::GetCampaignCoverage(
    CallContext& call, const pb::GetCampaignCoverageRequest& req,
    pb::GetCampaignCoverageResponse* resp) {
  RETURN_IF_ERROR(ValidateCampaignId(req.campaign_id()));
  if (!pb::CoverageGrouping_IsValid(req.group_by())) {
    return InvalidField("group_by", "is not a known grouping");
  }
  const int group = req.group_by() == pb::COVERAGE_GROUPING_UNSPECIFIED
                        ? pb::COVERAGE_GROUPING_REGION
                        : req.group_by();
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("campaign:", req.campaign_id()));
  CampaignRow campaign;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto row = LoadCampaign(c, req.campaign_id());
    if (!row.ok()) return row.status();
    campaign = *row;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  const Scope scope = internal::ScopeOf(p, campaign.region_prefix);
  if (scope == Scope::kNone) return CheckRegion(p, campaign.region_prefix);
  const std::string region = scope == Scope::kFull ? "" : p.region;
  const bool names = p.SeesPersonalData();
  // Grouped by teacher, the labels carry the teachers' names.
  auto note_read = [&] {
    if (group == pb::COVERAGE_GROUPING_TEACHER) {
      call.NoteBulkRead(static_cast<size_t>(resp->rows_size()));
    }
  };
  const internal::SchoolScope school = internal::SchoolScopeOf(p);
  const std::string key = CoverageKey(
      campaign.id, campaign.version, group,
      absl::StrCat(region, names ? "|n" : "|m",
                   school.only ? absl::StrCat("|s:", school.school) : ""));
  if (auto cached = host_.cache().Get(key)) {
    auto plain = host_.crypto().Decrypt(*cached, internal::kCtxCoverage);
    if (plain.ok() && resp->ParseFromString(*plain)) {
      note_read();
      return absl::OkStatus();
    }
    resp->Clear();
  }
  const std::string today = TodayCst();
  const bool past_due = today > campaign.due_date;
  st = db_.Read([&](SqlConnection& c) -> absl::Status {
    RETURN_IF_ERROR(
        FillCampaign(c, campaign, region, resp->mutable_campaign()));
    std::vector<SqlValue> params = {campaign.id, region + "%"};
    for (auto& v : HouseholdSchoolParams(p)) params.push_back(std::move(v));
    auto rows = c.Query(
        absl::StrCat(
            "SELECT h.region_code, h.schools, h.teacher_id, h.visits, "
            "h.last_risk, COALESCE(t.school_code, ''), "
            "COALESCE(t.school_name, ''), COALESCE(t.name_enc, '') FROM "
            "campaign_households h LEFT JOIN teachers t ON t.id = "
            "h.teacher_id WHERE h.campaign_id = ? AND h.region_code LIKE ? "
            "AND ",
            kHouseholdSchoolClause),
        params);
    if (!rows.ok()) return rows.status();
    std::map<std::string, pb::CoverageRow> groups;
    pb::CoverageRow* total = resp->mutable_total();
    total->set_key(region);
    total->set_label("total");
    for (const auto& r : *rows) {
      const int64_t teacher = r.Int(2);
      std::string k, label;
      if (group == pb::COVERAGE_GROUPING_REGION) {
        k = r.Str(0);
        label = r.Str(0);
      } else if (group == pb::COVERAGE_GROUPING_SCHOOL) {
        if (teacher != 0) {
          k = r.Str(5);
          label = r.Str(6).empty() ? k : r.Str(6);
        } else {
          auto schools = internal::SplitList(r.Str(1));
          k = schools.empty() ? "" : schools.front();
          label = absl::StrCat(k, " (no teacher)");
        }
      } else {
        if (teacher != 0) k = TeacherIdString(teacher);
        label = teacher == 0 ? std::string("uncovered") : "";
      }
      auto [it, fresh] = groups.try_emplace(k);
      pb::CoverageRow& g = it->second;
      if (fresh) {
        g.set_key(k);
        if (group == pb::COVERAGE_GROUPING_TEACHER && teacher != 0) {
          std::string name = DecryptOrEmpty(r.Str(7), internal::kCtxName);
          label =
              absl::StrCat(names ? name : MaskName(name), " (", r.Str(5), ")");
        }
        g.set_label(label);
      }
      const bool visited = r.Int(3) > 0;
      for (pb::CoverageRow* row : {&g, total}) {
        row->set_households(row->households() + 1);
        if (teacher != 0) row->set_assigned(row->assigned() + 1);
        if (teacher == 0) row->set_uncovered(row->uncovered() + 1);
        if (visited) row->set_visited(row->visited() + 1);
        if (!visited && past_due) row->set_overdue(row->overdue() + 1);
        if (r.Int(4) == pb::DROPOUT_RISK_HIGH) {
          row->set_high_risk(row->high_risk() + 1);
        }
      }
    }
    for (auto& [k, g] : groups) {
      g.set_coverage(g.households()
                         ? static_cast<double>(g.visited()) / g.households()
                         : 0.0);
      *resp->add_rows() = std::move(g);
    }
    total->set_coverage(total->households()
                            ? static_cast<double>(total->visited()) /
                                  total->households()
                            : 0.0);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  host_.cache().Set(key, host_.crypto().Encrypt(resp->SerializeAsString(),
                                                internal::kCtxCoverage));
  note_read();
  return absl::OkStatus();
}

absl::Status TeacherSupport::ListCampaignHouseholds(
    CallContext& call, const pb::ListCampaignHouseholdsRequest& req,
    pb::ListCampaignHouseholdsResponse* resp) {
  RETURN_IF_ERROR(ValidateCampaignId(req.campaign_id()));
  if (!pb::HouseholdFilter_IsValid(req.filter())) {
    return InvalidField("filter", "is not a known filter");
  }
  int64_t teacher = 0;
  if (!req.teacher_id().empty()) {
    auto t = ParseTeacherId("teacher_id", req.teacher_id());
    if (!t.ok()) return t.status();
    teacher = *t;
  }
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters =
      absl::StrCat("households|", req.campaign_id(), "|", req.filter(), "|",
                   teacher, "|", *region);
  auto last = DecodePageToken(req.page_token(), filters);
  if (!last.ok()) return last.status();
  call.AddRecord(absl::StrCat("campaign:", req.campaign_id()));
  const std::string today = TodayCst();
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto campaign = LoadCampaign(c, req.campaign_id());
    if (!campaign.ok()) return campaign.status();
    RETURN_IF_ERROR(
        internal::CheckOverlap(call.principal, campaign->region_prefix));
    std::string where = absl::StrCat(
        "campaign_id = ? AND region_code LIKE ? AND (? = 0 OR teacher_id = ?) "
        "AND ",
        kHouseholdSchoolClause);
    switch (req.filter()) {
      case pb::HOUSEHOLD_FILTER_UNVISITED:
        where += " AND visits = 0";
        break;
      case pb::HOUSEHOLD_FILTER_OVERDUE:
        where += today > campaign->due_date ? " AND visits = 0" : " AND 1 = 0";
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
    std::vector<SqlValue> base = {campaign->id, *region + "%", teacher,
                                  teacher};
    for (auto& v : HouseholdSchoolParams(call.principal)) {
      base.push_back(std::move(v));
    }
    std::vector<SqlValue> params = base;
    params.push_back(*last);
    params.push_back(int64_t{*size + 1});
    auto rows = c.Query(absl::StrCat("SELECT ", kHouseholdCols,
                                     " FROM campaign_households WHERE ", where,
                                     " AND household_id > ? ORDER BY "
                                     "household_id LIMIT ?"),
                        params);
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      FillHousehold((*rows)[i], campaign->due_date, today,
                    resp->add_households());
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(
          EncodePageToken(resp->households(*size - 1).household_id(), filters));
    }
    auto total = c.Query(
        absl::StrCat("SELECT COUNT(*) FROM campaign_households WHERE ", where),
        base);
    if (!total.ok()) return total.status();
    resp->set_total(total->front().Int(0));
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  call.NoteBulkRead(static_cast<size_t>(resp->households_size()));
  return FillHouseholdNames(call.principal, resp->mutable_households());
}

absl::Status TeacherSupport::ListCampaigns(CallContext& call,
                                           const pb::ListCampaignsRequest& req,
                                           pb::ListCampaignsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  auto size = ValidatePageSize("page_size", req.page_size(), 50, 500);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters = absl::StrCat("campaigns|", *region);
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto ids = c.Query(
        "SELECT id FROM campaigns WHERE (region_prefix LIKE ? OR ? LIKE "
        "region_prefix || '%') AND id > ? ORDER BY id LIMIT ?",
        {*region + "%", *region, *after, int64_t{*size + 1}});
    if (!ids.ok()) return ids.status();
    for (size_t i = 0; i < ids->size() && i < static_cast<size_t>(*size); ++i) {
      auto row = LoadCampaign(c, (*ids)[i].Int(0));
      if (!row.ok()) return row.status();
      const std::string scope =
          internal::ScopeOf(call.principal, row->region_prefix) == Scope::kFull
              ? ""
              : call.principal.region;
      RETURN_IF_ERROR(FillCampaign(c, *row, scope, resp->add_campaigns()));
    }
    if (ids->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(
          EncodePageToken(absl::StrCat((*ids)[*size - 1].Int(0)), filters));
    }
    return absl::OkStatus();
  });
}

}  // namespace eduaid::teacher
