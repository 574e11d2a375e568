// Reads of students: GetStudent (cached), ListStudents, ListOutOfSchool and
// GetCoverage.
#include "absl/strings/str_cat.h"
#include "services/common/cache.h"
#include "services/common/crypto.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/arrangement_store.h"
#include "services/registry/coverage_store.h"
#include "services/registry/dropout_case_store.h"
#include "services/registry/out_of_school_store.h"
#include "services/registry/registry.h"
#include "services/registry/special_group_store.h"

namespace eduaid::registry {
namespace {

namespace cpb = ::eduaid::common::v1;

// GetStudent's answers for a key that matches no one the caller may see.
constexpr char kNoSuchIdNumber[] =
    "no registered household member has this ID number";
constexpr char kNoSuchMember[] = "no such member";

}  // namespace

absl::StatusOr<pb::Student> Registry::ReadStudent(
    SqlConnection& c, const std::string& id_hash) const {
  ASSIGN_OR_RETURN(std::optional<StudentRecord> m, FindStudent(c, id_hash));
  if (!m) return absl::NotFoundError(kNoSuchIdNumber);
  pb::Student s;
  ToProto(*m, DecryptOrEmpty(m->id_enc, kCtxId),
          DecryptOrEmpty(m->name_enc, kCtxName), &s);
  ASSIGN_OR_RETURN(auto history, EnrolmentHistory(c, id_hash));
  for (const auto& e : history) {
    auto* pe = s.add_enrolment_history();
    ToProto(e, pe);
    if (e.current) *s.mutable_current_enrolment() = *pe;
  }
  ASSIGN_OR_RETURN(auto left_behind, FindLeftBehind(c, m->id));
  if (left_behind) {
    ToProto(*left_behind,
            DecryptOrEmpty(left_behind->carer_name_enc, kCtxCarer),
            DecryptOrEmpty(left_behind->report_note_enc, kCtxReportNote),
            s.mutable_left_behind());
  }
  ASSIGN_OR_RETURN(auto plan, FindDisabilityPlan(c, m->id));
  if (plan) {
    ToProto(*plan, DecryptOrEmpty(plan->report_note_enc, kCtxReportNote),
            s.mutable_disability_plan());
  }
  ASSIGN_OR_RETURN(auto arrangement, FindRunningArrangement(c, m->id));
  if (arrangement) {
    *s.mutable_arrangement() = ArrangementProto(*arrangement, /*names=*/true);
  }
  return s;
}

absl::StatusOr<pb::Student> Registry::LoadStudent(const std::string& id_hash) {
  // Each value is bound to its own key (associated data): a value copied
  // under another student's key does not decrypt, and the read falls back
  // to the database.
  const std::string key = StudentCacheKey(id_hash);
  if (auto cached = host_.cache().Get(key)) {
    auto plain = host_.crypto().Decrypt(*cached, key);
    pb::Student s;
    if (plain.ok() && s.ParseFromString(*plain)) return s;
  }
  pb::Student s;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(s, ReadStudent(c, id_hash));
    return absl::OkStatus();
  }));
  host_.cache().Set(key, host_.crypto().Encrypt(s.SerializeAsString(), key));
  return s;
}

void Registry::FinishStudentWrite(CallContext& call, pb::Student* s) {
  MaskStudent(call.principal.SeesPersonalData(), s);
  call.personal_data = call.principal.SeesPersonalData();
}

absl::Status Registry::GetStudent(CallContext& call,
                                  const pb::GetStudentRequest& req,
                                  pb::GetStudentResponse* resp) {
  std::string hash;
  if (req.key_case() == pb::GetStudentRequest::kIdNumber) {
    RETURN_IF_ERROR(ValidateIdNumber("id_number", req.id_number()).status());
    hash = IdHash(NormalizeIdNumber(req.id_number()));
  } else if (req.key_case() == pb::GetStudentRequest::kMemberId) {
    ASSIGN_OR_RETURN(const int64_t id,
                     ParseMemberId("member_id", req.member_id()));
    RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(std::optional<std::string> found, FindMemberHash(c, id));
      if (!found) return absl::NotFoundError(kNoSuchMember);
      hash = std::move(*found);
      return absl::OkStatus();
    }));
  } else {
    return InvalidField("key", "set id_number or member_id");
  }
  ASSIGN_OR_RETURN(pb::Student s, LoadStudent(hash));
  return FinishGetStudent(call, std::move(s),
                          req.key_case() == pb::GetStudentRequest::kIdNumber
                              ? kNoSuchIdNumber
                              : kNoSuchMember,
                          resp);
}

absl::Status Registry::FinishGetStudent(CallContext& call, pb::Student s,
                                        absl::string_view not_found,
                                        pb::GetStudentResponse* resp) const {
  // Whether a child outside the caller's scope is registered at all is
  // itself personal data (a registered poor household): such a child is
  // answered exactly as one that does not exist. The audit still records
  // the refusal.
  if (!CheckRecordScope(call.principal, s.region_code(),
                        s.current_enrolment().school_code())
           .ok()) {
    call.NoteHiddenDenial(s.member_id());
    return absl::NotFoundError(not_found);
  }
  MaskStudent(call.principal.SeesPersonalData(), &s);
  call.AddRecord(s.member_id());
  call.personal_data = call.principal.SeesPersonalData();
  *resp->mutable_student() = std::move(s);
  return absl::OkStatus();
}

std::optional<absl::Status> Registry::GetStudentFast(
    CallContext& call, const pb::GetStudentRequest& req,
    pb::GetStudentResponse* resp) {
  if (req.key_case() != pb::GetStudentRequest::kIdNumber) return std::nullopt;
  auto info = ValidateIdNumber("id_number", req.id_number());
  if (!info.ok()) return info.status();
  const std::string key =
      StudentCacheKey(IdHash(NormalizeIdNumber(req.id_number())));
  auto cached = host_.cache().GetLocal(key);
  if (!cached) return std::nullopt;
  auto plain = host_.crypto().Decrypt(*cached, key);
  pb::Student s;
  if (!plain.ok() || !s.ParseFromString(*plain)) return std::nullopt;
  return FinishGetStudent(call, std::move(s), kNoSuchIdNumber, resp);
}

absl::Status Registry::ListStudents(CallContext& call,
                                    const pb::ListStudentsRequest& req,
                                    pb::ListStudentsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!req.school_code().empty() && !IsCode(req.school_code(), 20)) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  if (!cpb::SchoolStage_IsValid(req.stage())) {
    return InvalidField("stage", "is not a known school stage");
  }
  if (!pb::EnrolmentStatus_IsValid(req.status())) {
    return InvalidField("status", "is not a known enrolment status");
  }
  RETURN_IF_ERROR(ValidatePageSize("page_size", req.page_size()).status());
  ASSIGN_OR_RETURN(const Scope scope,
                   ScopeOf(call.principal, req.region_prefix()));
  StudentListFilter filter{scope.region, req.school_code(), req.stage(),
                           req.status() == pb::ENROLMENT_STATUS_UNSPECIFIED
                               ? pb::ENROLMENT_STATUS_ENROLLED
                               : req.status()};
  if (!scope.school.empty()) {
    RETURN_IF_ERROR(CheckSchool(
        call.principal, filter.school.empty() ? scope.school : filter.school));
    filter.school = scope.school;
  }
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("students|", filter.region, "|", filter.school,
                                "|", filter.stage, "|", filter.status),
                   req.page_size()));
  filter.after = page.after();
  filter.limit = page.limit();
  const bool names = call.principal.SeesPersonalData();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, ListStudentsPage(c, filter));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      const ListedStudent& r = rows[i];
      auto* s = resp->add_students();
      ToProto(r.member, r.member.id_masked,
              NameFor(names, DecryptOrEmpty(r.member.name_enc, kCtxName)), s);
      ToProto(r.current, s->mutable_current_enrolment());
      last = r.member.id;
    }
    resp->set_next_page_token(page.NextToken(rows.size(), last));
    call.NoteBulkRead(resp->students_size());
    return absl::OkStatus();
  });
}

absl::Status Registry::ListOutOfSchool(CallContext& call,
                                       const pb::ListOutOfSchoolRequest& req,
                                       pb::ListOutOfSchoolResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  RETURN_IF_ERROR(ValidatePageSize("page_size", req.page_size()).status());
  // A school officer sees the children whose last enrolment is at its
  // school (dropped out of it).
  ASSIGN_OR_RETURN(const Scope scope,
                   ScopeOf(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("oos|", scope.region, "|", scope.school),
                   req.page_size()));
  const bool names = call.principal.SeesPersonalData();
  const std::string today = TodayCst();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     ListOutOfSchoolPage(c, scope.region, scope.school,
                                         page.after(), page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      ToProto(rows[i],
              NameFor(names, DecryptOrEmpty(rows[i].name_enc, kCtxName)), today,
              resp->add_children());
      last = rows[i].member_id;
    }
    resp->set_next_page_token(page.NextToken(rows.size(), last));
    ASSIGN_OR_RETURN(const int64_t total, CountOutOfSchool(c, scope));
    resp->set_total(total);
    call.NoteBulkRead(resp->children_size());
    return absl::OkStatus();
  });
}

absl::Status Registry::GetCoverage(CallContext& call,
                                   const pb::GetCoverageRequest& req,
                                   pb::GetCoverageResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  // A school officer gets its school's figures: the members whose current
  // enrolment is there (its out-of-school children are those who dropped
  // out of it).
  ASSIGN_OR_RETURN(const Scope scope,
                   ScopeOf(call.principal, req.region_prefix()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::optional<RunRecord> run, LatestRun(c));
    const std::string as_of = run ? run->as_of : TodayCst();
    if (run) resp->set_run_id(run->run_id);
    resp->set_as_of(as_of);
    ASSIGN_OR_RETURN(auto rows, CountCoverage(c, SchoolAgeMonths(as_of),
                                              scope.region, scope.school));
    ASSIGN_OR_RETURN(auto open, CountOpenCases(c, scope.region, scope.school));
    auto* total = resp->mutable_total();
    total->set_region_code(scope.region);
    for (const auto& r : rows) {
      auto* g = resp->add_regions();
      ToProto(r, g);
      g->set_open_cases(open[r.region_code]);
      AddCoverage(*g, total);
    }
    total->set_disability_plan_rate(
        PlanRate(total->disability_plans(), total->disabled()));
    return absl::OkStatus();
  });
}

}  // namespace eduaid::registry
