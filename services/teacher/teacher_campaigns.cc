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
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/campaign_store.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"
#include "services/teacher/teacher_store.h"
#include "services/teacher/visit_rules.h"

namespace eduaid::teacher {

using internal::Scope;

namespace {

constexpr int kUncoveredListed = 1000;

absl::Status ValidateCampaignId(int64_t id) {
  if (id <= 0) return InvalidField("campaign_id", "must be positive");
  return absl::OkStatus();
}

std::string CoverageKey(int64_t campaign, int64_t version, int group,
                        const std::string& scope) {
  return CacheKey(
      "teacher", "coverage",
      absl::StrCat("c", campaign, ":v", version, ":g", group, ":r", scope));
}

// The campaign as answered: its fields and the counts of its households
// whose county starts with `scope`.
absl::Status FillCampaign(SqlConnection& c, const CampaignRecord& row,
                          const std::string& scope, pb::Campaign* out) {
  ToProto(row, out);
  ASSIGN_OR_RETURN(const HouseholdCounts n, CountHouseholds(c, row.id, scope));
  out->set_households(n.households);
  out->set_assigned(n.assigned);
  out->set_uncovered(n.households - n.assigned);
  out->set_visited(n.visited);
  return absl::OkStatus();
}

// The due date of a new campaign (the term's end when not given), or
// INVALID_ARGUMENT naming every bad field.
absl::StatusOr<std::string> ValidateNewCampaign(
    const pb::CreateCampaignRequest& req) {
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
    const std::string start = TermStart(req.term());
    const std::string end = TermEnd(req.term());
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
  return due;
}

}  // namespace

absl::Status TeacherSupport::FillHouseholdNames(
    const Principal& p,
    google::protobuf::RepeatedPtrField<pb::CampaignHousehold>* households) {
  std::vector<int64_t> ids;
  for (const auto& h : *households) {
    auto id = ParseTeacherId("teacher_id", h.teacher_id());
    if (id.ok()) ids.push_back(*id);
  }
  ASSIGN_OR_RETURN(auto names, TeacherNames(ids, p));
  for (auto& h : *households) {
    auto id = ParseTeacherId("teacher_id", h.teacher_id());
    if (id.ok()) h.set_teacher_name(names[*id]);
  }
  return absl::OkStatus();
}

void TeacherSupport::RefreshCoverageGauges(int64_t campaign_id,
                                           const std::string& region) {
  (void)db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const CampaignRecord campaign,
                     LoadCampaign(c, campaign_id));
    ASSIGN_OR_RETURN(const auto counties,
                     VisitsPerCounty(c, campaign_id, region));
    const std::string term = absl::StrCat(
        campaign.term_year, "-",
        campaign.term_season == cpb::SEASON_AUTUMN ? "autumn" : "spring");
    for (const auto& r : counties) {
      const double total = static_cast<double>(r.households);
      coverage_gauge_->Add({{"region", r.region_code}, {"term", term}})
          .Set(total > 0 ? static_cast<double>(r.visited) / total : 0.0);
    }
    return absl::OkStatus();
  });
}

absl::Status TeacherSupport::CreateCampaign(
    CallContext& call, const pb::CreateCampaignRequest& req,
    pb::CreateCampaignResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  ASSIGN_OR_RETURN(const std::string due, ValidateNewCampaign(req));
  RETURN_IF_ERROR(CheckRegion(call.principal, req.region_prefix()));
  CampaignRecord draft;
  draft.name = req.name();
  draft.region_prefix = req.region_prefix();
  draft.term_year = req.term().year();
  draft.term_season = req.term().season();
  draft.term_index = TermIndex(req.term().year(), req.term().season());
  draft.cap = req.cap_per_teacher();
  draft.due_date = due;
  return host_.requests().Run(
      call.principal, "CreateCampaign", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(
            const auto overlap,
            FindOverlappingCampaign(c, draft.term_index, draft.region_prefix));
        if (overlap) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "CAMPAIGN_OVERLAPS",
              absl::StrCat("region_prefix: campaign ", overlap->first, " (",
                           overlap->second,
                           ") already covers households of this region in "
                           "this term"));
        }
        draft.created_at = NowSec();
        ASSIGN_OR_RETURN(const int64_t id,
                         InsertCampaign(c, draft, call.principal.subject));
        ASSIGN_OR_RETURN(const CampaignRecord row, LoadCampaign(c, id));
        call.AddRecord(absl::StrCat("campaign:", row.id));
        return FillCampaign(c, row, "", resp->mutable_campaign());
      });
}

absl::StatusOr<std::vector<HouseholdNeed>> TeacherSupport::FetchHouseholds(
    const std::string& region_prefix, FetchCounts* counts) {
  // Every registered household of the region, whether or not a child of it
  // is on a roster: those with children out of school, too young or too old
  // are due a visit too (逐户走访、不漏一人).
  std::vector<HouseholdNeed> out;
  *counts = FetchCounts{};
  RETURN_IF_ERROR(registry_client_->ForEachHousehold(
      region_prefix, [&](const rpb::HouseholdSummary& h) -> absl::Status {
        if (static_cast<int64_t>(out.size()) >= kMaxCampaignHouseholds) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "CAMPAIGN_TOO_LARGE",
              absl::StrCat("the region holds more than ",
                           kMaxCampaignHouseholds,
                           " households; open one campaign per county"));
        }
        HouseholdNeed need;
        need.household_id = h.household_id();
        need.region_code = h.region_code();
        need.schools.assign(h.school_codes().begin(), h.school_codes().end());
        need.members.assign(h.member_ids().begin(), h.member_ids().end());
        need.students = h.students();
        need.out_of_school = h.out_of_school();
        counts->students += h.students();
        if (h.students() == 0) ++counts->without_students;
        out.push_back(std::move(need));
        return absl::OkStatus();
      }));
  std::sort(out.begin(), out.end(),
            [](const HouseholdNeed& a, const HouseholdNeed& b) {
              return a.household_id < b.household_id;
            });
  for (auto& need : out) {
    std::sort(need.schools.begin(), need.schools.end());
    need.schools.erase(std::unique(need.schools.begin(), need.schools.end()),
                       need.schools.end());
    std::sort(need.members.begin(), need.members.end());
    need.members.erase(std::unique(need.members.begin(), need.members.end()),
                       need.members.end());
  }
  return out;
}

namespace {

// The county rule over the households the schools left (teacher_of < 0):
// per household the teacher id it gives (0 for none), the active teachers
// per county, and every candidate teacher's load afterwards.
struct CountyPlacement {
  std::vector<int64_t> teacher;
  std::unordered_map<std::string, int> teachers_in_county;
  std::unordered_map<int64_t, int> load;
};

absl::StatusOr<CountyPlacement> PlaceByCounty(
    SqlConnection& c, const std::vector<HouseholdNeed>& needs,
    const VisitAssignment& a,
    const std::vector<std::pair<int64_t, std::string>>& staff,
    std::unordered_map<int64_t, int> load, int cap) {
  CountyPlacement out;
  for (size_t i = 0; i < staff.size(); ++i) load[staff[i].first] = a.load[i];
  std::vector<bool> want(needs.size(), false);
  std::vector<std::string> regions(needs.size());
  std::set<std::string> counties;
  for (size_t h = 0; h < needs.size(); ++h) {
    regions[h] = needs[h].region_code;
    want[h] = a.teacher_of[h] < 0 && !regions[h].empty();
    if (want[h]) counties.insert(regions[h]);
  }
  ASSIGN_OR_RETURN(const auto found,
                   ActiveTeachersInCounties(c, std::vector<std::string>(
                                                   counties.begin(),
                                                   counties.end())));
  std::vector<CountyTeacher> teachers;
  for (const auto& [id, region] : found) {
    teachers.push_back({id, region, load[id]});
    ++out.teachers_in_county[region];
  }
  const std::vector<int> pick = AssignByCounty(regions, want, teachers, cap);
  out.teacher.assign(needs.size(), 0);
  for (size_t h = 0; h < needs.size(); ++h) {
    if (pick[h] >= 0) out.teacher[h] = teachers[pick[h]].id;
  }
  for (const auto& t : teachers) load[t.id] = t.load;
  for (const auto& [id, school] : staff) out.load[id] = load[id];
  for (const auto& t : teachers) out.load[t.id] = t.load;
  return out;
}

}  // namespace

absl::StatusOr<TeacherSupport::PendingResult> TeacherSupport::AssignPending(
    SqlConnection& c, const CampaignRecord& campaign,
    const std::vector<HouseholdNeed>& needs) {
  PendingResult result;
  if (needs.empty()) return result;
  std::set<std::string> schools;
  for (const auto& n : needs)
    schools.insert(n.schools.begin(), n.schools.end());
  ASSIGN_OR_RETURN(const auto staff,
                   ActiveTeachersAt(c, std::vector<std::string>(
                                           schools.begin(), schools.end())));
  ASSIGN_OR_RETURN(auto load_of, TeacherLoads(c, campaign.id));
  std::vector<VisitTeacher> teachers;
  std::unordered_map<std::string, int> teachers_at;
  for (const auto& [id, school] : staff) {
    teachers.push_back({school, load_of[id]});
    ++teachers_at[school];
  }
  std::vector<VisitHousehold> households;
  households.reserve(needs.size());
  for (const auto& n : needs) households.push_back({n.schools});

  const auto start = std::chrono::steady_clock::now();
  VisitAssignment a = AssignVisits(households, teachers, campaign.cap);
  ASSIGN_OR_RETURN(const CountyPlacement county,
                   PlaceByCounty(c, needs, a, staff, load_of, campaign.cap));
  result.micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  solve_campaign_seconds_->Observe(result.micros / 1e6);

  const int64_t now = NowSec();
  HouseholdInserter inserter(c, campaign.id, now);
  for (size_t h = 0; h < needs.size(); ++h) {
    const HouseholdNeed& n = needs[h];
    const int t = a.teacher_of[h];
    Placement p;
    if (t >= 0) {
      p = {staff[t].first, 0, "", pb::ASSIGNMENT_RULE_CHILDS_SCHOOL};
    } else if (county.teacher[h] != 0) {
      p = {county.teacher[h], 0, "", pb::ASSIGNMENT_RULE_COUNTY};
      ++result.by_county;
    } else {
      const UncoveredCause cause = CauseAfterCountyRule(n, a.cause[h]);
      auto in_county = county.teachers_in_county.find(n.region_code);
      p.reason = static_cast<int64_t>(cause);
      p.detail = UncoveredDetail(
          n, cause, teachers_at, campaign.cap,
          in_county == county.teachers_in_county.end() ? 0
                                                       : in_county->second);
    }
    if (p.teacher_id != 0) {
      ++result.assigned;
    } else {
      ++result.uncovered;
      result.uncovered_ids.push_back(n.household_id);
    }
    if (n.stored) {
      RETURN_IF_ERROR(
          SetHouseholdTeacher(c, campaign.id, n.household_id, p, now));
    } else {
      RETURN_IF_ERROR(inserter.Add(n, p));
    }
  }
  RETURN_IF_ERROR(inserter.Flush());
  if (!county.load.empty()) {
    result.min_load = 1 << 30;
    for (const auto& [id, l] : county.load) {
      result.min_load = std::min(result.min_load, l);
      result.max_load = std::max(result.max_load, l);
      result.teachers_used += l > 0 ? 1 : 0;
    }
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
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const CampaignRecord row,
                     LoadCampaign(c, req.campaign_id()));
    region = row.region_prefix;
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(CheckRegion(call.principal, region));
  FetchCounts counts;
  ASSIGN_OR_RETURN(std::vector<HouseholdNeed> found,
                   FetchHouseholds(region, &counts));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "AssignCampaign", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        RETURN_IF_ERROR(LockCampaign(c, req.campaign_id()));
        ASSIGN_OR_RETURN(CampaignRecord campaign,
                         LoadCampaign(c, req.campaign_id()));
        const int64_t now = NowSec();
        ASSIGN_OR_RETURN(const auto stored,
                         LoadStoredHouseholds(c, campaign.id));
        const AssignmentPlan plan = PlanAssignment(found, stored);
        for (const HouseholdNeed* n : plan.relisted) {
          RETURN_IF_ERROR(UpdateHouseholdLists(c, campaign.id, *n, now));
        }
        for (const auto& id : plan.released) {
          RETURN_IF_ERROR(ReleaseHousehold(c, campaign.id, id));
        }
        ASSIGN_OR_RETURN(const PendingResult done,
                         AssignPending(c, campaign, plan.pending));
        RETURN_IF_ERROR(MarkCampaignAssigned(c, campaign.id, now));
        campaign.state = pb::CAMPAIGN_STATE_ACTIVE;
        campaign.assigned_at = now;
        resp->set_newly_assigned(done.assigned);
        resp->set_kept(plan.kept);
        resp->set_students(counts.students);
        resp->set_households(static_cast<int64_t>(found.size()));
        resp->set_households_without_students(counts.without_students);
        resp->set_assigned_by_county_rule(done.by_county);
        resp->set_teachers_used(done.teachers_used);
        resp->set_max_load(done.max_load);
        resp->set_min_load(done.min_load);
        resp->set_solve_micros(done.micros);
        return FillAssignedCampaign(c, campaign, resp);
      }));
  RefreshCoverageGauges(req.campaign_id());
  return absl::OkStatus();
}

absl::Status TeacherSupport::FillAssignedCampaign(
    SqlConnection& c, const CampaignRecord& campaign,
    pb::AssignCampaignResponse* resp) {
  RETURN_IF_ERROR(FillCampaign(c, campaign, "", resp->mutable_campaign()));
  resp->set_uncovered(resp->campaign().uncovered());
  ASSIGN_OR_RETURN(const auto uncovered,
                   LoadUncovered(c, campaign.id, kUncoveredListed));
  const std::string today = TodayCst();
  for (const auto& h : uncovered) {
    ToProto(h, campaign.due_date, today, resp->add_uncovered_households());
  }
  return absl::OkStatus();
}

absl::Status TeacherSupport::GetCampaignCoverage(
    CallContext& call, const pb::GetCampaignCoverageRequest& req,
    pb::GetCampaignCoverageResponse* resp) {
  RETURN_IF_ERROR(ValidateCampaignId(req.campaign_id()));
  if (!pb::CoverageGrouping_IsValid(req.group_by())) {
    return InvalidField("group_by", "is not a known grouping");
  }
  const auto group = req.group_by() == pb::COVERAGE_GROUPING_UNSPECIFIED
                         ? pb::COVERAGE_GROUPING_REGION
                         : req.group_by();
  const Principal& p = call.principal;
  call.AddRecord(absl::StrCat("campaign:", req.campaign_id()));
  CampaignRecord campaign;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(campaign, LoadCampaign(c, req.campaign_id()));
    return absl::OkStatus();
  }));
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
  const bool past_due = TodayCst() > campaign.due_date;
  auto teacher_label = [&](const CoverageFact& f) {
    std::string name = DecryptOrEmpty(f.teacher_name_enc, internal::kCtxName);
    return absl::StrCat(names ? name : MaskName(name), " (", f.teacher_school,
                        ")");
  };
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    RETURN_IF_ERROR(
        FillCampaign(c, campaign, region, resp->mutable_campaign()));
    ASSIGN_OR_RETURN(
        const auto facts,
        LoadCoverageFacts(c, campaign.id, region, HouseholdSchoolParams(p)));
    TallyCoverage(facts, group, past_due, region, teacher_label, resp);
    return absl::OkStatus();
  }));
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
  HouseholdQuery q;
  q.campaign_id = req.campaign_id();
  q.filter = req.filter();
  if (!req.teacher_id().empty()) {
    ASSIGN_OR_RETURN(q.teacher_id,
                     ParseTeacherId("teacher_id", req.teacher_id()));
  }
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  ASSIGN_OR_RETURN(const int size,
                   ValidatePageSize("page_size", req.page_size(), 100, 1000));
  ASSIGN_OR_RETURN(q.region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  const std::string filters =
      absl::StrCat("households|", req.campaign_id(), "|", req.filter(), "|",
                   q.teacher_id, "|", q.region);
  ASSIGN_OR_RETURN(const std::string last,
                   DecodePageToken(req.page_token(), filters));
  call.AddRecord(absl::StrCat("campaign:", req.campaign_id()));
  const std::string today = TodayCst();
  q.school_params = HouseholdSchoolParams(call.principal);
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const CampaignRecord campaign,
                     LoadCampaign(c, req.campaign_id()));
    RETURN_IF_ERROR(
        internal::CheckOverlap(call.principal, campaign.region_prefix));
    q.past_due = today > campaign.due_date;
    ASSIGN_OR_RETURN(const auto rows,
                     ListHouseholds(c, q, last, int64_t{size} + 1));
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(size); ++i) {
      ToProto(rows[i], campaign.due_date, today, resp->add_households());
    }
    if (rows.size() > static_cast<size_t>(size)) {
      resp->set_next_page_token(
          EncodePageToken(resp->households(size - 1).household_id(), filters));
    }
    ASSIGN_OR_RETURN(const int64_t total, CountMatchingHouseholds(c, q));
    resp->set_total(total);
    return absl::OkStatus();
  }));
  call.NoteBulkRead(static_cast<size_t>(resp->households_size()));
  return FillHouseholdNames(call.principal, resp->mutable_households());
}

absl::Status TeacherSupport::ListCampaigns(CallContext& call,
                                           const pb::ListCampaignsRequest& req,
                                           pb::ListCampaignsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  RETURN_IF_ERROR(ValidatePageSize("page_size", req.page_size(), 50, 500)
                      .status());  // before the scope, as it always was
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(), absl::StrCat("campaigns|", region),
                   req.page_size(), 50, 500));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const auto ids,
                     ListCampaignIds(c, region, page.after(), page.limit()));
    for (size_t i = 0; i < page.Keep(ids.size()); ++i) {
      ASSIGN_OR_RETURN(const CampaignRecord row, LoadCampaign(c, ids[i]));
      const std::string scope =
          internal::ScopeOf(call.principal, row.region_prefix) == Scope::kFull
              ? ""
              : call.principal.region;
      RETURN_IF_ERROR(FillCampaign(c, row, scope, resp->add_campaigns()));
    }
    resp->set_next_page_token(page.NextToken(
        ids.size(), ids.empty() ? 0 : ids[page.Keep(ids.size()) - 1]));
    return absl::OkStatus();
  });
}

}  // namespace eduaid::teacher
