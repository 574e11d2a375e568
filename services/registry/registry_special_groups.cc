// Special groups: SetLeftBehind, SetDisabilityPlan and ListSpecialGroups.
#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/registry.h"
#include "services/registry/school_store.h"
#include "services/registry/special_group_store.h"

namespace eduaid::registry {

absl::Status Registry::SetLeftBehind(CallContext& call,
                                     const pb::SetLeftBehindRequest& req,
                                     pb::SetLeftBehindResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ParseMemberId("member_id", req.member_id()).status());
  if (!req.clear()) {
    if (auto v = LeftBehindViolations(req.left_behind()); !v.empty()) {
      return InvalidFields(v);
    }
  }
  call.AddRecord(req.member_id());
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "SetLeftBehind", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        ASSIGN_OR_RETURN(const MemberRef m, FindMember(c, req.member_id()));
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, m.region_code, m.school_code));
        fx.stale_students.push_back(m.id_hash);
        if (req.clear()) {
          RETURN_IF_ERROR(DeleteLeftBehind(c, m.id));
        } else {
          const auto& l = req.left_behind();
          RETURN_IF_ERROR(UpsertLeftBehind(
              c, m.id, ConfirmedLeftBehind(l, host_.crypto())));
        }
        ASSIGN_OR_RETURN(*resp->mutable_student(), ReadStudent(c, m.id_hash));
        TrimWriteAnswer(resp->mutable_student());
        return absl::OkStatus();
      }));
  AfterCommit(fx);
  FinishStudentWrite(call, resp->mutable_student());
  return absl::OkStatus();
}

absl::Status Registry::SetDisabilityPlan(
    CallContext& call, const pb::SetDisabilityPlanRequest& req,
    pb::SetDisabilityPlanResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ParseMemberId("member_id", req.member_id()).status());
  const auto& plan = req.plan();
  if (auto v = DisabilityPlanViolations(plan); !v.empty()) {
    return InvalidFields(v);
  }
  const bool needs_school = PlanNeedsSchool(plan);
  call.AddRecord(req.member_id());
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "SetDisabilityPlan", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        ASSIGN_OR_RETURN(const MemberRef m, FindMember(c, req.member_id()));
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, m.region_code, m.school_code));
        fx.stale_students.push_back(m.id_hash);
        if (needs_school) {
          ASSIGN_OR_RETURN(std::optional<SchoolRecord> school,
                           FindSchool(c, plan.school_code()));
          if (!school)
            return InvalidField("plan.school_code", "no such school");
          RETURN_IF_ERROR(CheckRecordScope(call.principal, school->region_code,
                                           plan.school_code()));
        }
        RETURN_IF_ERROR(
            UpsertDisabilityPlan(c, m.id, ConfirmedPlan(plan, needs_school)));
        ASSIGN_OR_RETURN(*resp->mutable_student(), ReadStudent(c, m.id_hash));
        TrimWriteAnswer(resp->mutable_student());
        return absl::OkStatus();
      }));
  AfterCommit(fx);
  FinishStudentWrite(call, resp->mutable_student());
  return absl::OkStatus();
}

absl::Status Registry::ReportSpecialNeed(
    CallContext& call, const pb::ReportSpecialNeedRequest& req,
    pb::ReportSpecialNeedResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ParseMemberId("member_id", req.member_id()).status());
  if (req.need() != pb::SPECIAL_NEED_LEFT_BEHIND &&
      req.need() != pb::SPECIAL_NEED_DISABILITY) {
    return InvalidField("need", "must be LEFT_BEHIND or DISABILITY");
  }
  RETURN_IF_ERROR(ValidateText("note", req.note(), 500));
  RETURN_IF_ERROR(ValidateText("reported_by", req.reported_by(), 100));
  call.AddRecord(req.member_id());
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "ReportSpecialNeed", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        ASSIGN_OR_RETURN(const MemberRef m, FindMember(c, req.member_id()));
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, m.region_code, m.school_code));
        fx.stale_students.push_back(m.id_hash);
        const std::string note =
            host_.crypto().Encrypt(req.note(), kCtxReportNote);
        ASSIGN_OR_RETURN(
            const bool created,
            req.need() == pb::SPECIAL_NEED_LEFT_BEHIND
                ? ReportLeftBehind(c, m.id, req.reported_by(), note, NowSec())
                : ReportDisability(c, m.id, req.reported_by(), note, NowSec()));
        resp->set_created(created);
        ASSIGN_OR_RETURN(*resp->mutable_student(), ReadStudent(c, m.id_hash));
        TrimWriteAnswer(resp->mutable_student());
        return absl::OkStatus();
      }));
  AfterCommit(fx);
  FinishStudentWrite(call, resp->mutable_student());
  return absl::OkStatus();
}

absl::Status Registry::ListSpecialGroups(
    CallContext& call, const pb::ListSpecialGroupsRequest& req,
    pb::ListSpecialGroupsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  RETURN_IF_ERROR(ValidatePageSize("page_size", req.page_size()).status());
  if (!pb::SpecialGroupFilter_IsValid(req.filter())) {
    return InvalidField("filter", "is not a known special-group filter");
  }
  ASSIGN_OR_RETURN(const Scope scope,
                   ScopeOf(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(const IdPage page,
                   IdPage::Open(req.page_token(),
                                absl::StrCat("special|", scope.region, "|",
                                             scope.school, "|", req.filter()),
                                req.page_size()));
  const bool names = call.principal.SeesPersonalData();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     ListSpecialGroupsPage(c, scope, req.filter(), page.after(),
                                           page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      const SpecialGroupRecord& r = rows[i];
      SpecialGroupText text;
      text.name = NameFor(names, DecryptOrEmpty(r.name_enc, kCtxName));
      // Report notes are free text of a visit: not for agencies.
      if (r.left_behind) {
        text.carer_name = NameFor(
            names, DecryptOrEmpty(r.left_behind->carer_name_enc, kCtxCarer));
        if (names) {
          text.left_behind_note =
              DecryptOrEmpty(r.left_behind->report_note_enc, kCtxReportNote);
        }
      }
      if (r.disability_plan && names) {
        text.disability_note =
            DecryptOrEmpty(r.disability_plan->report_note_enc, kCtxReportNote);
      }
      ToProto(r, text, resp->add_entries());
      last = r.member_id;
    }
    resp->set_next_page_token(page.NextToken(rows.size(), last));
    ASSIGN_OR_RETURN(const auto totals, CountSpecialGroups(c, scope));
    resp->set_left_behind_total(totals.first);
    resp->set_disability_plan_total(totals.second);
    call.NoteBulkRead(resp->entries_size());
    return absl::OkStatus();
  });
}

}  // namespace eduaid::registry
