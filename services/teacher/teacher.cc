// The service object (metrics, registry peer), the teacher registry RPCs
// and the audit log.
#include "services/teacher/teacher.h"

#include <ctime>
#include <functional>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/round_store.h"
#include "services/teacher/teacher_internal.h"
#include "services/teacher/teacher_store.h"

namespace eduaid::teacher {

using internal::AddRowError;
using internal::AddRowErrors;

// ---------------------------------------------------------------- setup

TeacherSupport::TeacherSupport(ServiceHost& host, TeacherOptions options)
    : host_(host),
      db_(host.db()),
      options_(std::move(options)),
      registry_channel_(
          host.Peer(options_.registry_target, options_.registry_deadline)),
      registry_(
          rpb::StudentRegistryService::NewStub(registry_channel_->channel())),
      registry_client_(std::make_unique<RegistryClient>(
          *registry_channel_, options_.registry_target)),
      ledger_channel_(
          host.Peer(options_.ledger_target, options_.ledger_deadline)),
      ledger_(lpb::SubsidyLedgerService::NewStub(ledger_channel_->channel())) {
  auto& rows = prometheus::BuildCounter()
                   .Name("eduaid_teacher_import_rows_total")
                   .Help("Teacher rows received by ImportTeachers, by result")
                   .Register(host.metrics());
  rows_accepted_ = &rows.Add({{"result", "accepted"}});
  rows_rejected_ = &rows.Add({{"result", "rejected"}});
  coverage_gauge_ =
      &prometheus::BuildGauge()
           .Name("eduaid_teacher_visit_coverage_ratio")
           .Help(
               "Share of a campaign's households visited, per county and "
               "term")
           .Register(host.metrics());
  unfilled_gauge_ =
      &prometheus::BuildGauge()
           .Name("eduaid_teacher_unfilled_demand")
           .Help(
               "Slots of rural demand left unfilled by a round's last "
               "solution")
           .Register(host.metrics());
  auto& solve = prometheus::BuildHistogram()
                    .Name("eduaid_teacher_assignment_solve_seconds")
                    .Help("Time of one optimal assignment (min-cost flow)")
                    .Register(host.metrics());
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  solve_round_seconds_ = &solve.Add({{"kind", "round"}}, buckets);
  solve_campaign_seconds_ = &solve.Add({{"kind", "campaign"}}, buckets);
  outbox_ = std::make_unique<FindingOutbox>(host.db(), host.crypto(),
                                            *registry_channel_,
                                            *ledger_channel_, host.metrics(),
                                            options_.outbox);
  if (options_.outbox.start) outbox_->Start();
}

void TeacherSupport::StartFindingDelivery() { outbox_->Start(); }
void TeacherSupport::StopFindingDelivery() { outbox_->Stop(); }

std::string TeacherSupport::IdHash(const std::string& id_number) const {
  return host_.crypto().BlindIndex(id_number, internal::kCtxHash);
}

std::string TeacherSupport::TeacherCacheKey(int64_t id) const {
  return CacheKey("teacher", "teacher", TeacherIdString(id));
}

std::string TeacherSupport::RegistryPeer() const {
  return absl::StrCat("the registry (", options_.registry_target, ")");
}

std::string TeacherSupport::DecryptOrEmpty(const std::string& enc,
                                           absl::string_view context) const {
  if (enc.empty()) return "";
  auto plain = host_.crypto().Decrypt(enc, context);
  return plain.ok() ? *plain : "";
}

absl::StatusOr<std::unordered_map<int64_t, std::string>>
TeacherSupport::TeacherNames(const std::vector<int64_t>& ids,
                             const Principal& p) {
  std::unordered_map<int64_t, std::string> out;
  if (ids.empty()) return out;
  std::vector<int64_t> unique(ids.begin(), ids.end());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  const bool names = p.SeesPersonalData();
  std::unordered_map<int64_t, std::string> encrypted;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(encrypted, TeacherNameEncs(c, unique));
    return absl::OkStatus();
  }));
  for (const auto& [id, enc] : encrypted) {
    std::string name = DecryptOrEmpty(enc, internal::kCtxName);
    out[id] = names ? name : MaskName(name);
  }
  return out;
}

// ---------------------------------------------------------------- teachers

namespace {

// A row ImportTeachers will land, with its personal data prepared.
struct PreparedTeacher {
  int64_t row_number;
  std::string id_hash;
  TeacherWrite write;
  std::vector<std::pair<int64_t, std::string>> history;  // (term, school)
};

// Prior placements of a row: at most 40, one per term; bad ones reported
// through `bad`.
std::vector<std::pair<int64_t, std::string>> ValidatePriorPlacements(
    const pb::TeacherRow& row,
    const std::function<void(const absl::Status&)>& bad) {
  std::vector<std::pair<int64_t, std::string>> history;
  if (row.prior_placements_size() > 40) {
    bad(InvalidField("prior_placements", "at most 40 entries"));
    return history;
  }
  std::unordered_set<int64_t> terms;
  for (int p = 0; p < row.prior_placements_size(); ++p) {
    const auto& pp = row.prior_placements(p);
    std::string field = absl::StrCat("prior_placements[", p, "]");
    absl::Status tst = ValidateTerm(field + ".term", pp.term());
    if (!tst.ok()) {
      bad(tst);
      continue;
    }
    if (!IsCode(pp.school_code(), 20)) {
      bad(InvalidField(field + ".school_code",
                       "must be 1..20 of A-Z a-z 0-9 -"));
      continue;
    }
    int64_t ti = TermIndex(pp.term().year(), pp.term().season());
    if (!terms.insert(ti).second) {
      bad(InvalidField(field + ".term", "two placements in one term"));
      continue;
    }
    history.push_back({ti, pp.school_code()});
  }
  return history;
}

void ValidateSubjects(const pb::TeacherRow& row,
                      const std::function<void(const absl::Status&)>& bad) {
  if (row.subjects_size() < 1 || row.subjects_size() > 5) {
    bad(InvalidField("subjects", "must list 1..5 subjects"));
    return;
  }
  std::unordered_set<std::string> subjects;
  for (int s = 0; s < row.subjects_size(); ++s) {
    absl::Status st = internal::ValidateLabel(absl::StrCat("subjects[", s, "]"),
                                              row.subjects(s), 20);
    if (!st.ok()) {
      bad(st);
    } else if (!subjects.insert(row.subjects(s)).second) {
      bad(InvalidField(absl::StrCat("subjects[", s, "]"), "is listed twice"));
    }
  }
}

// Validates one row through `bad`; PERMISSION_DENIED (the whole call) for a
// region outside the caller's scope.
absl::Status ValidateTeacherRow(
    const Principal& principal, const pb::TeacherRow& row, int64_t rn,
    const std::function<void(const absl::Status&)>& bad) {
  bad(ValidateText("name", row.name(), 50));
  if (!IsCode(row.school_code(), 20)) {
    bad(InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -"));
  }
  bad(ValidateText("school_name", row.school_name(), 100,
                   /*required=*/false));
  absl::Status region_st = ValidateRegionCode("region_code", row.region_code());
  if (!region_st.ok()) {
    bad(region_st);
  } else if (!principal.Covers(row.region_code())) {
    return absl::PermissionDeniedError(absl::StrCat(
        "row ", rn, ": region_code lies outside the caller's region scope '",
        principal.region, "'; nothing was imported"));
  }
  if (!cpb::SchoolStage_IsValid(row.stage())) {
    bad(InvalidField("stage", "is not a known school stage"));
  }
  ValidateSubjects(row, bad);
  bad(ValidateText("title", row.title(), 20, /*required=*/false));
  if (row.years_of_service() < 0 || row.years_of_service() > 50) {
    bad(InvalidField("years_of_service", "must be 0..50"));
  }
  return absl::OkStatus();
}

// Lands the prepared rows (insert or update by ID number) and their prior
// placements; PERMISSION_DENIED when a teacher is registered outside the
// caller's scope.
absl::Status StoreTeacherRows(SqlConnection& c, const Principal& principal,
                              std::vector<PreparedTeacher>& good,
                              pb::ImportTeachersResponse* resp,
                              std::vector<int64_t>* touched) {
  const int64_t now = NowSec();
  for (auto& p : good) {
    p.write.updated_at = now;
    ASSIGN_OR_RETURN(const auto old, FindByIdHash(c, p.id_hash));
    int64_t id = 0;
    const bool created = !old;
    if (created) {
      ASSIGN_OR_RETURN(id, InsertTeacher(c, p.id_hash, p.write));
      resp->set_teachers_created(resp->teachers_created() + 1);
    } else {
      id = old->first;
      if (!principal.Covers(old->second)) {
        return absl::PermissionDeniedError(absl::StrCat(
            "row ", p.row_number,
            ": the teacher is registered outside the caller's region "
            "scope; nothing was imported"));
      }
      RETURN_IF_ERROR(UpdateTeacher(c, id, p.write));
      resp->set_teachers_updated(resp->teachers_updated() + 1);
    }
    for (const auto& [term, school] : p.history) {
      RETURN_IF_ERROR(InsertPlacement(c, id, term, school, 0).status());
    }
    auto* t = resp->add_teachers();
    t->set_row_number(p.row_number);
    t->set_teacher_id(TeacherIdString(id));
    t->set_created(created);
    touched->push_back(id);
  }
  return absl::OkStatus();
}

// The rows to land, validated, deduplicated by ID number and encrypted;
// bad rows go to `errors`.
absl::StatusOr<std::vector<PreparedTeacher>> PrepareTeacherRows(
    const FieldCrypto& crypto, const Principal& principal,
    const pb::ImportTeachersRequest& req, std::vector<cpb::RowError>* errors) {
  std::vector<PreparedTeacher> good;
  good.reserve(req.rows_size());
  std::unordered_map<std::string, int64_t> seen;
  for (int i = 0; i < req.rows_size(); ++i) {
    const auto& row = req.rows(i);
    const int64_t rn = row.row_number() > 0 ? row.row_number() : i + 1;
    const size_t before = errors->size();
    auto bad = [&](const absl::Status& st) { AddRowErrors(rn, st, errors); };
    auto info = ValidateIdNumber("id_number", row.id_number());
    if (!info.ok()) bad(info.status());
    RETURN_IF_ERROR(ValidateTeacherRow(principal, row, rn, bad));
    auto history = ValidatePriorPlacements(row, bad);
    std::string id = NormalizeIdNumber(row.id_number());
    if (info.ok()) {
      auto [it, inserted] = seen.emplace(id, rn);
      if (!inserted) {
        bad(InvalidField(
            "id_number",
            absl::StrCat("duplicated in this request (first at row ",
                         it->second, ")")));
      }
    }
    if (errors->size() != before) continue;
    PreparedTeacher p;
    p.row_number = rn;
    p.id_hash = crypto.BlindIndex(id, internal::kCtxHash);
    p.write = {crypto.Encrypt(id, internal::kCtxId),
               MaskIdNumber(id),
               crypto.Encrypt(row.name(), internal::kCtxName),
               row.school_code(),
               row.school_name(),
               row.region_code(),
               row.rural(),
               row.stage(),
               internal::JoinListOf(row.subjects()),
               row.title(),
               row.years_of_service(),
               0};
    p.history = std::move(history);
    good.push_back(std::move(p));
  }
  return good;
}

}  // namespace

absl::Status TeacherSupport::ImportTeachers(
    CallContext& call, const pb::ImportTeachersRequest& req,
    pb::ImportTeachersResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.rows_size() == 0) return InvalidField("rows", "must not be empty");
  if (req.rows_size() > kMaxTeacherRowsPerCall) {
    return InvalidField("rows", absl::StrCat("at most ", kMaxTeacherRowsPerCall,
                                             " rows per call"));
  }
  std::vector<cpb::RowError> errors;
  ASSIGN_OR_RETURN(
      std::vector<PreparedTeacher> good,
      PrepareTeacherRows(host_.crypto(), call.principal, req, &errors));
  std::vector<int64_t> touched;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "ImportTeachers", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        touched.clear();
        RETURN_IF_ERROR(
            StoreTeacherRows(c, call.principal, good, resp, &touched));
        resp->set_accepted_rows(static_cast<int64_t>(good.size()));
        resp->set_rejected_rows(req.rows_size() -
                                static_cast<int64_t>(good.size()));
        internal::SortRowErrors(&errors);
        for (auto& e : errors) *resp->add_errors() = e;
        return absl::OkStatus();
      }));
  rows_accepted_->Increment(static_cast<double>(resp->accepted_rows()));
  rows_rejected_->Increment(static_cast<double>(resp->rejected_rows()));
  std::vector<std::string> keys;
  keys.reserve(touched.size());
  for (int64_t id : touched) keys.push_back(TeacherCacheKey(id));
  if (!keys.empty()) host_.cache().Invalidate(keys);
  call.AddRecord(absl::StrCat("teacher rows:", resp->accepted_rows(), "/",
                              req.rows_size()));
  return absl::OkStatus();
}

absl::StatusOr<pb::Teacher> TeacherSupport::LoadTeacherFromDb(SqlConnection& c,
                                                              int64_t id) {
  ASSIGN_OR_RETURN(const TeacherRecord r, LoadTeacherRecord(c, id));
  pb::Teacher t;
  ToProto(r, DecryptOrEmpty(r.id_enc, internal::kCtxId),
          DecryptOrEmpty(r.name_enc, internal::kCtxName), &t);
  ASSIGN_OR_RETURN(const auto placements, LoadPlacements(c, id));
  for (const auto& p : placements) {
    auto* rec = t.add_placements();
    rec->mutable_term()->set_year(static_cast<int32_t>(p.term_index / 2));
    rec->mutable_term()->set_season(p.term_index % 2 ? cpb::SEASON_AUTUMN
                                                     : cpb::SEASON_SPRING);
    rec->set_school_code(p.school_code);
    rec->set_round_id(p.round_id);
  }
  return t;
}

absl::StatusOr<pb::Teacher> TeacherSupport::LoadTeacher(int64_t id) {
  const std::string key = TeacherCacheKey(id);
  if (auto cached = host_.cache().Get(key)) {
    auto plain = host_.crypto().Decrypt(*cached, internal::kCtxCache);
    pb::Teacher t;
    if (plain.ok() && t.ParseFromString(*plain)) return t;
  }
  pb::Teacher t;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(t, LoadTeacherFromDb(c, id));
    return absl::OkStatus();
  }));
  host_.cache().Set(
      key, host_.crypto().Encrypt(t.SerializeAsString(), internal::kCtxCache));
  return t;
}

absl::Status TeacherSupport::GetTeacher(CallContext& call,
                                        const pb::GetTeacherRequest& req,
                                        pb::GetTeacherResponse* resp) {
  int64_t id = 0;
  if (req.key_case() == pb::GetTeacherRequest::kTeacherId) {
    ASSIGN_OR_RETURN(id, ParseTeacherId("teacher_id", req.teacher_id()));
  } else if (req.key_case() == pb::GetTeacherRequest::kIdNumber) {
    RETURN_IF_ERROR(ValidateIdNumber("id_number", req.id_number()).status());
    const std::string hash = IdHash(NormalizeIdNumber(req.id_number()));
    RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(const auto found, FindByIdHash(c, hash));
      if (!found) return absl::NotFoundError("no teacher has this ID number");
      id = found->first;
      return absl::OkStatus();
    }));
  } else {
    return InvalidField("key", "set teacher_id or id_number");
  }
  ASSIGN_OR_RETURN(pb::Teacher t, LoadTeacher(id));
  return FinishGetTeacher(call, std::move(t), resp);
}

std::optional<absl::Status> TeacherSupport::GetTeacherFast(
    CallContext& call, const pb::GetTeacherRequest& req,
    pb::GetTeacherResponse* resp) {
  if (req.key_case() != pb::GetTeacherRequest::kTeacherId) return std::nullopt;
  auto id = ParseTeacherId("teacher_id", req.teacher_id());
  if (!id.ok()) return id.status();
  auto cached = host_.cache().GetLocal(TeacherCacheKey(*id));
  if (!cached) return std::nullopt;
  auto plain = host_.crypto().Decrypt(*cached, internal::kCtxCache);
  pb::Teacher t;
  if (!plain.ok() || !t.ParseFromString(*plain)) return std::nullopt;
  return FinishGetTeacher(call, std::move(t), resp);
}

absl::Status TeacherSupport::FinishGetTeacher(CallContext& call, pb::Teacher t,
                                              pb::GetTeacherResponse* resp) {
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, t.region_code(), t.school_code()));
  if (!call.principal.SeesPersonalData()) {
    t.set_id_number(MaskIdNumber(t.id_number()));
    t.set_name(MaskName(t.name()));
  }
  call.AddRecord(t.teacher_id());
  call.personal_data = call.principal.SeesPersonalData();
  *resp->mutable_teacher() = std::move(t);
  return absl::OkStatus();
}

absl::Status TeacherSupport::ListTeachers(CallContext& call,
                                          const pb::ListTeachersRequest& req,
                                          pb::ListTeachersResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!req.school_code().empty() && !IsCode(req.school_code(), 20)) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  if (!req.subject().empty()) {
    RETURN_IF_ERROR(internal::ValidateLabel("subject", req.subject(), 20));
  }
  RETURN_IF_ERROR(ValidatePageSize("page_size", req.page_size(), 100, 1000)
                      .status());  // before the scope, as it always was
  TeacherQuery q;
  ASSIGN_OR_RETURN(q.region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  q.school_code = req.school_code();
  q.subject = req.subject();
  q.include_inactive = req.include_inactive();
  // A school officer lists its own school's teachers only.
  q.school = internal::SchoolScopeOf(call.principal);
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(
          req.page_token(),
          absl::StrCat("teachers|", q.region, "|", req.school_code(), "|",
                       req.subject(), "|", req.include_inactive()),
          req.page_size(), 100, 1000));
  const bool names = call.principal.SeesPersonalData();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const auto rows,
                     ListTeacherRecords(c, q, page.after(), page.limit()));
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      std::string name = DecryptOrEmpty(rows[i].name_enc, internal::kCtxName);
      ToProto(rows[i], rows[i].id_masked, names ? name : MaskName(name),
              resp->add_teachers());
    }
    resp->set_next_page_token(page.NextToken(
        rows.size(), rows.empty() ? 0 : rows[page.Keep(rows.size()) - 1].id));
    call.NoteBulkRead(static_cast<size_t>(resp->teachers_size()));
    return absl::OkStatus();
  });
}

absl::Status TeacherSupport::DeactivateTeacher(
    CallContext& call, const pb::DeactivateTeacherRequest& req,
    pb::DeactivateTeacherResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  ASSIGN_OR_RETURN(const int64_t id,
                   ParseTeacherId("teacher_id", req.teacher_id()));
  RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  call.AddRecord(req.teacher_id());
  std::vector<int64_t> campaigns_touched;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "DeactivateTeacher", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        campaigns_touched.clear();
        ASSIGN_OR_RETURN(const auto t, LoadTeacherStanding(c, id));
        if (!t) return absl::NotFoundError("no such teacher");
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, t->region_code, t->school_code));
        if (!t->active) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "ALREADY_INACTIVE",
                            "teacher_id: the teacher has already left");
        }
        const int64_t now = NowSec();
        RETURN_IF_ERROR(DeactivateTeacherRow(c, id, req.reason(), now));
        // A solution that places the teacher no longer holds.
        RETURN_IF_ERROR(UnsolveRoundsNominating(c, id));
        ASSIGN_OR_RETURN(campaigns_touched, CampaignsWithUnvisitedOf(c, id));
        for (int64_t campaign_id : campaigns_touched) {
          RETURN_IF_ERROR(ReassignHouseholdsOf(c, campaign_id, id, now,
                                               resp->add_campaigns()));
        }
        ASSIGN_OR_RETURN(pb::Teacher loaded, LoadTeacherFromDb(c, id));
        loaded.set_id_number(MaskIdNumber(loaded.id_number()));
        loaded.clear_name();  // filled after the transaction
        *resp->mutable_teacher() = std::move(loaded);
        return absl::OkStatus();
      }));
  host_.cache().Invalidate({TeacherCacheKey(id)});
  for (int64_t cid : campaigns_touched) RefreshCoverageGauges(cid);
  auto names = TeacherNames({id}, call.principal);
  if (names.ok()) resp->mutable_teacher()->set_name((*names)[id]);
  return absl::OkStatus();
}

absl::Status TeacherSupport::ReassignHouseholdsOf(
    SqlConnection& c, int64_t campaign_id, int64_t teacher_id, int64_t now,
    pb::CampaignReassignment* out) {
  ASSIGN_OR_RETURN(const CampaignRecord campaign, LoadCampaign(c, campaign_id));
  RETURN_IF_ERROR(LockCampaign(c, campaign_id));
  // Only this teacher's households move: households that had no teacher
  // wait for the next AssignCampaign, so that leaving never takes coverage
  // from a household that had it.
  ASSIGN_OR_RETURN(const auto needs,
                   LoadUnvisitedOf(c, campaign_id, teacher_id));
  RETURN_IF_ERROR(ReleaseUnvisitedOf(c, campaign_id, teacher_id, now));
  ASSIGN_OR_RETURN(const PendingResult done, AssignPending(c, campaign, needs));
  std::unordered_set<std::string> still_uncovered(done.uncovered_ids.begin(),
                                                  done.uncovered_ids.end());
  out->set_campaign_id(campaign_id);
  for (const auto& n : needs) {
    if (still_uncovered.count(n.household_id)) {
      out->set_uncovered(out->uncovered() + 1);
    } else {
      out->set_reassigned(out->reassigned() + 1);
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------- audit

absl::Status TeacherSupport::ListAuditEvents(
    CallContext& call, const pb::ListAuditEventsRequest& req,
    pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

}  // namespace eduaid::teacher
