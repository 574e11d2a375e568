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
    const std::string& region_prefix, int64_t* students) {
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
  result.micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  solve_campaign_seconds_->Observe(result.micros / 1e6);

  const int64_t now = NowSec();
  HouseholdInserter inserter(c, campaign.id, now);
  for (size_t h = 0; h < needs.size(); ++h) {
    const HouseholdNeed& n = needs[h];
    const int t = a.teacher_of[h];
    const int64_t teacher = t >= 0 ? staff[t].first : 0;
    const int64_t reason = t >= 0 ? 0 : static_cast<int64_t>(a.cause[h]);
    const std::string why =
        t >= 0 ? std::string()
               : UncoveredDetail(n, a.cause[h], teachers_at, campaign.cap);
    if (t >= 0) {
      ++result.assigned;
    } else {
      ++result.uncovered;
      result.uncovered_ids.push_back(n.household_id);
    }
    if (n.stored) {
      RETURN_IF_ERROR(SetHouseholdTeacher(c, campaign.id, n.household_id,
                                          teacher, reason, why, now));
    } else {
      RETURN_IF_ERROR(inserter.Add(n, teacher, reason, why));
    }
  }
  RETURN_IF_ERROR(inserter.Flush());
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
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const CampaignRecord row,
                     LoadCampaign(c, req.campaign_id()));
    region = row.region_prefix;
    return absl::OkStatus();
  }));
  RETURN_IF_ERROR(CheckRegion(call.principal, region));
  int64_t students = 0;
  ASSIGN_OR_RETURN(std::vector<HouseholdNeed> found,
                   FetchHouseholds(region, &students));
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
          RETURN_IF_ERROR(UpdateHouseholdLists(
              c, campaign.id, n->household_id, internal::JoinList(n->schools),
              internal::JoinList(n->members), now));
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
        resp->set_students(students);
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
