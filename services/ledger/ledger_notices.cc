// Work point 3.3 after payment: written notices and their acknowledgement,
// follow-up visits (a visit that finds the money missing opens a
// grievance), and the chain that links a payment to all of them.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/grievance_store.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/notice/notice_format.h"
#include "services/ledger/notice_store.h"
#include "services/ledger/payment_store.h"

namespace eduaid::ledger {
namespace {

using internal::kCtxNote;

std::string NoticeNo(const std::string& region, const cpb::Term& term,
                     int64_t payment_id) {
  char id[24];
  std::snprintf(id, sizeof id, "%08lld", static_cast<long long>(payment_id));
  return absl::StrCat(region, "-", term.year(),
                      term.season() == cpb::SEASON_AUTUMN ? "A" : "S", "-", id);
}

// A date field: `value` or, when empty, today; a real date not in the
// future and not before `not_before` (YYYY-MM-DD, may be empty).
absl::StatusOr<std::string> PastDate(absl::string_view field,
                                     const std::string& value,
                                     const std::string& not_before) {
  const std::string today = TodayCst();
  const std::string date = value.empty() ? today : value;
  RETURN_IF_ERROR(ValidateDate(field, date));
  if (date > today) return InvalidField(field, "must not be in the future");
  if (!not_before.empty() && date < not_before) {
    return InvalidField(
        field,
        absl::StrCat("must not be before the payment date ", not_before));
  }
  return date;
}

absl::Status ValidateAck(const pb::AcknowledgeNoticeRequest& req) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("payment_id", req.payment_id()));
  if (!pb::AckParty_IsValid(req.party()) ||
      req.party() == pb::ACK_PARTY_UNSPECIFIED) {
    return InvalidField("party", "must be ACK_PARTY_STUDENT or GUARDIAN");
  }
  if (!pb::AckMethod_IsValid(req.method()) ||
      req.method() == pb::ACK_METHOD_UNSPECIFIED) {
    return InvalidField("method", "must be a known acknowledgement method");
  }
  RETURN_IF_ERROR(ValidateText("note", req.note(), 200, false));
  if (!req.acknowledged_on().empty()) {
    RETURN_IF_ERROR(
        PastDate("acknowledged_on", req.acknowledged_on(), "").status());
  }
  return absl::OkStatus();
}

absl::Status ValidateFollowUp(const pb::RecordFollowUpRequest& req) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("payment_id", req.payment_id()));
  RETURN_IF_ERROR(ValidateText("visitor", req.visitor(), 50));
  if (!pb::FollowUpOutcome_IsValid(req.outcome()) ||
      req.outcome() == pb::FOLLOW_UP_OUTCOME_UNSPECIFIED) {
    return InvalidField("outcome", "must be a known follow-up outcome");
  }
  RETURN_IF_ERROR(ValidateText("note", req.note(), 500, false));
  RETURN_IF_ERROR(ValidateText("source_ref", req.source_ref(), 100, false));
  if (!req.visited_on().empty()) {
    RETURN_IF_ERROR(PastDate("visited_on", req.visited_on(), "").status());
  }
  return absl::OkStatus();
}

}  // namespace

// ---------------------------------------------------------------- notices

absl::StatusOr<pb::Notice> Ledger::BuildNotice(SqlConnection& c,
                                               CallContext& call,
                                               int64_t payment_id) {
  ASSIGN_OR_RETURN(NoticeFacts f, LoadNoticeFacts(c, payment_id));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, f.region_code, f.school_code));
  if (f.state != pb::PAYMENT_STATE_PAID &&
      f.state != pb::PAYMENT_STATE_REVERSED) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "PAYMENT_STATE",
                      absl::StrCat("payment ", payment_id, " is ",
                                   pb::PaymentState_Name(
                                       static_cast<pb::PaymentState>(f.state)),
                                   "; a notice exists once it is paid"));
  }
  ASSIGN_OR_RETURN(std::optional<AckRecord> ack, LoadAck(c, payment_id));
  return NoticeProto(c, call, f, ack);
}

pb::Notice Ledger::NoticeProto(SqlConnection& c, CallContext& call,
                               const NoticeFacts& f,
                               const std::optional<AckRecord>& ack) {
  pb::Notice n;
  n.set_payment_id(f.payment_id);
  if (auto term = ParseTermKey(f.term)) *n.mutable_term() = *term;
  n.set_notice_no(NoticeNo(f.region_code, n.term(), f.payment_id));
  n.set_programme_code(f.programme_code);
  n.set_programme_name(ProgrammeName(c, f.standard_id));
  n.set_standard_id(f.standard_id);
  n.set_amount_fen(f.amount_fen);
  n.set_amount_yuan(FormatYuan(f.amount_fen));
  n.set_paid_on(DateCst(f.paid_at_ms));
  n.set_issued_on(n.paid_on());
  n.set_payee_name(ShowName(call, f.payee_name_enc));
  n.set_school_name(f.school_name);
  n.set_region_code(f.region_code);
  if (ack) {
    pb::Acknowledgement* out = n.mutable_acknowledgement();
    out->set_acknowledged_on(ack->acknowledged_on);
    out->set_party(ack->party);
    out->set_method(ack->method);
    out->set_note(ShowText(call, ack->note_enc));
    out->set_recorded_by(ack->recorded_by);
  }
  return n;
}

absl::Status Ledger::GetNotice(CallContext& call,
                               const pb::GetNoticeRequest& req,
                               pb::GetNoticeResponse* resp) {
  RETURN_IF_ERROR(ValidateRecordId("payment_id", req.payment_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(*resp->mutable_notice(),
                     BuildNotice(c, call, req.payment_id()));
    call.AddRecord(absl::StrCat("notice:", req.payment_id()));
    return absl::OkStatus();
  });
}

absl::StatusOr<PaymentPlace> Ledger::PaidPaymentFor(SqlConnection& c,
                                                    CallContext& call,
                                                    int64_t payment_id,
                                                    absl::string_view action) {
  ASSIGN_OR_RETURN(PaymentPlace p, LoadPaymentPlace(c, payment_id));
  RETURN_IF_ERROR(
      internal::RequireRecorder(call.principal, p.school_code, action));
  if (p.state != pb::PAYMENT_STATE_PAID) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "PAYMENT_STATE",
                      "the payment was reversed");
  }
  return p;
}

absl::Status Ledger::AcknowledgeNotice(CallContext& call,
                                       const pb::AcknowledgeNoticeRequest& req,
                                       pb::AcknowledgeNoticeResponse* resp) {
  RETURN_IF_ERROR(ValidateAck(req));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "AcknowledgeNotice", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(pb::Notice notice,
                         BuildNotice(c, call, req.payment_id()));
        RETURN_IF_ERROR(
            PaidPaymentFor(c, call, req.payment_id(), "record acknowledgements")
                .status());
        if (notice.has_acknowledgement()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "ALREADY_ACKNOWLEDGED",
              absl::StrCat("the notice of payment ", req.payment_id(),
                           " was acknowledged on ",
                           notice.acknowledgement().acknowledged_on()));
        }
        AckRecord ack{
            "", req.party(), req.method(),
            req.note().empty() ? std::string() : Encrypt(req.note(), kCtxNote),
            call.principal.subject};
        ASSIGN_OR_RETURN(ack.acknowledged_on,
                         PastDate("acknowledged_on", req.acknowledged_on(),
                                  notice.paid_on()));
        RETURN_IF_ERROR(InsertAck(c, req.payment_id(), ack, NowMs()));
        ASSIGN_OR_RETURN(*resp->mutable_notice(),
                         BuildNotice(c, call, req.payment_id()));
        return absl::OkStatus();
      }));
  call.AddRecord(absl::StrCat("notice:", req.payment_id()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- follow-ups

absl::Status Ledger::RecordFollowUpIn(SqlConnection& c, CallContext& call,
                                      const pb::RecordFollowUpRequest& req,
                                      pb::RecordFollowUpResponse* resp) {
  ASSIGN_OR_RETURN(pb::Notice notice, BuildNotice(c, call, req.payment_id()));
  ASSIGN_OR_RETURN(PaymentPlace p, PaidPaymentFor(c, call, req.payment_id(),
                                                  "record follow-up visits"));
  FollowUpRecord f;
  ASSIGN_OR_RETURN(f.visited_on,
                   PastDate("visited_on", req.visited_on(), notice.paid_on()));
  if (req.outcome() == pb::FOLLOW_UP_OUTCOME_NOT_RECEIVED ||
      req.outcome() == pb::FOLLOW_UP_OUTCOME_RECEIVED_PARTIALLY) {
    GrievanceRecord g;
    g.entitlement_id = p.entitlement_id;
    g.payment_id = req.payment_id();
    g.region_code = p.region_code;
    g.school_code = p.school_code;
    g.source = pb::GRIEVANCE_SOURCE_FOLLOW_UP;
    ASSIGN_OR_RETURN(
        *resp->mutable_grievance(),
        InsertGrievance(
            c, call, std::move(g),
            absl::StrCat("follow-up visit on ", f.visited_on, " by ",
                         req.visitor(), ": ",
                         pb::FollowUpOutcome_Name(req.outcome()),
                         req.note().empty() ? "" : ": ", req.note())));
    f.grievance_id = resp->grievance().grievance_id();
  }
  f.payment_id = req.payment_id();
  f.visitor = req.visitor();
  f.outcome = req.outcome();
  f.note_enc =
      req.note().empty() ? std::string() : Encrypt(req.note(), kCtxNote);
  f.recorded_by = call.principal.subject;
  f.source_ref = req.source_ref();
  ASSIGN_OR_RETURN(f.id, InsertFollowUp(c, f, NowMs()));
  ToProto(f, resp->mutable_follow_up());
  resp->mutable_follow_up()->set_note(req.note().empty() ? "" : "(recorded)");
  return absl::OkStatus();
}

absl::Status Ledger::RecordFollowUp(CallContext& call,
                                    const pb::RecordFollowUpRequest& req,
                                    pb::RecordFollowUpResponse* resp) {
  RETURN_IF_ERROR(ValidateFollowUp(req));
  RETURN_IF_ERROR(
      host_.requests().Run(call.principal, "RecordFollowUp", req.request_id(),
                           req, resp, [&](SqlConnection& c) -> absl::Status {
                             return RecordFollowUpIn(c, call, req, resp);
                           }));
  call.AddRecord(absl::StrCat("follow_up:", resp->follow_up().follow_up_id()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- chain

pb::FollowUp Ledger::FollowUpProto(CallContext& call, const FollowUpRecord& v) {
  pb::FollowUp f;
  ToProto(v, &f);
  f.set_note(ShowText(call, v.note_enc));
  return f;
}

absl::Status Ledger::FillPaymentChain(SqlConnection& c, CallContext& call,
                                      int64_t payment_id,
                                      pb::GetPaymentChainResponse* resp) {
  ASSIGN_OR_RETURN(pb::Payment p, LoadPayment(c, call, payment_id));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, p.region_code(), p.school_code()));
  ASSIGN_OR_RETURN(pb::Entitlement e,
                   LoadEntitlement(c, call, p.entitlement_id()));
  if (p.state() == pb::PAYMENT_STATE_PAID ||
      p.state() == pb::PAYMENT_STATE_REVERSED) {
    ASSIGN_OR_RETURN(*resp->mutable_notice(),
                     BuildNotice(c, call, p.payment_id()));
  }
  ASSIGN_OR_RETURN(auto visits, FollowUpsOfPayment(c, p.payment_id()));
  for (const FollowUpRecord& v : visits) {
    *resp->add_follow_ups() = FollowUpProto(call, v);
  }
  ASSIGN_OR_RETURN(auto grievances,
                   GrievancesOfEntitlement(c, p.entitlement_id()));
  for (const GrievanceRecord& g : grievances) {
    *resp->add_grievances() = GrievanceProto(call, g);
  }
  ASSIGN_OR_RETURN(auto entries, JournalOfPayment(c, p.payment_id(),
                                                  /*originals_only=*/false));
  for (const JournalRecord& r : entries) {
    ToProto(r, resp->add_journal_entries());
  }
  *resp->mutable_payment() = std::move(p);
  *resp->mutable_entitlement() = std::move(e);
  return absl::OkStatus();
}

absl::Status Ledger::GetPaymentChain(CallContext& call,
                                     const pb::GetPaymentChainRequest& req,
                                     pb::GetPaymentChainResponse* resp) {
  RETURN_IF_ERROR(ValidateRecordId("payment_id", req.payment_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    RETURN_IF_ERROR(FillPaymentChain(c, call, req.payment_id(), resp));
    call.AddRecord(absl::StrCat("payment:", req.payment_id()));
    return absl::OkStatus();
  });
}

}  // namespace eduaid::ledger
