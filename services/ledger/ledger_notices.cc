// Work point 3.3 after payment: written notices and their acknowledgement,
// follow-up visits, grievances, the chain that links them, and public
// posting (公示) with objections.
#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/notice/notice_format.h"

namespace eduaid::ledger {
namespace {

using internal::FormatTs;
using internal::kCtxNote;
using internal::kCtxPayeeName;
using internal::NowMs;

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
  if (absl::Status s = ValidateDate(field, date); !s.ok()) return s;
  if (date > today) return InvalidField(field, "must not be in the future");
  if (!not_before.empty() && date < not_before) {
    return InvalidField(
        field,
        absl::StrCat("must not be before the payment date ", not_before));
  }
  return date;
}

// Common prefix of two region codes.
std::string CommonPrefix(const std::string& a, const std::string& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return a.substr(0, n);
}

}  // namespace

// ---------------------------------------------------------------- notices

absl::StatusOr<pb::Notice> Ledger::BuildNotice(SqlConnection& c,
                                               CallContext& call,
                                               int64_t payment_id) {
  auto rows = c.Query(
      "SELECT p.id, p.region_code, p.term, p.amount_fen, p.paid_at, p.state, "
      "e.school_name, e.standard_id, e.payee_name, p.programme_code, "
      "p.school_code FROM payments p JOIN entitlements e ON e.id = "
      "p.entitlement_id WHERE p.id = ?",
      {payment_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(
        absl::StrCat("payment ", payment_id, " does not exist"));
  }
  const SqlRow& r = (*rows)[0];
  LEDGER_RETURN_IF_ERROR(CheckRecordScope(call.principal, r.Str(1), r.Str(10)));
  const int64_t state = r.Int(5);
  if (state != pb::PAYMENT_STATE_PAID && state != pb::PAYMENT_STATE_REVERSED) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "PAYMENT_STATE",
                      absl::StrCat("payment ", payment_id, " is ",
                                   pb::PaymentState_Name(
                                       static_cast<pb::PaymentState>(state)),
                                   "; a notice exists once it is paid"));
  }
  pb::Notice n;
  n.set_payment_id(r.Int(0));
  auto term = ParseTermKey(r.Str(2));
  if (term) *n.mutable_term() = *term;
  n.set_notice_no(NoticeNo(r.Str(1), n.term(), r.Int(0)));
  n.set_programme_code(r.Str(9));
  n.set_programme_name(ProgrammeName(c, r.Str(7)));
  n.set_standard_id(r.Str(7));
  n.set_amount_fen(r.Int(3));
  n.set_amount_yuan(FormatYuan(r.Int(3)));
  n.set_paid_on(internal::DateCst(r.Int(4)));
  n.set_issued_on(n.paid_on());
  n.set_payee_name(ShowName(call, r.Str(8)));
  n.set_school_name(r.Str(6));
  n.set_region_code(r.Str(1));
  auto ack = c.Query(
      "SELECT acknowledged_on, party, method, note, recorded_by FROM "
      "notice_acks WHERE payment_id = ?",
      {payment_id});
  if (!ack.ok()) return ack.status();
  if (!ack->empty()) {
    const SqlRow& a = (*ack)[0];
    pb::Acknowledgement* out = n.mutable_acknowledgement();
    out->set_acknowledged_on(a.Str(0));
    out->set_party(static_cast<pb::AckParty>(a.Int(1)));
    out->set_method(static_cast<pb::AckMethod>(a.Int(2)));
    out->set_note(ShowText(call, a.Str(3)));
    out->set_recorded_by(a.Str(4));
  }
  return n;
}

absl::Status Ledger::GetNotice(CallContext& call,
                               const pb::GetNoticeRequest& req,
                               pb::GetNoticeResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("payment_id", req.payment_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto n = BuildNotice(c, call, req.payment_id());
    if (!n.ok()) return n.status();
    *resp->mutable_notice() = std::move(*n);
    call.AddRecord(absl::StrCat("notice:", req.payment_id()));
    return absl::OkStatus();
  });
}

absl::Status Ledger::AcknowledgeNotice(CallContext& call,
                                       const pb::AcknowledgeNoticeRequest& req,
                                       pb::AcknowledgeNoticeResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("payment_id", req.payment_id()));
  if (!pb::AckParty_IsValid(req.party()) ||
      req.party() == pb::ACK_PARTY_UNSPECIFIED) {
    return InvalidField("party", "must be ACK_PARTY_STUDENT or GUARDIAN");
  }
  if (!pb::AckMethod_IsValid(req.method()) ||
      req.method() == pb::ACK_METHOD_UNSPECIFIED) {
    return InvalidField("method", "must be a known acknowledgement method");
  }
  LEDGER_RETURN_IF_ERROR(ValidateText("note", req.note(), 200, false));
  if (!req.acknowledged_on().empty()) {
    auto date = PastDate("acknowledged_on", req.acknowledged_on(), "");
    if (!date.ok()) return date.status();
  }
  absl::Status st = host_.requests().Run(
      call.principal, "AcknowledgeNotice", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto notice = BuildNotice(c, call, req.payment_id());
        if (!notice.ok()) return notice.status();
        auto school =
            c.Query("SELECT school_code, state FROM payments WHERE id = ?",
                    {req.payment_id()});
        if (!school.ok()) return school.status();
        LEDGER_RETURN_IF_ERROR(internal::RequireOfficerOrSchool(
            call.principal, (*school)[0].Str(0), "record acknowledgements"));
        if ((*school)[0].Int(1) != pb::PAYMENT_STATE_PAID) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "PAYMENT_STATE", "the payment was reversed");
        }
        if (notice->has_acknowledgement()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "ALREADY_ACKNOWLEDGED",
              absl::StrCat("the notice of payment ", req.payment_id(),
                           " was acknowledged on ",
                           notice->acknowledgement().acknowledged_on()));
        }
        auto date = PastDate("acknowledged_on", req.acknowledged_on(),
                             notice->paid_on());
        if (!date.ok()) return date.status();
        auto ins = c.Execute(
            "INSERT INTO notice_acks (payment_id, acknowledged_on, party, "
            "method, note, recorded_by, recorded_at) VALUES (?,?,?,?,?,?,?)",
            {req.payment_id(), *date, int64_t{req.party()},
             int64_t{req.method()},
             req.note().empty() ? std::string() : Encrypt(req.note(), kCtxNote),
             call.principal.subject, NowMs()});
        if (!ins.ok()) return ins.status();
        auto updated = BuildNotice(c, call, req.payment_id());
        if (!updated.ok()) return updated.status();
        *resp->mutable_notice() = std::move(*updated);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("notice:", req.payment_id()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- follow-ups

namespace {
constexpr char kFollowUpColumns[] =
    "id, payment_id, visited_on, visitor, outcome, note, recorded_by, "
    "grievance_id";
}  // namespace

absl::Status Ledger::RecordFollowUp(CallContext& call,
                                    const pb::RecordFollowUpRequest& req,
                                    pb::RecordFollowUpResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("payment_id", req.payment_id()));
  LEDGER_RETURN_IF_ERROR(ValidateText("visitor", req.visitor(), 50));
  if (!pb::FollowUpOutcome_IsValid(req.outcome()) ||
      req.outcome() == pb::FOLLOW_UP_OUTCOME_UNSPECIFIED) {
    return InvalidField("outcome", "must be a known follow-up outcome");
  }
  LEDGER_RETURN_IF_ERROR(ValidateText("note", req.note(), 500, false));
  if (!req.visited_on().empty()) {
    auto date = PastDate("visited_on", req.visited_on(), "");
    if (!date.ok()) return date.status();
  }
  absl::Status st = host_.requests().Run(
      call.principal, "RecordFollowUp", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto notice = BuildNotice(c, call, req.payment_id());
        if (!notice.ok()) return notice.status();
        auto p = c.Query(
            "SELECT school_code, state, entitlement_id, region_code FROM "
            "payments WHERE id = ?",
            {req.payment_id()});
        if (!p.ok()) return p.status();
        const SqlRow& pr = (*p)[0];
        LEDGER_RETURN_IF_ERROR(internal::RequireOfficerOrSchool(
            call.principal, pr.Str(0), "record follow-up visits"));
        if (pr.Int(1) != pb::PAYMENT_STATE_PAID) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "PAYMENT_STATE", "the payment was reversed");
        }
        auto date = PastDate("visited_on", req.visited_on(), notice->paid_on());
        if (!date.ok()) return date.status();
        const int64_t now = NowMs();
        int64_t grievance_id = 0;
        if (req.outcome() == pb::FOLLOW_UP_OUTCOME_NOT_RECEIVED ||
            req.outcome() == pb::FOLLOW_UP_OUTCOME_RECEIVED_PARTIALLY) {
          pb::Grievance g;
          g.set_entitlement_id(pr.Int(2));
          g.set_payment_id(req.payment_id());
          g.set_region_code(pr.Str(3));
          g.set_school_code(pr.Str(0));
          g.set_source(pb::GRIEVANCE_SOURCE_FOLLOW_UP);
          g.set_description(
              absl::StrCat("follow-up visit on ", *date, " by ", req.visitor(),
                           ": ", pb::FollowUpOutcome_Name(req.outcome()),
                           req.note().empty() ? "" : ": ", req.note()));
          auto inserted = InsertGrievance(c, call, std::move(g));
          if (!inserted.ok()) return inserted.status();
          grievance_id = inserted->grievance_id();
          *resp->mutable_grievance() = std::move(*inserted);
        }
        auto ins = c.Query(
            "INSERT INTO follow_ups (payment_id, visited_on, visitor, outcome, "
            "note, grievance_id, recorded_by, recorded_at) VALUES "
            "(?,?,?,?,?,?,?,?) RETURNING id",
            {req.payment_id(), *date, req.visitor(), int64_t{req.outcome()},
             req.note().empty() ? std::string() : Encrypt(req.note(), kCtxNote),
             grievance_id, call.principal.subject, now});
        if (!ins.ok()) return ins.status();
        pb::FollowUp* f = resp->mutable_follow_up();
        f->set_follow_up_id((*ins)[0].Int(0));
        f->set_payment_id(req.payment_id());
        f->set_visited_on(*date);
        f->set_visitor(req.visitor());
        f->set_outcome(req.outcome());
        f->set_note(req.note().empty() ? "" : "(recorded)");
        f->set_recorded_by(call.principal.subject);
        f->set_grievance_id(grievance_id);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("follow_up:", resp->follow_up().follow_up_id()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- grievances

absl::StatusOr<pb::Grievance> Ledger::InsertGrievance(SqlConnection& c,
                                                      CallContext& call,
                                                      pb::Grievance g) {
  const int64_t now = NowMs();
  auto ins = c.Query(
      "INSERT INTO grievances (entitlement_id, payment_id, posting_id, "
      "posting_line, region_code, school_code, source, state, description, "
      "opened_by, opened_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) RETURNING id",
      {g.entitlement_id(), g.payment_id(), g.posting_id(),
       int64_t{g.posting_line()}, g.region_code(), g.school_code(),
       int64_t{g.source()}, int64_t{pb::GRIEVANCE_STATE_OPEN},
       Encrypt(g.description(), kCtxNote), call.principal.subject, now});
  if (!ins.ok()) return ins.status();
  return LoadGrievance(c, call, (*ins)[0].Int(0));
}

absl::StatusOr<pb::Grievance> Ledger::LoadGrievance(SqlConnection& c,
                                                    CallContext& call,
                                                    int64_t id) {
  auto rows = c.Query(absl::StrCat("SELECT ", internal::kGrievanceColumns,
                                   " FROM grievances WHERE id = ?"),
                      {id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(
        absl::StrCat("grievance ", id, " does not exist"));
  }
  pb::Grievance g;
  FillGrievance(call, (*rows)[0], &g);
  return g;
}

void Ledger::FillGrievance(CallContext& call, const SqlRow& r,
                           pb::Grievance* g) {
  g->set_grievance_id(r.Int(0));
  g->set_entitlement_id(r.Int(1));
  g->set_payment_id(r.Int(2));
  g->set_posting_id(r.Int(3));
  g->set_posting_line(static_cast<int32_t>(r.Int(4)));
  g->set_region_code(r.Str(5));
  g->set_school_code(r.Str(6));
  g->set_source(static_cast<pb::GrievanceSource>(r.Int(7)));
  g->set_state(static_cast<pb::GrievanceState>(r.Int(8)));
  // Free text may name people: shown in reads, never kept in the stored
  // answers of mutating calls.
  g->set_description(ShowText(call, r.Str(9)));
  g->set_opened_by(r.Str(10));
  g->set_opened_at(FormatTs(r.Int(11)));
  g->set_outcome(static_cast<pb::GrievanceOutcome>(r.Int(12)));
  g->set_resolution(ShowText(call, r.Str(13)));
  g->set_resolved_by(r.Str(14));
  g->set_resolved_at(FormatTs(r.Int(15)));
}

absl::Status Ledger::OpenGrievance(CallContext& call,
                                   const pb::OpenGrievanceRequest& req,
                                   pb::OpenGrievanceResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if ((req.payment_id() > 0) == (req.entitlement_id() > 0) ||
      req.payment_id() < 0 || req.entitlement_id() < 0) {
    return InvalidField("payment_id",
                        "give exactly one of payment_id or entitlement_id");
  }
  LEDGER_RETURN_IF_ERROR(ValidateText("description", req.description(), 500));
  absl::Status st = host_.requests().Run(
      call.principal, "OpenGrievance", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        pb::Grievance g;
        if (req.payment_id() > 0) {
          auto rows = c.Query(
              "SELECT entitlement_id, region_code, school_code FROM payments "
              "WHERE id = ?",
              {req.payment_id()});
          if (!rows.ok()) return rows.status();
          if (rows->empty()) {
            return absl::NotFoundError(
                absl::StrCat("payment ", req.payment_id(), " does not exist"));
          }
          g.set_entitlement_id((*rows)[0].Int(0));
          g.set_payment_id(req.payment_id());
          g.set_region_code((*rows)[0].Str(1));
          g.set_school_code((*rows)[0].Str(2));
        } else {
          auto rows = c.Query(
              "SELECT payment_id, region_code, school_code FROM entitlements "
              "WHERE id = ?",
              {req.entitlement_id()});
          if (!rows.ok()) return rows.status();
          if (rows->empty()) {
            return absl::NotFoundError(absl::StrCat(
                "entitlement ", req.entitlement_id(), " does not exist"));
          }
          g.set_entitlement_id(req.entitlement_id());
          g.set_payment_id((*rows)[0].Int(0));
          g.set_region_code((*rows)[0].Str(1));
          g.set_school_code((*rows)[0].Str(2));
        }
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, g.region_code(), g.school_code()));
        LEDGER_RETURN_IF_ERROR(internal::RequireOfficerOrSchool(
            call.principal, g.school_code(), "open grievances"));
        g.set_source(pb::GRIEVANCE_SOURCE_DIRECT);
        g.set_description(req.description());
        auto inserted = InsertGrievance(c, call, std::move(g));
        if (!inserted.ok()) return inserted.status();
        *resp->mutable_grievance() = std::move(*inserted);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("grievance:", resp->grievance().grievance_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ResolveGrievance(CallContext& call,
                                      const pb::ResolveGrievanceRequest& req,
                                      pb::ResolveGrievanceResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("grievance_id", req.grievance_id()));
  if (!pb::GrievanceOutcome_IsValid(req.outcome()) ||
      req.outcome() == pb::GRIEVANCE_OUTCOME_UNSPECIFIED) {
    return InvalidField("outcome", "must be UPHELD or DISMISSED");
  }
  LEDGER_RETURN_IF_ERROR(ValidateText("resolution", req.resolution(), 500));
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "resolve grievances"));
  absl::Status st = host_.requests().Run(
      call.principal, "ResolveGrievance", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto g = LoadGrievance(c, call, req.grievance_id());
        if (!g.ok()) return g.status();
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, g->region_code(), g->school_code()));
        if (g->state() != pb::GRIEVANCE_STATE_OPEN) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "GRIEVANCE_STATE",
                            absl::StrCat("grievance ", g->grievance_id(),
                                         " is already resolved"));
        }
        auto n = c.Execute(
            "UPDATE grievances SET state = ?, outcome = ?, resolution = ?, "
            "resolved_by = ?, resolved_at = ? WHERE id = ? AND state = ?",
            {int64_t{pb::GRIEVANCE_STATE_RESOLVED}, int64_t{req.outcome()},
             Encrypt(req.resolution(), kCtxNote), call.principal.subject,
             NowMs(), g->grievance_id(), int64_t{pb::GRIEVANCE_STATE_OPEN}});
        if (!n.ok()) return n.status();
        if (*n != 1) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "GRIEVANCE_STATE", "resolved meanwhile");
        }
        auto updated = LoadGrievance(c, call, g->grievance_id());
        if (!updated.ok()) return updated.status();
        *resp->mutable_grievance() = std::move(*updated);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("grievance:", req.grievance_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ListGrievances(CallContext& call,
                                    const pb::ListGrievancesRequest& req,
                                    pb::ListGrievancesResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::GrievanceState_IsValid(req.state())) {
    return InvalidField("state", "is not a known grievance state");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  auto school = internal::ScopeSchoolFilter(call.principal, "");
  if (!school.ok()) return school.status();
  const std::string filters =
      absl::StrCat("grv|", *region, "|", req.state(), "|", *school);
  auto after_key = DecodePageToken(req.page_token(), filters);
  if (!after_key.ok()) return after_key.status();
  int64_t after = 0;
  if (!after_key->empty() && !absl::SimpleAtoi(*after_key, &after)) {
    return InvalidField("page_token", "is malformed");
  }
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat("SELECT ", internal::kGrievanceColumns,
                     " FROM grievances WHERE id > ? AND region_code LIKE ? "
                     "AND (? = 0 OR state = ?) AND (? = '' OR school_code = ?) "
                     "ORDER BY id LIMIT ?"),
        {after, *region + "%", int64_t{req.state()}, int64_t{req.state()},
         *school, *school, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      pb::Grievance* g = resp->add_grievances();
      FillGrievance(call, (*rows)[i], g);
      last = g->grievance_id();
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    // Grievance texts may name people.
    call.NoteBulkRead(resp->grievances_size());
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- chain

absl::Status Ledger::GetPaymentChain(CallContext& call,
                                     const pb::GetPaymentChainRequest& req,
                                     pb::GetPaymentChainResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("payment_id", req.payment_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto p = LoadPayment(c, call, req.payment_id());
    if (!p.ok()) return p.status();
    LEDGER_RETURN_IF_ERROR(
        CheckRecordScope(call.principal, p->region_code(), p->school_code()));
    auto e = LoadEntitlement(c, call, p->entitlement_id());
    if (!e.ok()) return e.status();
    if (p->state() == pb::PAYMENT_STATE_PAID ||
        p->state() == pb::PAYMENT_STATE_REVERSED) {
      auto n = BuildNotice(c, call, p->payment_id());
      if (!n.ok()) return n.status();
      *resp->mutable_notice() = std::move(*n);
    }
    auto visits = c.Query(absl::StrCat("SELECT ", kFollowUpColumns,
                                       " FROM follow_ups WHERE payment_id = ? "
                                       "ORDER BY id"),
                          {p->payment_id()});
    if (!visits.ok()) return visits.status();
    for (const SqlRow& r : *visits) {
      pb::FollowUp* f = resp->add_follow_ups();
      f->set_follow_up_id(r.Int(0));
      f->set_payment_id(r.Int(1));
      f->set_visited_on(r.Str(2));
      f->set_visitor(r.Str(3));
      f->set_outcome(static_cast<pb::FollowUpOutcome>(r.Int(4)));
      f->set_note(ShowText(call, r.Str(5)));
      f->set_recorded_by(r.Str(6));
      f->set_grievance_id(r.Int(7));
    }
    auto grievances = c.Query(
        absl::StrCat("SELECT ", internal::kGrievanceColumns,
                     " FROM grievances WHERE entitlement_id = ? ORDER BY id"),
        {p->entitlement_id()});
    if (!grievances.ok()) return grievances.status();
    for (const SqlRow& r : *grievances) {
      FillGrievance(call, r, resp->add_grievances());
    }
    auto entries = c.Query(absl::StrCat("SELECT ", kJournalColumns,
                                        " FROM journal WHERE payment_id = ? "
                                        "ORDER BY id"),
                           {p->payment_id()});
    if (!entries.ok()) return entries.status();
    for (const SqlRow& r : *entries) {
      ToProto(FromJournalRow(r), resp->add_journal_entries());
    }
    *resp->mutable_payment() = std::move(*p);
    *resp->mutable_entitlement() = std::move(*e);
    call.AddRecord(absl::StrCat("payment:", req.payment_id()));
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- postings

absl::StatusOr<pb::Posting> Ledger::LoadPosting(SqlConnection& c,
                                                int64_t posting_id) {
  auto rows = c.Query(
      "SELECT id, school_code, school_name, region_code, term, published_on, "
      "objection_until, created_by, total_fen FROM postings WHERE id = ?",
      {posting_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(
        absl::StrCat("posting ", posting_id, " does not exist"));
  }
  const SqlRow& r = (*rows)[0];
  pb::Posting p;
  p.set_posting_id(r.Int(0));
  p.set_school_code(r.Str(1));
  p.set_school_name(r.Str(2));
  p.set_region_code(r.Str(3));
  if (auto term = ParseTermKey(r.Str(4))) *p.mutable_term() = *term;
  p.set_published_on(r.Str(5));
  p.set_objection_until(r.Str(6));
  p.set_created_by(r.Str(7));
  p.set_total_fen(r.Int(8));
  auto lines = c.Query(
      "SELECT l.line_no, l.masked_name, l.programme_code, l.amount_fen, "
      "l.stage, l.grade, e.standard_id FROM posting_lines l JOIN "
      "entitlements e ON e.id = l.entitlement_id WHERE l.posting_id = ? "
      "ORDER BY l.line_no",
      {posting_id});
  if (!lines.ok()) return lines.status();
  for (const SqlRow& l : *lines) {
    pb::PostingLine* line = p.add_lines();
    line->set_line_no(static_cast<int32_t>(l.Int(0)));
    line->set_name(l.Str(1));
    line->set_programme_code(l.Str(2));
    line->set_programme_name(ProgrammeName(c, l.Str(6)));
    line->set_amount_fen(l.Int(3));
    line->set_stage(static_cast<cpb::SchoolStage>(l.Int(4)));
    line->set_grade(static_cast<int32_t>(l.Int(5)));
  }
  auto objections = c.Query(
      "SELECT COUNT(*) FROM grievances WHERE posting_id = ?", {posting_id});
  if (!objections.ok()) return objections.status();
  p.set_objections((*objections)[0].Int(0));
  return p;
}

absl::Status Ledger::CreatePosting(CallContext& call,
                                   const pb::CreatePostingRequest& req,
                                   pb::CreatePostingResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (!IsSchoolCode(req.school_code())) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  LEDGER_RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  if (req.objection_days() != 0 &&
      (req.objection_days() < 5 || req.objection_days() > 30)) {
    return InvalidField("objection_days", "must be 5..30 (0 means 7)");
  }
  LEDGER_RETURN_IF_ERROR(internal::RequireOfficerOrSchool(
      call.principal, req.school_code(), "publish postings"));
  const int days = req.objection_days() == 0 ? 7 : req.objection_days();
  const std::string term = TermKey(req.term());
  absl::Status st = host_.requests().Run(
      call.principal, "CreatePosting", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto rows = c.Query(
            "SELECT id, payee_name, programme_code, amount_fen, stage, grade, "
            "region_code, school_name FROM entitlements WHERE school_code = ? "
            "AND term = ? AND region_code LIKE ? AND state IN (?, ?, ?, ?) "
            "ORDER BY id",
            {req.school_code(), term, call.principal.region + "%",
             int64_t{pb::ENTITLEMENT_STATE_OPEN},
             int64_t{pb::ENTITLEMENT_STATE_BATCHED},
             int64_t{pb::ENTITLEMENT_STATE_PAID},
             int64_t{pb::ENTITLEMENT_STATE_WAIVED}});
        if (!rows.ok()) return rows.status();
        if (rows->empty()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "NOTHING_TO_POST",
              absl::StrCat("no aid at school ", req.school_code(), " for ",
                           term, " within the caller's region"));
        }
        std::string region = (*rows)[0].Str(6);
        int64_t total = 0;
        for (const SqlRow& r : *rows) {
          region = CommonPrefix(region, r.Str(6));
          if (!CheckedAdd(total, r.Int(3), &total)) {
            return absl::OutOfRangeError("posting total exceeds int64 fen");
          }
        }
        const std::string today = TodayCst();
        const int64_t now = NowMs();
        auto posting = c.Query(
            "INSERT INTO postings (school_code, school_name, region_code, "
            "term, published_on, objection_until, total_fen, created_by, "
            "created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
            {req.school_code(), (*rows)[0].Str(7), region, term, today,
             AddDays(today, days), total, call.principal.subject, now});
        if (!posting.ok()) return posting.status();
        const int64_t id = (*posting)[0].Int(0);
        int64_t line = 0;
        for (const SqlRow& r : *rows) {
          auto ins = c.Execute(
              "INSERT INTO posting_lines (posting_id, line_no, entitlement_id, "
              "masked_name, programme_code, amount_fen, stage, grade) VALUES "
              "(?,?,?,?,?,?,?,?)",
              {id, ++line, r.Int(0), MaskName(Decrypt(r.Str(1), kCtxPayeeName)),
               r.Str(2), r.Int(3), r.Int(4), r.Int(5)});
          if (!ins.ok()) return ins.status();
        }
        auto p = LoadPosting(c, id);
        if (!p.ok()) return p.status();
        *resp->mutable_posting() = std::move(*p);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.NoteBulkRead(resp->posting().lines_size());
  call.AddRecord(absl::StrCat("posting:", resp->posting().posting_id()));
  return absl::OkStatus();
}

absl::Status Ledger::GetPosting(CallContext& call,
                                const pb::GetPostingRequest& req,
                                pb::GetPostingResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("posting_id", req.posting_id()));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto p = LoadPosting(c, req.posting_id());
    if (!p.ok()) return p.status();
    LEDGER_RETURN_IF_ERROR(
        CheckRecordScope(call.principal, p->region_code(), p->school_code()));
    // The lines name students (masked).
    call.NoteBulkRead(p->lines_size());
    call.AddRecord(absl::StrCat("posting:", p->posting_id()));
    *resp->mutable_posting() = std::move(*p);
    return absl::OkStatus();
  });
}

absl::Status Ledger::FileObjection(CallContext& call,
                                   const pb::FileObjectionRequest& req,
                                   pb::FileObjectionResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("posting_id", req.posting_id()));
  if (req.line_no() <= 0) return InvalidField("line_no", "must be positive");
  LEDGER_RETURN_IF_ERROR(ValidateText("description", req.description(), 500));
  absl::Status st = host_.requests().Run(
      call.principal, "FileObjection", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto p = LoadPosting(c, req.posting_id());
        if (!p.ok()) return p.status();
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, p->region_code(), p->school_code()));
        if (TodayCst() > p->objection_until()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "OBJECTION_PERIOD_OVER",
              absl::StrCat("objections to posting ", p->posting_id(),
                           " closed on ", p->objection_until()));
        }
        auto line = c.Query(
            "SELECT l.entitlement_id, e.payment_id, e.region_code, "
            "e.school_code FROM posting_lines l JOIN entitlements e ON e.id = "
            "l.entitlement_id WHERE l.posting_id = ? AND l.line_no = ?",
            {p->posting_id(), int64_t{req.line_no()}});
        if (!line.ok()) return line.status();
        if (line->empty()) {
          return InvalidField("line_no", "the posting has no such line");
        }
        pb::Grievance g;
        g.set_entitlement_id((*line)[0].Int(0));
        g.set_payment_id((*line)[0].Int(1));
        g.set_posting_id(p->posting_id());
        g.set_posting_line(req.line_no());
        g.set_region_code((*line)[0].Str(2));
        g.set_school_code((*line)[0].Str(3));
        g.set_source(pb::GRIEVANCE_SOURCE_POSTING_OBJECTION);
        g.set_description(req.description());
        auto inserted = InsertGrievance(c, call, std::move(g));
        if (!inserted.ok()) return inserted.status();
        *resp->mutable_grievance() = std::move(*inserted);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("grievance:", resp->grievance().grievance_id()));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
