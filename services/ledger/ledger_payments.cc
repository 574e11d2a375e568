// Batches (two-person approval, resumable chunked execution), single
// payments (group commit), payment listing and reversal.
#include <chrono>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"

namespace eduaid::ledger {
namespace {

using internal::FormatTs;
using internal::NowMs;

constexpr char kBatchCacheEntity[] = "batch";

bool FinalBatchState(pb::BatchState s) {
  return s == pb::BATCH_STATE_EXECUTED || s == pb::BATCH_STATE_CANCELLED;
}

absl::Status BatchStateError(const pb::Batch& b, absl::string_view wanted) {
  return WithReason(
      absl::StatusCode::kFailedPrecondition, "BATCH_STATE",
      absl::StrCat("batch ", b.batch_id(), " is ",
                   pb::BatchState_Name(b.state()), "; this needs ", wanted));
}

// Entitlement states as the single-payment path refuses them.
absl::Status NotPayable(int64_t id, int64_t state, int64_t batch_id,
                        int64_t payment_id) {
  switch (state) {
    case pb::ENTITLEMENT_STATE_PAID:
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "ALREADY_PAID",
          absl::StrCat("entitlement ", id, " is already paid (payment ",
                       payment_id, ")"));
    case pb::ENTITLEMENT_STATE_BATCHED:
      return WithReason(absl::StatusCode::kFailedPrecondition,
                        "ENTITLEMENT_STATE",
                        absl::StrCat("entitlement ", id, " is in batch ",
                                     batch_id, "; it is paid there"));
    case pb::ENTITLEMENT_STATE_WAIVED:
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "ENTITLEMENT_STATE",
          absl::StrCat("entitlement ", id, " is a fee waiver: nothing to pay"));
    default:
      return WithReason(absl::StatusCode::kFailedPrecondition,
                        "ENTITLEMENT_STATE",
                        absl::StrCat("entitlement ", id, " is cancelled"));
  }
}

}  // namespace

// ---------------------------------------------------------------- records

absl::StatusOr<pb::Batch> Ledger::LoadBatch(SqlConnection& c,
                                            int64_t batch_id) {
  auto rows = c.Query(absl::StrCat("SELECT ", internal::kBatchColumns,
                                   " FROM batches WHERE id = ?"),
                      {batch_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(
        absl::StrCat("batch ", batch_id, " does not exist"));
  }
  const SqlRow& r = (*rows)[0];
  pb::Batch b;
  b.set_batch_id(r.Int(0));
  b.set_region_prefix(r.Str(1));
  if (auto term = ParseTermKey(r.Str(2))) *b.mutable_term() = *term;
  b.set_programme_code(r.Str(3));
  b.set_school_code(r.Str(4));
  b.set_state(static_cast<pb::BatchState>(r.Int(5)));
  b.set_note(r.Str(6));
  b.set_created_by(r.Str(7));
  b.set_approved_by(r.Str(8));
  b.set_executed_by(r.Str(9));
  b.set_created_at(FormatTs(r.Int(10)));
  b.set_approved_at(FormatTs(r.Int(11)));
  b.set_started_at(FormatTs(r.Int(12)));
  b.set_finished_at(FormatTs(r.Int(13)));
  b.set_payment_count(r.Int(14));
  b.set_total_fen(r.Int(15));
  b.set_paid_count(r.Int(16));
  b.set_paid_fen(r.Int(17));
  b.set_failed_count(r.Int(18));
  b.set_pending_count(b.payment_count() - b.paid_count() - b.failed_count());
  return b;
}

void Ledger::FillPayment(SqlConnection& c, CallContext& call, const SqlRow& r,
                         pb::Payment* p) {
  p->set_payment_id(r.Int(0));
  p->set_entitlement_id(r.Int(1));
  p->set_batch_id(r.Int(2));
  p->set_member_id(r.Str(3));
  p->set_programme_code(r.Str(4));
  p->set_programme_name(ProgrammeName(c, r.Str(16)));
  if (auto term = ParseTermKey(r.Str(5))) *p->mutable_term() = *term;
  p->set_region_code(r.Str(6));
  p->set_school_code(r.Str(7));
  p->set_amount_fen(r.Int(8));
  p->set_state(static_cast<pb::PaymentState>(r.Int(9)));
  p->set_failure_reason(r.Str(10));
  p->set_paid_at(FormatTs(r.Int(11)));
  p->set_paid_by(r.Str(12));
  p->set_reversed_at(FormatTs(r.Int(13)));
  p->set_reversal_reason(r.Str(14));
  p->set_payee_name(ShowName(call, r.Str(15)));
}

absl::StatusOr<pb::Payment> Ledger::LoadPayment(SqlConnection& c,
                                                CallContext& call,
                                                int64_t payment_id) {
  auto rows =
      c.Query(absl::StrCat("SELECT ", internal::kPaymentColumns,
                           " FROM payments p JOIN entitlements e ON e.id = "
                           "p.entitlement_id WHERE p.id = ?"),
              {payment_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(
        absl::StrCat("payment ", payment_id, " does not exist"));
  }
  pb::Payment p;
  FillPayment(c, call, (*rows)[0], &p);
  return p;
}

// ---------------------------------------------------------------- batches

absl::Status Ledger::CreateBatch(CallContext& call,
                                 const pb::CreateBatchRequest& req,
                                 pb::CreateBatchResponse* resp) {
  std::vector<FieldViolation> v;
  auto check = [&v](const absl::Status& s) {
    for (auto& f : FieldViolationsOf(s)) v.push_back(std::move(f));
  };
  check(ValidateRequestId("request_id", req.request_id()));
  check(ValidateTerm("term", req.term(), 1));
  check(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!req.programme_code().empty() && !IsProgrammeCode(req.programme_code())) {
    v.push_back({"programme_code", "must be 1..40 of A-Z 0-9 _"});
  }
  if (!req.school_code().empty() && !IsSchoolCode(req.school_code())) {
    v.push_back({"school_code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  if (req.max_payments() < 0 ||
      req.max_payments() > internal::kMaxBatchPayments) {
    v.push_back({"max_payments",
                 absl::StrCat("must be 0..", internal::kMaxBatchPayments)});
  }
  check(ValidateText("note", req.note(), 200, /*required=*/false));
  if (!v.empty()) return InvalidFields(v);
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "create batches"));
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  if (region->empty()) {
    return InvalidField("region_prefix", "is required");
  }
  const std::string term = TermKey(req.term());
  const int64_t limit = req.max_payments() == 0 ? internal::kMaxBatchPayments
                                                : req.max_payments();
  absl::Status st = host_.requests().Run(
      call.principal, "CreateBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        // Payments are created here too: queue with the other writers.
        LEDGER_RETURN_IF_ERROR(LockJournalHead(c));
        if (!req.programme_code().empty()) {
          auto known = c.Query(
              "SELECT 1 FROM standards WHERE programme_code = ? LIMIT 1",
              {req.programme_code()});
          if (!known.ok()) return known.status();
          if (known->empty()) {
            return InvalidField("programme_code", "no such programme");
          }
        }
        const int64_t now = NowMs();
        auto batch = c.Query(
            "INSERT INTO batches (region_prefix, term, programme_code, "
            "school_code, state, note, created_by, created_at, payment_count, "
            "total_fen) VALUES (?,?,?,?,?,?,?,?,0,0) RETURNING id",
            {*region, term, req.programme_code(), req.school_code(),
             int64_t{pb::BATCH_STATE_CREATED}, req.note(),
             call.principal.subject, now});
        if (!batch.ok()) return batch.status();
        const int64_t id = (*batch)[0].Int(0);
        auto ins = c.Execute(
            "INSERT INTO payments (entitlement_id, batch_id, member_id, "
            "programme_code, term, region_code, school_code, amount_fen, "
            "state, created_at) SELECT id, ?, member_id, programme_code, term, "
            "region_code, school_code, amount_fen, ?, ? FROM entitlements "
            "WHERE term = ? AND region_code LIKE ? AND state = ? AND "
            "amount_fen > 0 AND (? = '' OR programme_code = ?) AND "
            "(? = '' OR school_code = ?) ORDER BY id LIMIT ?",
            {id, int64_t{pb::PAYMENT_STATE_PENDING}, now, term, *region + "%",
             int64_t{pb::ENTITLEMENT_STATE_OPEN}, req.programme_code(),
             req.programme_code(), req.school_code(), req.school_code(),
             limit});
        if (!ins.ok()) return ins.status();
        auto sums = c.Query(
            "SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM payments "
            "WHERE batch_id = ?",
            {id});
        if (!sums.ok()) return sums.status();
        const int64_t count = (*sums)[0].Int(0);
        if (count == 0) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "NOTHING_TO_PAY",
              absl::StrCat("no open entitlement with an amount for ", term,
                           " in region ", *region,
                           req.programme_code().empty()
                               ? ""
                               : " and programme " + req.programme_code()));
        }
        auto upd = c.Execute(
            "UPDATE entitlements SET state = ?, batch_id = ?, payment_id = "
            "(SELECT p.id FROM payments p WHERE p.entitlement_id = "
            "entitlements.id), updated_at = ? WHERE id IN (SELECT "
            "entitlement_id FROM payments WHERE batch_id = ?)",
            {int64_t{pb::ENTITLEMENT_STATE_BATCHED}, id, now, id});
        if (!upd.ok()) return upd.status();
        if (*upd != count) {
          return absl::AbortedError("entitlements changed meanwhile; retry");
        }
        auto tot = c.Execute(
            "UPDATE batches SET payment_count = ?, total_fen = ? WHERE id = ?",
            {count, (*sums)[0].Int(1), id});
        if (!tot.ok()) return tot.status();
        auto b = LoadBatch(c, id);
        if (!b.ok()) return b.status();
        *resp->mutable_batch() = std::move(*b);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("batch:", resp->batch().batch_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ApproveBatch(CallContext& call,
                                  const pb::ApproveBatchRequest& req,
                                  pb::ApproveBatchResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("batch_id", req.batch_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "approve batches"));
  absl::Status st = host_.requests().Run(
      call.principal, "ApproveBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto b = LoadBatch(c, req.batch_id());
        if (!b.ok()) return b.status();
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, b->region_prefix(), b->school_code()));
        if (b->state() != pb::BATCH_STATE_CREATED) {
          return BatchStateError(*b, "BATCH_STATE_CREATED");
        }
        if (b->created_by() == call.principal.subject) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "SAME_APPROVER",
              absl::StrCat("batch ", b->batch_id(),
                           " was created by this principal; a different "
                           "principal must approve it (two-person rule)"));
        }
        auto own = c.Query(
            "SELECT COUNT(*) FROM payments p JOIN entitlements e ON e.id = "
            "p.entitlement_id WHERE p.batch_id = ? AND "
            "e.originator_subject = ?",
            {b->batch_id(), call.principal.subject});
        if (!own.ok()) return own.status();
        if (const int64_t n = (*own)[0].Int(0); n > 0) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "SAME_APPROVER",
              absl::StrCat("batch ", b->batch_id(), " holds ", n,
                           " entitlement(s) originated by this principal; "
                           "a different principal must approve it "
                           "(two-person rule)"));
        }
        auto n = c.Execute(
            "UPDATE batches SET state = ?, approved_by = ?, approved_at = ? "
            "WHERE id = ? AND state = ?",
            {int64_t{pb::BATCH_STATE_APPROVED}, call.principal.subject, NowMs(),
             b->batch_id(), int64_t{pb::BATCH_STATE_CREATED}});
        if (!n.ok()) return n.status();
        if (*n != 1) return BatchStateError(*b, "BATCH_STATE_CREATED");
        auto updated = LoadBatch(c, b->batch_id());
        if (!updated.ok()) return updated.status();
        *resp->mutable_batch() = std::move(*updated);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  call.AddRecord(absl::StrCat("batch:", req.batch_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ExecuteBatch(CallContext& call,
                                  const pb::ExecuteBatchRequest& req,
                                  pb::ExecuteBatchResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("batch_id", req.batch_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "execute batches"));
  absl::Status st = host_.requests().Run(
      call.principal, "ExecuteBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto b = LoadBatch(c, req.batch_id());
        if (!b.ok()) return b.status();
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, b->region_prefix(), b->school_code()));
        if (b->state() != pb::BATCH_STATE_APPROVED) {
          return BatchStateError(*b, "BATCH_STATE_APPROVED");
        }
        auto n = c.Execute(
            "UPDATE batches SET state = ?, executed_by = ?, started_at = ? "
            "WHERE id = ? AND state = ?",
            {int64_t{pb::BATCH_STATE_EXECUTING}, call.principal.subject,
             NowMs(), b->batch_id(), int64_t{pb::BATCH_STATE_APPROVED}});
        if (!n.ok()) return n.status();
        if (*n != 1) return BatchStateError(*b, "BATCH_STATE_APPROVED");
        auto updated = LoadBatch(c, b->batch_id());
        if (!updated.ok()) return updated.status();
        *resp->mutable_batch() = std::move(*updated);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  // Also on a repeat: if this process lost the batch (a restart), it runs
  // again from the database's state; a finished batch just stops.
  ScheduleBatch(req.batch_id());
  call.AddRecord(absl::StrCat("batch:", req.batch_id()));
  return absl::OkStatus();
}

absl::Status Ledger::CancelBatch(CallContext& call,
                                 const pb::CancelBatchRequest& req,
                                 pb::CancelBatchResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("batch_id", req.batch_id()));
  LEDGER_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "cancel batches"));
  absl::Status st = host_.requests().Run(
      call.principal, "CancelBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto b = LoadBatch(c, req.batch_id());
        if (!b.ok()) return b.status();
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, b->region_prefix(), b->school_code()));
        if (b->state() != pb::BATCH_STATE_CREATED &&
            b->state() != pb::BATCH_STATE_APPROVED) {
          return BatchStateError(*b, "BATCH_STATE_CREATED or APPROVED");
        }
        const int64_t now = NowMs();
        auto n = c.Execute(
            "UPDATE batches SET state = ?, note = ?, finished_at = ? WHERE "
            "id = ? AND state = ?",
            {int64_t{pb::BATCH_STATE_CANCELLED},
             absl::StrCat(b->note(), b->note().empty() ? "" : " ",
                          "[cancelled by ", call.principal.subject, ": ",
                          req.reason(), "]"),
             now, b->batch_id(), int64_t{b->state()}});
        if (!n.ok()) return n.status();
        if (*n != 1) return BatchStateError(*b, "BATCH_STATE_CREATED");
        // Never-executed payments go; their entitlements are open again
        // (cancelled entitlements stay cancelled).
        auto reopen = c.Execute(
            "UPDATE entitlements SET state = ?, batch_id = 0, payment_id = 0, "
            "updated_at = ? WHERE batch_id = ? AND state = ?",
            {int64_t{pb::ENTITLEMENT_STATE_OPEN}, now, b->batch_id(),
             int64_t{pb::ENTITLEMENT_STATE_BATCHED}});
        if (!reopen.ok()) return reopen.status();
        auto cancelled = c.Execute(
            "UPDATE entitlements SET batch_id = 0, payment_id = 0 WHERE "
            "batch_id = ?",
            {b->batch_id()});
        if (!cancelled.ok()) return cancelled.status();
        auto del =
            c.Execute("DELETE FROM payments WHERE batch_id = ? AND state = ?",
                      {b->batch_id(), int64_t{pb::PAYMENT_STATE_PENDING}});
        if (!del.ok()) return del.status();
        auto updated = LoadBatch(c, b->batch_id());
        if (!updated.ok()) return updated.status();
        *resp->mutable_batch() = std::move(*updated);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  host_.cache().Invalidate(
      {CacheKey("ledger", kBatchCacheEntity, absl::StrCat(req.batch_id()))});
  call.AddRecord(absl::StrCat("batch:", req.batch_id()));
  return absl::OkStatus();
}

absl::Status Ledger::GetBatch(CallContext& call, const pb::GetBatchRequest& req,
                              pb::GetBatchResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("batch_id", req.batch_id()));
  const std::string key =
      CacheKey("ledger", kBatchCacheEntity, absl::StrCat(req.batch_id()));
  pb::Batch batch;
  // A hit is authentic and bound to this batch's key (CacheGet), and only
  // final batches are cached, so its region and school are the record's.
  std::optional<std::string> cached = CacheGet(key);
  if (!cached || !batch.ParseFromString(*cached) ||
      batch.batch_id() != req.batch_id()) {
    batch.Clear();
    absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
      auto b = LoadBatch(c, req.batch_id());
      if (!b.ok()) return b.status();
      batch = std::move(*b);
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    // Only a batch that can no longer change is cached.
    if (FinalBatchState(batch.state())) {
      CachePut(key, batch.SerializeAsString());
    }
  }
  LEDGER_RETURN_IF_ERROR(CheckRecordScope(call.principal, batch.region_prefix(),
                                          batch.school_code()));
  *resp->mutable_batch() = std::move(batch);
  return absl::OkStatus();
}

absl::Status Ledger::ListBatches(CallContext& call,
                                 const pb::ListBatchesRequest& req,
                                 pb::ListBatchesResponse* resp) {
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::BatchState_IsValid(req.state())) {
    return InvalidField("state", "is not a known batch state");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  auto school = internal::ScopeSchoolFilter(call.principal, "");
  if (!school.ok()) return school.status();
  const std::string filters =
      absl::StrCat("batches|", *region, "|", req.state(), "|", *school);
  auto after_key = DecodePageToken(req.page_token(), filters);
  if (!after_key.ok()) return after_key.status();
  int64_t after = 0;
  if (!after_key->empty() && !absl::SimpleAtoi(*after_key, &after)) {
    return InvalidField("page_token", "is malformed");
  }
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        "SELECT id FROM batches WHERE id > ? AND region_prefix LIKE ? AND "
        "(? = 0 OR state = ?) AND (? = '' OR school_code = ?) ORDER BY id "
        "LIMIT ?",
        {after, *region + "%", int64_t{req.state()}, int64_t{req.state()},
         *school, *school, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      auto b = LoadBatch(c, (*rows)[i].Int(0));
      if (!b.ok()) return b.status();
      last = b->batch_id();
      *resp->add_batches() = std::move(*b);
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- execution

void Ledger::ScheduleBatch(int64_t batch_id) {
  {
    absl::MutexLock lock(&batches_mu_);
    if (!running_.insert(batch_id).second) return;
  }
  if (!host_.runtime().pool().Submit(
          [this, batch_id] { RunBatchStep(batch_id); })) {
    // Shutting down: the batch stays EXECUTING and resumes at next start.
    absl::MutexLock lock(&batches_mu_);
    running_.erase(batch_id);
  }
}

void Ledger::RunBatchStep(int64_t batch_id) {
  auto result = ExecuteChunk(batch_id);
  int pause_ms = options_.execute_chunk_pause_ms;
  if (!result.ok()) {
    payment_failures_.Add({{"reason", "execution_error"}}).Increment();
    Log(LogLevel::kWarn, "batch chunk failed; retrying",
        {{"batch_id", absl::StrCat(batch_id)},
         {"error", std::string(result.status().message())}});
    pause_ms = std::max(pause_ms, 1000);
  } else {
    CountDisbursed(result->disbursed);
    // The end of a batch is always anchored.
    if (result->head_entries > 0) {
      NoteJournalHead(result->head_entries, result->head_hash,
                      /*force=*/result->finished);
    }
    if (result->finished) {
      if (result->finished_at_ms > 0 && result->started_at_ms > 0) {
        batch_duration_.Observe(
            (result->finished_at_ms - result->started_at_ms) / 1000.0);
        Log(LogLevel::kInfo, "batch executed",
            {{"batch_id", absl::StrCat(batch_id)}});
      }
      host_.cache().Invalidate(
          {CacheKey("ledger", kBatchCacheEntity, absl::StrCat(batch_id))});
      absl::MutexLock lock(&batches_mu_);
      running_.erase(batch_id);
      return;
    }
  }
  if (pause_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms));
  }
  if (!host_.runtime().pool().Submit(
          [this, batch_id] { RunBatchStep(batch_id); })) {
    absl::MutexLock lock(&batches_mu_);
    running_.erase(batch_id);
  }
}

absl::Status Ledger::JournalPayment(SqlConnection& c, JournalAppender& journal,
                                    const PaymentRef& p, int64_t at_ms) {
  auto standard = Standard(c, p.standard_id);
  if (!standard.ok()) return standard.status();
  JournalRecord base;
  base.at_ms = at_ms;
  base.region_code = p.region_code;
  base.programme_code = p.programme_code;
  base.term = p.term;
  base.member_id = p.member_id;
  base.payment_id = p.payment_id;
  for (const auto& [source, part] :
       SplitByShares(p.amount_fen, (*standard)->shares())) {
    JournalRecord e = base;
    e.kind = pb::ENTRY_KIND_ACCRUAL;
    e.debit_account = FundAccount(source);
    e.credit_account = kPayableStudent;
    e.amount_fen = part;
    journal.Append(std::move(e));
  }
  base.kind = pb::ENTRY_KIND_DISBURSEMENT;
  base.debit_account = kPayableStudent;
  base.credit_account = kBankPaidOut;
  base.amount_fen = p.amount_fen;
  journal.Append(std::move(base));
  return absl::OkStatus();
}

absl::StatusOr<Ledger::ChunkResult> Ledger::ExecuteChunk(int64_t batch_id) {
  ChunkResult out;
  absl::Status st = db_.Transact([&](SqlConnection& c) -> absl::Status {
    out = ChunkResult();
    const int64_t now = NowMs();
    // Taking the journal head first serialises chunks with every other
    // journal writer, so the PENDING rows read below cannot be paid twice
    // by a concurrent executor (another replica).
    auto journal = JournalAppender::Open(c);
    if (!journal.ok()) return journal.status();
    auto batch = c.Query(
        "SELECT state, executed_by, started_at FROM batches WHERE id = ?",
        {batch_id});
    if (!batch.ok()) return batch.status();
    if (batch->empty() || (*batch)[0].Int(0) != pb::BATCH_STATE_EXECUTING) {
      out.finished = true;
      return absl::OkStatus();
    }
    out.head_entries = journal->last_id();
    out.head_hash = journal->last_hash();
    const std::string executed_by = (*batch)[0].Str(1);
    out.started_at_ms = (*batch)[0].Int(2);
    auto chunk = c.Query(
        "SELECT p.id, p.entitlement_id, p.member_id, p.programme_code, "
        "p.term, p.region_code, p.amount_fen, e.state, e.standard_id FROM "
        "payments p JOIN entitlements e ON e.id = p.entitlement_id WHERE "
        "p.batch_id = ? AND p.state = ? ORDER BY p.id LIMIT ?",
        {batch_id, int64_t{pb::PAYMENT_STATE_PENDING},
         int64_t{std::max(1, options_.execute_chunk_size)}});
    if (!chunk.ok()) return chunk.status();
    if (chunk->empty()) {
      auto done = c.Execute(
          "UPDATE batches SET state = ?, finished_at = ? WHERE id = ? AND "
          "state = ?",
          {int64_t{pb::BATCH_STATE_EXECUTED}, now, batch_id,
           int64_t{pb::BATCH_STATE_EXECUTING}});
      if (!done.ok()) return done.status();
      out.finished = true;
      out.finished_at_ms = now;
      return absl::OkStatus();
    }
    const int64_t first = chunk->front().Int(0);
    const int64_t last = chunk->back().Int(0);
    int64_t paid = 0, paid_fen = 0, failed = 0;
    for (const SqlRow& r : *chunk) {
      if (r.Int(7) != pb::ENTITLEMENT_STATE_BATCHED) {
        auto f = c.Execute(
            "UPDATE payments SET state = ?, failure_reason = ? WHERE id = ? "
            "AND state = ?",
            {int64_t{pb::PAYMENT_STATE_FAILED},
             std::string("the entitlement was cancelled before execution"),
             r.Int(0), int64_t{pb::PAYMENT_STATE_PENDING}});
        if (!f.ok()) return f.status();
        ++failed;
        continue;
      }
      PaymentRef ref;
      ref.payment_id = r.Int(0);
      ref.member_id = r.Str(2);
      ref.programme_code = r.Str(3);
      ref.term = r.Str(4);
      ref.region_code = r.Str(5);
      ref.amount_fen = r.Int(6);
      ref.standard_id = r.Str(8);
      LEDGER_RETURN_IF_ERROR(JournalPayment(c, *journal, ref, now));
      ++paid;
      if (!CheckedAdd(paid_fen, ref.amount_fen, &paid_fen)) {
        return absl::OutOfRangeError("chunk total exceeds int64 fen");
      }
      out.disbursed.fen[{ref.programme_code, ref.region_code}] +=
          ref.amount_fen;
    }
    if (paid > 0) {
      auto n = c.Execute(
          "UPDATE payments SET state = ?, paid_at = ?, paid_by = ? WHERE "
          "batch_id = ? AND state = ? AND id >= ? AND id <= ?",
          {int64_t{pb::PAYMENT_STATE_PAID}, now, executed_by, batch_id,
           int64_t{pb::PAYMENT_STATE_PENDING}, first, last});
      if (!n.ok()) return n.status();
      if (*n != paid) {
        return absl::InternalError("payments changed under the batch");
      }
      // By primary key through the payments just paid: entitlements have
      // no index on payment_id, and a filter on batch_id alone reads every
      // entitlement of the batch for every chunk.
      auto e = c.Execute(
          "UPDATE entitlements SET state = ?, updated_at = ? WHERE id IN "
          "(SELECT entitlement_id FROM payments WHERE batch_id = ? AND "
          "state = ? AND id >= ? AND id <= ?) AND state = ?",
          {int64_t{pb::ENTITLEMENT_STATE_PAID}, now, batch_id,
           int64_t{pb::PAYMENT_STATE_PAID}, first, last,
           int64_t{pb::ENTITLEMENT_STATE_BATCHED}});
      if (!e.ok()) return e.status();
      if (*e != paid) {
        return absl::InternalError("entitlements changed under the batch");
      }
    }
    LEDGER_RETURN_IF_ERROR(journal->Flush());
    out.head_entries = journal->last_id();
    out.head_hash = journal->last_hash();
    auto counters = c.Execute(
        "UPDATE batches SET paid_count = paid_count + ?, paid_fen = paid_fen "
        "+ ?, failed_count = failed_count + ? WHERE id = ?",
        {paid, paid_fen, failed, batch_id});
    if (!counters.ok()) return counters.status();
    out.disbursed.failures = failed;
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

void Ledger::CountDisbursed(const Disbursed& d) {
  for (const auto& [key, fen] : d.fen) {
    disbursed_fen_.Add({{"programme", key.first}, {"region", key.second}})
        .Increment(static_cast<double>(fen));
  }
  if (d.failures > 0) {
    payment_failures_.Add({{"reason", "entitlement_cancelled"}})
        .Increment(static_cast<double>(d.failures));
  }
}

// ---------------------------------------------------------------- payments

absl::Status Ledger::DisburseEntitlement(
    CallContext& call, const pb::DisburseEntitlementRequest& req,
    pb::DisburseEntitlementResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("entitlement_id", req.entitlement_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "disburse payments"));
  Disbursed disbursed;
  pb::JournalAnchor head;
  absl::Status st = group_commit_.Run(
      call.principal, "DisburseEntitlement", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        disbursed = Disbursed();
        head.Clear();
        // The head lock first: payment writers queue in one order.
        auto journal = JournalAppender::Open(c);
        if (!journal.ok()) return journal.status();
        auto rows = c.Query(
            "SELECT id, member_id, programme_code, term, region_code, "
            "school_code, amount_fen, state, originator_subject, "
            "standard_id, batch_id, payment_id, payee_name FROM entitlements "
            "WHERE id = ?",
            {req.entitlement_id()});
        if (!rows.ok()) return rows.status();
        if (rows->empty()) {
          return absl::NotFoundError(absl::StrCat(
              "entitlement ", req.entitlement_id(), " does not exist"));
        }
        const SqlRow& r = (*rows)[0];
        LEDGER_RETURN_IF_ERROR(
            CheckRecordScope(call.principal, r.Str(4), r.Str(5)));
        if (r.Int(7) != pb::ENTITLEMENT_STATE_OPEN) {
          return NotPayable(r.Int(0), r.Int(7), r.Int(10), r.Int(11));
        }
        if (r.Str(8) == call.principal.subject) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "SAME_APPROVER",
              absl::StrCat("entitlement ", r.Int(0),
                           " was originated by this principal (raised by it "
                           "or on its behalf); a different principal must "
                           "pay it (two-person rule)"));
        }
        const int64_t now = NowMs();
        PaymentRef ref;
        ref.member_id = r.Str(1);
        ref.programme_code = r.Str(2);
        ref.term = r.Str(3);
        ref.region_code = r.Str(4);
        ref.amount_fen = r.Int(6);
        ref.standard_id = r.Str(9);
        auto ins = c.Query(
            "INSERT INTO payments (entitlement_id, batch_id, member_id, "
            "programme_code, term, region_code, school_code, amount_fen, "
            "state, paid_at, paid_by, created_at) VALUES "
            "(?,0,?,?,?,?,?,?,?,?,?,?) RETURNING id",
            {r.Int(0), ref.member_id, ref.programme_code, ref.term,
             ref.region_code, r.Str(5), ref.amount_fen,
             int64_t{pb::PAYMENT_STATE_PAID}, now, call.principal.subject,
             now});
        if (!ins.ok()) return ins.status();
        ref.payment_id = (*ins)[0].Int(0);
        LEDGER_RETURN_IF_ERROR(JournalPayment(c, *journal, ref, now));
        LEDGER_RETURN_IF_ERROR(journal->Flush());
        head.set_entries(journal->last_id());
        head.set_head_hash(journal->last_hash());
        auto n = c.Execute(
            "UPDATE entitlements SET state = ?, payment_id = ?, updated_at = ? "
            "WHERE id = ? AND state = ?",
            {int64_t{pb::ENTITLEMENT_STATE_PAID}, ref.payment_id, now, r.Int(0),
             int64_t{pb::ENTITLEMENT_STATE_OPEN}});
        if (!n.ok()) return n.status();
        if (*n != 1) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "ENTITLEMENT_STATE",
                            "the entitlement changed meanwhile; look again");
        }
        // The answer from what was just written, in the columns of
        // kPaymentColumns, rather than reading the row back.
        FillPayment(
            c, call,
            SqlRow({ref.payment_id, r.Int(0), int64_t{0}, ref.member_id,
                    ref.programme_code, ref.term, ref.region_code, r.Str(5),
                    ref.amount_fen, int64_t{pb::PAYMENT_STATE_PAID},
                    std::string(), now, call.principal.subject, int64_t{0},
                    std::string(), r.Str(12), ref.standard_id}),
            resp->mutable_payment());
        disbursed.fen[{ref.programme_code, ref.region_code}] += ref.amount_fen;
        return absl::OkStatus();
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
  LEDGER_RETURN_IF_ERROR(
      ValidateRegionPrefix("region_prefix", req.region_prefix()));
  const bool by_term = internal::TermSet(req.term());
  if (by_term) LEDGER_RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  if (req.batch_id() < 0)
    return InvalidField("batch_id", "must not be negative");
  if (!pb::PaymentState_IsValid(req.state())) {
    return InvalidField("state", "is not a known payment state");
  }
  if (!req.member_id().empty()) {
    LEDGER_RETURN_IF_ERROR(
        internal::ValidateMemberId("member_id", req.member_id()));
  }
  if (!req.programme_code().empty() && !IsProgrammeCode(req.programme_code())) {
    return InvalidField("programme_code", "must be 1..40 of A-Z 0-9 _");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  auto school = internal::ScopeSchoolFilter(call.principal, "");
  if (!school.ok()) return school.status();
  const std::string term = by_term ? TermKey(req.term()) : "";
  const std::string filters = absl::StrCat(
      "pay|", *region, "|", term, "|", req.batch_id(), "|", req.state(), "|",
      req.member_id(), "|", req.programme_code(), "|", *school);
  auto after_key = DecodePageToken(req.page_token(), filters);
  if (!after_key.ok()) return after_key.status();
  int64_t after = 0;
  if (!after_key->empty() && !absl::SimpleAtoi(*after_key, &after)) {
    return InvalidField("page_token", "is malformed");
  }
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat(
            "SELECT ", internal::kPaymentColumns,
            " FROM payments p JOIN entitlements e ON e.id = p.entitlement_id "
            "WHERE p.id > ? AND p.region_code LIKE ? AND (? = '' OR p.term = "
            "?) AND (? = 0 OR p.batch_id = ?) AND (? = 0 OR p.state = ?) AND "
            "(? = '' OR p.member_id = ?) AND (? = '' OR p.programme_code = ?) "
            "AND (? = '' OR p.school_code = ?) ORDER BY p.id LIMIT ?"),
        {after, *region + "%", term, term, req.batch_id(), req.batch_id(),
         int64_t{req.state()}, int64_t{req.state()}, req.member_id(),
         req.member_id(), req.programme_code(), req.programme_code(), *school,
         *school, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      pb::Payment* p = resp->add_payments();
      FillPayment(c, call, (*rows)[i], p);
      last = p->payment_id();
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    call.NoteBulkRead(resp->payments_size());
    call.AddRecord(absl::StrCat("payments:", resp->payments_size()));
    return absl::OkStatus();
  });
}

absl::Status Ledger::ReversePayment(CallContext& call,
                                    const pb::ReversePaymentRequest& req,
                                    pb::ReversePaymentResponse* resp) {
  LEDGER_RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  LEDGER_RETURN_IF_ERROR(
      internal::ValidateRecordId("payment_id", req.payment_id()));
  LEDGER_RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  LEDGER_RETURN_IF_ERROR(
      internal::RequireOfficer(call.principal, "reverse payments"));
  pb::JournalAnchor head;
  absl::Status st = host_.requests().Run(
      call.principal, "ReversePayment", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        head.Clear();
        auto journal = JournalAppender::Open(c);
        if (!journal.ok()) return journal.status();
        auto p = LoadPayment(c, call, req.payment_id());
        if (!p.ok()) return p.status();
        LEDGER_RETURN_IF_ERROR(CheckRecordScope(
            call.principal, p->region_code(), p->school_code()));
        if (p->state() != pb::PAYMENT_STATE_PAID) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "PAYMENT_STATE",
              absl::StrCat("payment ", p->payment_id(), " is ",
                           pb::PaymentState_Name(p->state()),
                           "; only a paid payment can be reversed"));
        }
        auto originals = c.Query(
            absl::StrCat("SELECT ", kJournalColumns,
                         " FROM journal WHERE payment_id = ? AND kind <> ? "
                         "ORDER BY id"),
            {p->payment_id(), int64_t{pb::ENTRY_KIND_REVERSAL}});
        if (!originals.ok()) return originals.status();
        const int64_t now = NowMs();
        for (const SqlRow& row : *originals) {
          const JournalRecord o = FromJournalRow(row);
          JournalRecord r = o;
          r.at_ms = now;
          r.kind = pb::ENTRY_KIND_REVERSAL;
          r.debit_account = o.credit_account;
          r.credit_account = o.debit_account;
          r.reverses_id = o.id;
          journal->Append(&r);
          ToProto(r, resp->add_reversal_entries());
        }
        LEDGER_RETURN_IF_ERROR(journal->Flush());
        head.set_entries(journal->last_id());
        head.set_head_hash(journal->last_hash());
        auto n = c.Execute(
            "UPDATE payments SET state = ?, reversed_at = ?, reversed_by = ?, "
            "reversal_reason = ? WHERE id = ? AND state = ?",
            {int64_t{pb::PAYMENT_STATE_REVERSED}, now, call.principal.subject,
             req.reason(), p->payment_id(), int64_t{pb::PAYMENT_STATE_PAID}});
        if (!n.ok()) return n.status();
        if (*n != 1) return absl::AbortedError("payment changed; retry");
        auto e = c.Execute(
            "UPDATE entitlements SET state = ?, cancel_reason = ?, "
            "updated_at = ? WHERE id = ?",
            {int64_t{pb::ENTITLEMENT_STATE_CANCELLED},
             absl::StrCat("payment ", p->payment_id(),
                          " reversed: ", req.reason()),
             now, p->entitlement_id()});
        if (!e.ok()) return e.status();
        auto updated = LoadPayment(c, call, p->payment_id());
        if (!updated.ok()) return updated.status();
        *resp->mutable_payment() = std::move(*updated);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  if (head.entries() > 0) {
    NoteJournalHead(head.entries(), head.head_hash(), /*force=*/false);
  }
  call.AddRecord(absl::StrCat("payment:", req.payment_id()));
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
