// Batches: creation from the open entitlements, two-person approval,
// resumable chunked execution on the worker pool, cancellation, reads.
#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "services/common/cache.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/batch_store.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"

namespace eduaid::ledger {
namespace {

using internal::kBatchCacheEntity;

// Largest batch.
constexpr int kMaxBatchPayments = 200000;

bool FinalBatchState(pb::BatchState s) {
  return s == pb::BATCH_STATE_EXECUTED || s == pb::BATCH_STATE_CANCELLED;
}

absl::Status BatchStateError(const pb::Batch& b, absl::string_view wanted) {
  return WithReason(
      absl::StatusCode::kFailedPrecondition, "BATCH_STATE",
      absl::StrCat("batch ", b.batch_id(), " is ",
                   pb::BatchState_Name(b.state()), "; this needs ", wanted));
}

absl::Status ValidateCreate(const pb::CreateBatchRequest& req) {
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
  if (req.max_payments() < 0 || req.max_payments() > kMaxBatchPayments) {
    v.push_back(
        {"max_payments", absl::StrCat("must be 0..", kMaxBatchPayments)});
  }
  check(ValidateText("note", req.note(), 200, /*required=*/false));
  if (!v.empty()) return InvalidFields(v);
  return absl::OkStatus();
}

std::string BatchKey(int64_t batch_id) {
  return CacheKey("ledger", kBatchCacheEntity, absl::StrCat(batch_id));
}

}  // namespace

// ---------------------------------------------------------------- batches

absl::StatusOr<pb::Batch> Ledger::CreateBatchIn(
    SqlConnection& c, CallContext& call, const pb::CreateBatchRequest& req,
    const std::string& region) {
  // Payments are created here too: queue with the other writers.
  RETURN_IF_ERROR(LockJournalHead(c));
  if (!req.programme_code().empty()) {
    ASSIGN_OR_RETURN(bool known, ProgrammeKnown(c, req.programme_code()));
    if (!known) return InvalidField("programme_code", "no such programme");
  }
  BatchSelection s{
      region,
      TermKey(req.term()),
      req.programme_code(),
      req.school_code(),
      req.note(),
      call.principal.subject,
      req.max_payments() == 0 ? kMaxBatchPayments : req.max_payments()};
  const int64_t now = NowMs();
  int64_t count = 0, total_fen = 0;
  ASSIGN_OR_RETURN(const int64_t id,
                   InsertBatchWithPayments(c, s, now, &count, &total_fen));
  if (count == 0) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "NOTHING_TO_PAY",
        absl::StrCat("no open entitlement with an amount for ", s.term,
                     " in region ", region,
                     req.programme_code().empty()
                         ? ""
                         : " and programme " + req.programme_code()));
  }
  RETURN_IF_ERROR(BatchEntitlements(c, id, count, total_fen, now));
  return LoadBatch(c, id);
}

absl::Status Ledger::CreateBatch(CallContext& call,
                                 const pb::CreateBatchRequest& req,
                                 pb::CreateBatchResponse* resp) {
  RETURN_IF_ERROR(ValidateCreate(req));
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  if (region.empty()) return InvalidField("region_prefix", "is required");
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "CreateBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(*resp->mutable_batch(),
                         CreateBatchIn(c, call, req, region));
        return absl::OkStatus();
      }));
  call.AddRecord(absl::StrCat("batch:", resp->batch().batch_id()));
  return absl::OkStatus();
}

absl::StatusOr<pb::Batch> Ledger::ApproveBatchIn(SqlConnection& c,
                                                 CallContext& call,
                                                 int64_t batch_id) {
  ASSIGN_OR_RETURN(pb::Batch b, LoadBatch(c, batch_id));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, b.region_prefix(), b.school_code()));
  if (b.state() != pb::BATCH_STATE_CREATED) {
    return BatchStateError(b, "BATCH_STATE_CREATED");
  }
  if (b.created_by() == call.principal.subject) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "SAME_APPROVER",
        absl::StrCat("batch ", b.batch_id(),
                     " was created by this principal; a different "
                     "principal must approve it (two-person rule)"));
  }
  ASSIGN_OR_RETURN(const int64_t own,
                   CountOriginatedBy(c, b.batch_id(), call.principal.subject));
  if (own > 0) {
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "SAME_APPROVER",
        absl::StrCat("batch ", b.batch_id(), " holds ", own,
                     " entitlement(s) originated by this principal; a "
                     "different principal must approve it (two-person "
                     "rule)"));
  }
  ASSIGN_OR_RETURN(int64_t n, ApproveBatchRow(c, b.batch_id(),
                                              call.principal.subject, NowMs()));
  if (n != 1) return BatchStateError(b, "BATCH_STATE_CREATED");
  return LoadBatch(c, b.batch_id());
}

absl::Status Ledger::ApproveBatch(CallContext& call,
                                  const pb::ApproveBatchRequest& req,
                                  pb::ApproveBatchResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("batch_id", req.batch_id()));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "ApproveBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(*resp->mutable_batch(),
                         ApproveBatchIn(c, call, req.batch_id()));
        return absl::OkStatus();
      }));
  call.AddRecord(absl::StrCat("batch:", req.batch_id()));
  return absl::OkStatus();
}

absl::Status Ledger::ExecuteBatch(CallContext& call,
                                  const pb::ExecuteBatchRequest& req,
                                  pb::ExecuteBatchResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("batch_id", req.batch_id()));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "ExecuteBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(pb::Batch b, LoadBatch(c, req.batch_id()));
        RETURN_IF_ERROR(CheckRecordScope(call.principal, b.region_prefix(),
                                         b.school_code()));
        if (b.state() != pb::BATCH_STATE_APPROVED) {
          return BatchStateError(b, "BATCH_STATE_APPROVED");
        }
        ASSIGN_OR_RETURN(
            int64_t n,
            StartBatchRow(c, b.batch_id(), call.principal.subject, NowMs()));
        if (n != 1) return BatchStateError(b, "BATCH_STATE_APPROVED");
        ASSIGN_OR_RETURN(*resp->mutable_batch(), LoadBatch(c, b.batch_id()));
        return absl::OkStatus();
      }));
  // Also on a repeat: if this process lost the batch (a restart), it runs
  // again from the database's state; a finished batch just stops.
  ScheduleBatch(req.batch_id());
  call.AddRecord(absl::StrCat("batch:", req.batch_id()));
  return absl::OkStatus();
}

absl::StatusOr<pb::Batch> Ledger::CancelBatchIn(
    SqlConnection& c, CallContext& call, const pb::CancelBatchRequest& req) {
  ASSIGN_OR_RETURN(pb::Batch b, LoadBatch(c, req.batch_id()));
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, b.region_prefix(), b.school_code()));
  if (b.state() != pb::BATCH_STATE_CREATED &&
      b.state() != pb::BATCH_STATE_APPROVED) {
    return BatchStateError(b, "BATCH_STATE_CREATED or APPROVED");
  }
  const std::string note =
      absl::StrCat(b.note(), b.note().empty() ? "" : " ", "[cancelled by ",
                   call.principal.subject, ": ", req.reason(), "]");
  ASSIGN_OR_RETURN(int64_t n,
                   CancelBatchRows(c, b.batch_id(), b.state(), note, NowMs()));
  if (n != 1) return BatchStateError(b, "BATCH_STATE_CREATED");
  return LoadBatch(c, b.batch_id());
}

absl::Status Ledger::CancelBatch(CallContext& call,
                                 const pb::CancelBatchRequest& req,
                                 pb::CancelBatchResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRecordId("batch_id", req.batch_id()));
  RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "CancelBatch", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(*resp->mutable_batch(), CancelBatchIn(c, call, req));
        return absl::OkStatus();
      }));
  host_.cache().Invalidate({BatchKey(req.batch_id())});
  call.AddRecord(absl::StrCat("batch:", req.batch_id()));
  return absl::OkStatus();
}

absl::Status Ledger::GetBatch(CallContext& call, const pb::GetBatchRequest& req,
                              pb::GetBatchResponse* resp) {
  RETURN_IF_ERROR(ValidateRecordId("batch_id", req.batch_id()));
  const std::string key = BatchKey(req.batch_id());
  pb::Batch batch;
  // A hit is authentic and bound to this batch's key (CacheGet), and only
  // final batches are cached, so its region and school are the record's.
  std::optional<std::string> cached = CacheGet(key);
  if (!cached || !batch.ParseFromString(*cached) ||
      batch.batch_id() != req.batch_id()) {
    batch.Clear();
    RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
      ASSIGN_OR_RETURN(batch, LoadBatch(c, req.batch_id()));
      return absl::OkStatus();
    }));
    // Only a batch that can no longer change is cached.
    if (FinalBatchState(batch.state())) {
      CachePut(key, batch.SerializeAsString());
    }
  }
  RETURN_IF_ERROR(CheckRecordScope(call.principal, batch.region_prefix(),
                                   batch.school_code()));
  *resp->mutable_batch() = std::move(batch);
  return absl::OkStatus();
}

absl::Status Ledger::ListBatches(CallContext& call,
                                 const pb::ListBatchesRequest& req,
                                 pb::ListBatchesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::BatchState_IsValid(req.state())) {
    return InvalidField("state", "is not a known batch state");
  }
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(const std::string school,
                   internal::ScopeSchoolFilter(call.principal, ""));
  ASSIGN_OR_RETURN(IdPage page,
                   IdPage::Open(req.page_token(),
                                absl::StrCat("batches|", region, "|",
                                             req.state(), "|", school),
                                req.page_size(), 100, 1000));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto ids, ListBatchIds(c, region, req.state(), school,
                                            page.after(), page.limit()));
    int64_t last = 0;
    for (size_t i = 0; i < page.Keep(ids.size()); ++i) {
      ASSIGN_OR_RETURN(*resp->add_batches(), LoadBatch(c, ids[i]));
      last = ids[i];
    }
    resp->set_next_page_token(page.NextToken(ids.size(), last));
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
      host_.cache().Invalidate({BatchKey(batch_id)});
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

absl::Status Ledger::ExecuteChunkIn(SqlConnection& c, int64_t batch_id,
                                    ChunkResult& out) {
  const int64_t now = NowMs();
  // Taking the journal head first serialises chunks with every other
  // journal writer, so the PENDING rows read below cannot be paid twice by
  // a concurrent executor (another replica).
  ASSIGN_OR_RETURN(JournalAppender journal, JournalAppender::Open(c));
  ASSIGN_OR_RETURN(ExecutingBatch batch, LoadExecutingBatch(c, batch_id));
  if (batch.state != pb::BATCH_STATE_EXECUTING) {
    out.finished = true;
    return absl::OkStatus();
  }
  out.head_entries = journal.last_id();
  out.head_hash = journal.last_hash();
  out.started_at_ms = batch.started_at_ms;
  ASSIGN_OR_RETURN(auto chunk,
                   NextPendingPayments(
                       c, batch_id, std::max(1, options_.execute_chunk_size)));
  if (chunk.empty()) {
    RETURN_IF_ERROR(FinishBatch(c, batch_id, now));
    out.finished = true;
    out.finished_at_ms = now;
    return absl::OkStatus();
  }
  int64_t paid = 0, paid_fen = 0, failed = 0;
  for (const PendingPayment& p : chunk) {
    if (p.entitlement_state != pb::ENTITLEMENT_STATE_BATCHED) {
      RETURN_IF_ERROR(FailCancelledPayment(c, p.payment_id));
      ++failed;
      continue;
    }
    const PaymentRef ref{p.payment_id,  p.member_id,   p.programme_code, p.term,
                         p.region_code, p.standard_id, p.amount_fen};
    RETURN_IF_ERROR(JournalPayment(c, journal, ref, now));
    ++paid;
    if (!CheckedAdd(paid_fen, ref.amount_fen, &paid_fen)) {
      return absl::OutOfRangeError("chunk total exceeds int64 fen");
    }
    out.disbursed.fen[{ref.programme_code, ref.region_code}] += ref.amount_fen;
  }
  if (paid > 0) {
    RETURN_IF_ERROR(PayPendingRange(c, batch_id, chunk.front().payment_id,
                                    chunk.back().payment_id, paid,
                                    batch.executed_by, now));
  }
  RETURN_IF_ERROR(journal.Flush());
  out.head_entries = journal.last_id();
  out.head_hash = journal.last_hash();
  RETURN_IF_ERROR(AddBatchCounters(c, batch_id, paid, paid_fen, failed));
  out.disbursed.failures = failed;
  return absl::OkStatus();
}

absl::StatusOr<Ledger::ChunkResult> Ledger::ExecuteChunk(int64_t batch_id) {
  ChunkResult out;
  RETURN_IF_ERROR(db_.Transact([&](SqlConnection& c) -> absl::Status {
    out = ChunkResult();
    return ExecuteChunkIn(c, batch_id, out);
  }));
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

}  // namespace eduaid::ledger
