// Public posting (公示) of a school's aid with masked names, and objections
// to a line of it (each opens a grievance).
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/grievance_store.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/posting_store.h"

namespace eduaid::ledger {
namespace {

// Common prefix of two region codes.
std::string CommonPrefix(const std::string& a, const std::string& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return a.substr(0, n);
}

}  // namespace

absl::StatusOr<pb::Posting> Ledger::LoadPosting(SqlConnection& c,
                                                int64_t posting_id) {
  ASSIGN_OR_RETURN(PostingRecord r, LoadPostingRecord(c, posting_id));
  pb::Posting p;
  ToProto(r, &p);
  ASSIGN_OR_RETURN(auto lines, LoadPostingLines(c, posting_id));
  for (const PostingLineRecord& l : lines) {
    pb::PostingLine* line = p.add_lines();
    line->set_line_no(l.line_no);
    line->set_name(l.masked_name);
    line->set_programme_code(l.programme_code);
    line->set_programme_name(ProgrammeName(c, l.standard_id));
    line->set_amount_fen(l.amount_fen);
    line->set_stage(static_cast<cpb::SchoolStage>(l.stage));
    line->set_grade(static_cast<int32_t>(l.grade));
  }
  ASSIGN_OR_RETURN(const int64_t objections, CountObjections(c, posting_id));
  p.set_objections(objections);
  return p;
}

absl::StatusOr<pb::Posting> Ledger::CreatePostingIn(
    SqlConnection& c, CallContext& call, const pb::CreatePostingRequest& req,
    int objection_days) {
  const std::string term = TermKey(req.term());
  ASSIGN_OR_RETURN(auto rows,
                   ListPostableEntitlements(c, req.school_code(), term,
                                            call.principal.region));
  if (rows.empty()) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "NOTHING_TO_POST",
        absl::StrCat("no aid at school ", req.school_code(), " for ", term,
                     " within the caller's region"));
  }
  PostingRecord posting;
  posting.school_code = req.school_code();
  posting.school_name = rows[0].school_name;
  posting.region_code = rows[0].region_code;
  posting.term = term;
  for (const PostableEntitlement& r : rows) {
    posting.region_code = CommonPrefix(posting.region_code, r.region_code);
    if (!CheckedAdd(posting.total_fen, r.amount_fen, &posting.total_fen)) {
      return absl::OutOfRangeError("posting total exceeds int64 fen");
    }
  }
  posting.published_on = TodayCst();
  posting.objection_until = AddDays(posting.published_on, objection_days);
  posting.created_by = call.principal.subject;
  ASSIGN_OR_RETURN(const int64_t id, InsertPosting(c, posting, NowMs()));
  int32_t line_no = 0;
  for (const PostableEntitlement& r : rows) {
    PostingLineRecord line;
    line.line_no = ++line_no;
    line.entitlement_id = r.id;
    line.masked_name =
        MaskName(Decrypt(r.payee_name_enc, internal::kCtxPayeeName));
    line.programme_code = r.programme_code;
    line.amount_fen = r.amount_fen;
    line.stage = r.stage;
    line.grade = r.grade;
    RETURN_IF_ERROR(InsertPostingLine(c, id, line));
  }
  return LoadPosting(c, id);
}

absl::Status Ledger::CreatePosting(CallContext& call,
                                   const pb::CreatePostingRequest& req,
                                   pb::CreatePostingResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (!IsSchoolCode(req.school_code())) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  if (req.objection_days() != 0 &&
      (req.objection_days() < 5 || req.objection_days() > 30)) {
    return InvalidField("objection_days", "must be 5..30 (0 means 7)");
  }
  RETURN_IF_ERROR(internal::RequireOfficerOrSchool(
      call.principal, req.school_code(), "publish postings"));
  const int days = req.objection_days() == 0 ? 7 : req.objection_days();
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "CreatePosting", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(*resp->mutable_posting(),
                         CreatePostingIn(c, call, req, days));
        return absl::OkStatus();
      }));
  call.NoteBulkRead(resp->posting().lines_size());
  call.AddRecord(absl::StrCat("posting:", resp->posting().posting_id()));
  return absl::OkStatus();
}

absl::Status Ledger::GetPosting(CallContext& call,
                                const pb::GetPostingRequest& req,
                                pb::GetPostingResponse* resp) {
  RETURN_IF_ERROR(ValidateRecordId("posting_id", req.posting_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(pb::Posting p, LoadPosting(c, req.posting_id()));
    RETURN_IF_ERROR(
        CheckRecordScope(call.principal, p.region_code(), p.school_code()));
    // The lines name students (masked).
    call.NoteBulkRead(p.lines_size());
    call.AddRecord(absl::StrCat("posting:", p.posting_id()));
    *resp->mutable_posting() = std::move(p);
    return absl::OkStatus();
  });
}

absl::StatusOr<pb::Grievance> Ledger::FileObjectionIn(
    SqlConnection& c, CallContext& call, const pb::FileObjectionRequest& req) {
  ASSIGN_OR_RETURN(PostingRecord p, LoadPostingRecord(c, req.posting_id()));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, p.region_code, p.school_code));
  if (TodayCst() > p.objection_until) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "OBJECTION_PERIOD_OVER",
                      absl::StrCat("objections to posting ", p.id,
                                   " closed on ", p.objection_until));
  }
  ASSIGN_OR_RETURN(PostedEntitlement line,
                   LoadPostedEntitlement(c, p.id, req.line_no()));
  GrievanceRecord g;
  g.entitlement_id = line.entitlement_id;
  g.payment_id = line.payment_id;
  g.posting_id = p.id;
  g.posting_line = req.line_no();
  g.region_code = line.region_code;
  g.school_code = line.school_code;
  g.source = pb::GRIEVANCE_SOURCE_POSTING_OBJECTION;
  return InsertGrievance(c, call, std::move(g), req.description());
}

absl::Status Ledger::FileObjection(CallContext& call,
                                   const pb::FileObjectionRequest& req,
                                   pb::FileObjectionResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("posting_id", req.posting_id()));
  if (req.line_no() <= 0) return InvalidField("line_no", "must be positive");
  RETURN_IF_ERROR(ValidateText("description", req.description(), 500));
  RETURN_IF_ERROR(
      host_.requests().Run(call.principal, "FileObjection", req.request_id(),
                           req, resp, [&](SqlConnection& c) -> absl::Status {
                             ASSIGN_OR_RETURN(*resp->mutable_grievance(),
                                              FileObjectionIn(c, call, req));
                             return absl::OkStatus();
                           }));
  call.AddRecord(absl::StrCat("grievance:", resp->grievance().grievance_id()));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
