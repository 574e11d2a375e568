// Single payments (group commit), payment listing and reversal.
#include <string>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/entitlement_store.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/payment_store.h"

namespace eduaid::ledger {
namespace {

// Entitlement states as the single-payment path refuses them.
absl::Status NotPayable(const PayableEntitlement& e) {
  switch (e.state) {
    case pb::ENTITLEMENT_STATE_PAID:
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "ALREADY_PAID",
          absl::StrCat("entitlement ", e.id, " is already paid (payment ",
                       e.payment_id, ")"));
    case pb::ENTITLEMENT_STATE_BATCHED:
      return WithReason(absl::StatusCode::kFailedPrecondition,
                        "ENTITLEMENT_STATE",
                        absl::StrCat("entitlement ", e.id, " is in batch ",
                                     e.batch_id, "; it is paid there"));
    case pb::ENTITLEMENT_STATE_WAIVED:
      return WithReason(absl::StatusCode::kFailedPrecondition,
                        "ENTITLEMENT_STATE",
                        absl::StrCat("entitlement ", e.id,
                                     " is a fee waiver: nothing to pay"));
    default:
      return WithReason(absl::StatusCode::kFailedPrecondition,
                        "ENTITLEMENT_STATE",
                        absl::StrCat("entitlement ", e.id, " is cancelled"));
  }
}

absl::Status ValidateList(const pb::ListPaymentsRequest& req) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (TermSet(req.term())) RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  if (req.batch_id() < 0) {
    return InvalidField("batch_id", "must not be negative");
  }
  if (!pb::PaymentState_IsValid(req.state())) {
    return InvalidField("state", "is not a known payment state");
  }
  if (!req.member_id().empty()) {
    RETURN_IF_ERROR(ValidateMemberId("member_id", req.member_id()));
  }
  if (!req.programme_code().empty() && !IsProgrammeCode(req.programme_code())) {
    return InvalidField("programme_code", "must be 1..40 of A-Z 0-9 _");
  }
  return absl::OkStatus();
}

}  // namespace

pb::Payment Ledger::PaymentProto(SqlConnection& c, CallContext& call,
                                 const PaymentRecord& r) {
  pb::Payment p;
  ToProto(r, &p);
  p.set_programme_name(ProgrammeName(c, r.standard_id));
  p.set_payee_name(ShowName(call, r.payee_name_enc));
  return p;
}

absl::StatusOr<pb::Payment> Ledger::LoadPayment(SqlConnection& c,
                                                CallContext& call,
                                                int64_t payment_id) {
  ASSIGN_OR_RETURN(PaymentRecord p, LoadPaymentRecord(c, payment_id));
  return PaymentProto(c, call, p);
}

absl::Status Ledger::DisburseIn(SqlConnection& c, CallContext& call,
                                int64_t entitlement_id, Disbursed& disbursed,
                                pb::JournalAnchor& head, pb::Payment* out) {
  // The head lock first: payment writers queue in one order.
  ASSIGN_OR_RETURN(JournalAppender journal, JournalAppender::Open(c));
  ASSIGN_OR_RETURN(PayableEntitlement e,
                   LoadPayableEntitlement(c, entitlement_id));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, e.region_code, e.school_code));
  if (e.state != pb::ENTITLEMENT_STATE_OPEN) return NotPayable(e);
  if (e.originator_subject == call.principal.subject) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "SAME_APPROVER",
        absl::StrCat("entitlement ", e.id,
                     " was originated by this principal (raised by it or on "
                     "its behalf); a different principal must pay it "
                     "(two-person rule)"));
  }
  PaymentRecord p;
  p.entitlement_id = e.id;
  p.member_id = e.member_id;
  p.programme_code = e.programme_code;
  p.term = e.term;
  p.region_code = e.region_code;
  p.school_code = e.school_code;
  p.amount_fen = e.amount_fen;
  p.state = pb::PAYMENT_STATE_PAID;
  p.paid_at_ms = NowMs();
  p.paid_by = call.principal.subject;
  p.payee_name_enc = e.payee_name_enc;
  p.standard_id = e.standard_id;
  RETURN_IF_ERROR(InsertPaidPayment(c, &p));
  RETURN_IF_ERROR(JournalPayment(c, journal,
                                 {p.id, p.member_id, p.programme_code, p.term,
                                  p.region_code, p.standard_id, p.amount_fen},
                                 p.paid_at_ms));
  RETURN_IF_ERROR(journal.Flush());
  head.set_entries(journal.last_id());
  head.set_head_hash(journal.last_hash());
  ASSIGN_OR_RETURN(int64_t n, MarkEntitlementPaid(c, e.id, p.id, p.paid_at_ms));
  if (n != 1) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "ENTITLEMENT_STATE",
                      "the entitlement changed meanwhile; look again");
  }
  // The answer from what was just written, rather than reading it back.
  *out = PaymentProto(c, call, p);
  disbursed.fen[{p.programme_code, p.region_code}] += p.amount_fen;
  return absl::OkStatus();
}

absl::Status Ledger::DisburseEntitlement(
    CallContext& call, const pb::DisburseEntitlementRequest& req,
    pb::DisburseEntitlementResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("entitlement_id", req.entitlement_id()));
  Disbursed disbursed;
  pb::JournalAnchor head;
  absl::Status st = group_commit_.Run(
      call.principal, "DisburseEntitlement", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        disbursed = Disbursed();
        head.Clear();
        return DisburseIn(c, call, req.entitlement_id(), disbursed, head,
                          resp->mutable_payment());
      });
  if (!st.ok()) {
    if (st.code() == absl::StatusCode::kFailedPrecondition &&
        ReasonOf(st) != "REQUEST_ID_REUSED") {
      payment_failures_.Add({{"reason", "refused"}}).Increment();
    } else if (st.code() == absl::StatusCode::kUnavailable ||
               st.code() == absl::StatusCode::kInternal) {
      payment_failures_.Add({{"reason", "error"}}).Increment();
    }
    return st;
  }
  // A repeat answered from the request log moved no money now.
  if (!disbursed.fen.empty()) {
    CountDisbursed(disbursed);
    NoteJournalHead(head.entries(), head.head_hash(), /*force=*/false);
  }
  call.AddRecord(absl::StrCat("payment:", resp->payment().payment_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ListPayments(CallContext& call,
                                  const pb::ListPaymentsRequest& req,
                                  pb::ListPaymentsResponse* resp) {
  RETURN_IF_ERROR(ValidateList(req));
  PaymentFilter f;
  ASSIGN_OR_RETURN(f.region_prefix,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(f.school_code,
                   internal::ScopeSchoolFilter(call.principal, ""));
  f.term = TermSet(req.term()) ? TermKey(req.term()) : "";
  f.batch_id = req.batch_id();
  f.state = req.state();
  f.member_id = req.member_id();
  f.programme_code = req.programme_code();
  ASSIGN_OR_RETURN(
      IdPage page,
      IdPage::Open(req.page_token(),
                   absl::StrCat("pay|", f.region_prefix, "|", f.term, "|",
                                f.batch_id, "|", req.state(), "|", f.member_id,
                                "|", f.programme_code, "|", f.school_code),
                   req.page_size(), 100, 1000));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows,
                     ListPaymentRecords(c, f, page.after(), page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(rows.size()); ++i) {
      *resp->add_payments() = PaymentProto(c, call, rows[i]);
      last = rows[i].id;
    }
    resp->set_next_page_token(page.NextToken(rows.size(), last));
    call.NoteBulkRead(resp->payments_size());
    call.AddRecord(absl::StrCat("payments:", resp->payments_size()));
    return absl::OkStatus();
  });
}

absl::Status Ledger::ReverseIn(SqlConnection& c, CallContext& call,
                               const pb::ReversePaymentRequest& req,
                               pb::JournalAnchor& head,
                               pb::ReversePaymentResponse* resp) {
  ASSIGN_OR_RETURN(JournalAppender journal, JournalAppender::Open(c));
  ASSIGN_OR_RETURN(pb::Payment p, LoadPayment(c, call, req.payment_id()));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, p.region_code(), p.school_code()));
  if (p.state() != pb::PAYMENT_STATE_PAID) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "PAYMENT_STATE",
                      absl::StrCat("payment ", p.payment_id(), " is ",
                                   pb::PaymentState_Name(p.state()),
                                   "; only a paid payment can be reversed"));
  }
  ASSIGN_OR_RETURN(auto originals, JournalOfPayment(c, p.payment_id(),
                                                    /*originals_only=*/true));
  const int64_t now = NowMs();
  for (const JournalRecord& o : originals) {
    JournalRecord r = o;
    r.at_ms = now;
    r.kind = pb::ENTRY_KIND_REVERSAL;
    r.debit_account = o.credit_account;
    r.credit_account = o.debit_account;
    r.reverses_id = o.id;
    journal.Append(&r);
    ToProto(r, resp->add_reversal_entries());
  }
  RETURN_IF_ERROR(journal.Flush());
  head.set_entries(journal.last_id());
  head.set_head_hash(journal.last_hash());
  ASSIGN_OR_RETURN(
      int64_t n, MarkPaymentReversed(c, p.payment_id(), call.principal.subject,
                                     req.reason(), now));
  if (n != 1) return absl::AbortedError("payment changed; retry");
  RETURN_IF_ERROR(CancelReversedEntitlement(
      c, p.entitlement_id(),
      absl::StrCat("payment ", p.payment_id(), " reversed: ", req.reason()),
      now));
  ASSIGN_OR_RETURN(*resp->mutable_payment(),
                   LoadPayment(c, call, p.payment_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ReversePayment(CallContext& call,
                                    const pb::ReversePaymentRequest& req,
                                    pb::ReversePaymentResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("payment_id", req.payment_id()));
  RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  pb::JournalAnchor head;
  RETURN_IF_ERROR(
      host_.requests().Run(call.principal, "ReversePayment", req.request_id(),
                           req, resp, [&](SqlConnection& c) -> absl::Status {
                             head.Clear();
                             return ReverseIn(c, call, req, head, resp);
                           }));
  if (head.entries() > 0) {
    NoteJournalHead(head.entries(), head.head_hash(), /*force=*/false);
  }
  call.AddRecord(absl::StrCat("payment:", req.payment_id()));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
