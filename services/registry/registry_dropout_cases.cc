// Dropout-control cases: OpenDropoutCase, UpdateDropoutCase and
// ListDropoutCases.
#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/dropout_case_store.h"
#include "services/registry/out_of_school_store.h"
#include "services/registry/registry.h"

namespace eduaid::registry {

absl::StatusOr<MemberRef> Registry::FindMember(SqlConnection& c,
                                               const std::string& member_id) {
  ASSIGN_OR_RETURN(const int64_t id, ParseMemberId("member_id", member_id));
  ASSIGN_OR_RETURN(std::optional<MemberRef> m, FindMemberRef(c, id));
  if (!m) return absl::NotFoundError("no such member");
  return *std::move(m);
}

absl::StatusOr<pb::DropoutCase> Registry::ReadCase(SqlConnection& c,
                                                   int64_t case_id,
                                                   const Principal& p) const {
  ASSIGN_OR_RETURN(std::optional<DropoutCaseRecord> d,
                   FindDropoutCase(c, case_id));
  if (!d) return absl::NotFoundError("no such dropout case");
  pb::DropoutCase out;
  ToProto(*d,
          NameFor(p.SeesPersonalData(), DecryptOrEmpty(d->name_enc, kCtxName)),
          &out);
  return out;
}

absl::Status Registry::OpenDropoutCase(CallContext& call,
                                       const pb::OpenDropoutCaseRequest& req,
                                       pb::OpenDropoutCaseResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ParseMemberId("member_id", req.member_id()).status());
  RETURN_IF_ERROR(ValidateText("note", req.note(), 500, /*required=*/false));
  call.AddRecord(req.member_id());
  return host_.requests().Run(
      call.principal, "OpenDropoutCase", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(const MemberRef m, FindMember(c, req.member_id()));
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, m.region_code, m.school_code));
        ASSIGN_OR_RETURN(const bool out_of_school, IsOutOfSchool(c, m.id));
        if (!out_of_school) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "NOT_OUT_OF_SCHOOL",
                            "member_id: the child is not on the out-of-school "
                            "list (run identification first)");
        }
        ASSIGN_OR_RETURN(std::optional<int64_t> active,
                         FindActiveCase(c, m.id));
        if (active) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "CASE_ALREADY_OPEN",
                            absl::StrCat("member_id: case ", *active,
                                         " is still open for this child"));
        }
        const int64_t now = NowSec();
        ASSIGN_OR_RETURN(const int64_t case_id,
                         InsertDropoutCase(c, m.id, m.region_code, now));
        RETURN_IF_ERROR(
            InsertCaseEvent(c, case_id,
                            {0, pb::DROPOUT_CASE_STATE_OPEN, req.note(),
                             call.principal.subject, now}));
        ASSIGN_OR_RETURN(*resp->mutable_dropout_case(),
                         ReadCase(c, case_id, call.principal));
        return absl::OkStatus();
      });
}

absl::Status Registry::UpdateDropoutCase(
    CallContext& call, const pb::UpdateDropoutCaseRequest& req,
    pb::UpdateDropoutCaseResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.case_id() <= 0) return InvalidField("case_id", "must be positive");
  if (!pb::DropoutCaseState_IsValid(req.state()) ||
      req.state() == pb::DROPOUT_CASE_STATE_UNSPECIFIED ||
      req.state() == pb::DROPOUT_CASE_STATE_OPEN) {
    return InvalidField("state",
                        "must be VISITED, RETURNED, EXEMPT or ESCALATED");
  }
  RETURN_IF_ERROR(ValidateText("note", req.note(), 500));
  call.AddRecord(absl::StrCat("case:", req.case_id()));
  return host_.requests().Run(
      call.principal, "UpdateDropoutCase", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<CaseScopeRecord> cur,
                         FindCaseScope(c, req.case_id()));
        if (!cur) return absl::NotFoundError("no such dropout case");
        RETURN_IF_ERROR(CheckRecordScope(call.principal, cur->region_code,
                                         cur->school_code));
        if (!AllowedTransition(cur->state, req.state())) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "INVALID_TRANSITION",
              absl::StrCat("state: a case in ",
                           pb::DropoutCaseState_Name(
                               static_cast<pb::DropoutCaseState>(cur->state)),
                           " cannot move to ",
                           pb::DropoutCaseState_Name(req.state())));
        }
        const int64_t now = NowSec();
        RETURN_IF_ERROR(SetCaseState(c, req.case_id(), req.state(), now));
        RETURN_IF_ERROR(InsertCaseEvent(c, req.case_id(),
                                        {cur->state, req.state(), req.note(),
                                         call.principal.subject, now}));
        ASSIGN_OR_RETURN(*resp->mutable_dropout_case(),
                         ReadCase(c, req.case_id(), call.principal));
        return absl::OkStatus();
      });
}

absl::Status Registry::ListDropoutCases(CallContext& call,
                                        const pb::ListDropoutCasesRequest& req,
                                        pb::ListDropoutCasesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::DropoutCaseState_IsValid(req.state())) {
    return InvalidField("state", "is not a known case state");
  }
  RETURN_IF_ERROR(
      ValidatePageSize("page_size", req.page_size(), 50, 500).status());
  // A school officer sees the cases of children whose current enrolment
  // is at its school.
  ASSIGN_OR_RETURN(const Scope scope,
                   ScopeOf(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(const IdPage page,
                   IdPage::Open(req.page_token(),
                                absl::StrCat("cases|", scope.region, "|",
                                             scope.school, "|", req.state()),
                                req.page_size(), 50, 500));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(
        auto ids, ListDropoutCaseIds(c, scope.region, scope.school, req.state(),
                                     page.after(), page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(ids.size()); ++i) {
      ASSIGN_OR_RETURN(*resp->add_cases(), ReadCase(c, ids[i], call.principal));
      last = ids[i];
    }
    resp->set_next_page_token(page.NextToken(ids.size(), last));
    call.NoteBulkRead(resp->cases_size());
    return absl::OkStatus();
  });
}

}  // namespace eduaid::registry
