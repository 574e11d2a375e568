#include "services/ledger/batch_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"

namespace eduaid::ledger {

BatchRecord BatchFromRow(const SqlRow& r) {
  BatchRecord b;
  b.id = r.Int(0);
  b.region_prefix = r.Str(1);
  b.term = r.Str(2);
  b.programme_code = r.Str(3);
  b.school_code = r.Str(4);
  b.state = static_cast<pb::BatchState>(r.Int(5));
  b.note = r.Str(6);
  b.created_by = r.Str(7);
  b.approved_by = r.Str(8);
  b.executed_by = r.Str(9);
  b.created_at_ms = r.Int(10);
  b.approved_at_ms = r.Int(11);
  b.started_at_ms = r.Int(12);
  b.finished_at_ms = r.Int(13);
  b.payment_count = r.Int(14);
  b.total_fen = r.Int(15);
  b.paid_count = r.Int(16);
  b.paid_fen = r.Int(17);
  b.failed_count = r.Int(18);
  return b;
}

void ToProto(const BatchRecord& r, pb::Batch* b) {
  b->set_batch_id(r.id);
  b->set_region_prefix(r.region_prefix);
  if (auto term = ParseTermKey(r.term)) *b->mutable_term() = *term;
  b->set_programme_code(r.programme_code);
  b->set_school_code(r.school_code);
  b->set_state(r.state);
  b->set_note(r.note);
  b->set_created_by(r.created_by);
  b->set_approved_by(r.approved_by);
  b->set_executed_by(r.executed_by);
  b->set_created_at(FormatTimestamp(r.created_at_ms));
  b->set_approved_at(FormatTimestamp(r.approved_at_ms));
  b->set_started_at(FormatTimestamp(r.started_at_ms));
  b->set_finished_at(FormatTimestamp(r.finished_at_ms));
  b->set_payment_count(r.payment_count);
  b->set_total_fen(r.total_fen);
  b->set_paid_count(r.paid_count);
  b->set_paid_fen(r.paid_fen);
  b->set_failed_count(r.failed_count);
  b->set_pending_count(r.payment_count - r.paid_count - r.failed_count);
}

absl::StatusOr<pb::Batch> LoadBatch(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kBatchColumns,
                                        " FROM batches WHERE id = ?"),
                           {id}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("batch ", id, " does not exist"));
  }
  pb::Batch b;
  ToProto(BatchFromRow(rows[0]), &b);
  return b;
}

absl::StatusOr<std::vector<int64_t>> ListBatchIds(
    SqlConnection& c, const std::string& region_prefix, int64_t state,
    const std::string& school_code, int64_t after, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id FROM batches WHERE id > ? AND region_prefix LIKE ? "
              "AND (? = 0 OR state = ?) AND (? = '' OR school_code = ?) "
              "ORDER BY id LIMIT ?",
              {after, region_prefix + "%", state, state, school_code,
               school_code, limit}));
  std::vector<int64_t> out;
  for (const SqlRow& r : rows) out.push_back(r.Int(0));
  return out;
}

absl::StatusOr<std::vector<int64_t>> BatchIdsInState(SqlConnection& c,
                                                     pb::BatchState state) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT id FROM batches WHERE state = ? ORDER BY id",
                           {int64_t{state}}));
  std::vector<int64_t> out;
  for (const SqlRow& r : rows) out.push_back(r.Int(0));
  return out;
}

absl::StatusOr<bool> ProgrammeKnown(SqlConnection& c,
                                    const std::string& programme_code) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT 1 FROM standards WHERE programme_code = ? LIMIT 1",
              {programme_code}));
  return !rows.empty();
}

absl::StatusOr<int64_t> InsertBatchWithPayments(SqlConnection& c,
                                                const BatchSelection& s,
                                                int64_t now_ms, int64_t* count,
                                                int64_t* total_fen) {
  ASSIGN_OR_RETURN(
      auto batch,
      c.Query(
          "INSERT INTO batches (region_prefix, term, programme_code, "
          "school_code, state, note, created_by, created_at, "
          "payment_count, total_fen) VALUES (?,?,?,?,?,?,?,?,0,0) "
          "RETURNING id",
          {s.region_prefix, s.term, s.programme_code, s.school_code,
           int64_t{pb::BATCH_STATE_CREATED}, s.note, s.created_by, now_ms}));
  const int64_t id = batch[0].Int(0);
  RETURN_IF_ERROR(
      c.Execute(
           "INSERT INTO payments (entitlement_id, batch_id, member_id, "
           "programme_code, term, region_code, school_code, amount_fen, "
           "state, created_at) SELECT id, ?, member_id, programme_code, term, "
           "region_code, school_code, amount_fen, ?, ? FROM entitlements "
           "WHERE term = ? AND region_code LIKE ? AND state = ? AND "
           "amount_fen > 0 AND (? = '' OR programme_code = ?) AND "
           "(? = '' OR school_code = ?) ORDER BY id LIMIT ?",
           {id, int64_t{pb::PAYMENT_STATE_PENDING}, now_ms, s.term,
            s.region_prefix + "%", int64_t{pb::ENTITLEMENT_STATE_OPEN},
            s.programme_code, s.programme_code, s.school_code, s.school_code,
            s.limit})
          .status());
  ASSIGN_OR_RETURN(auto sums,
                   c.Query("SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) "
                           "FROM payments WHERE batch_id = ?",
                           {id}));
  *count = sums[0].Int(0);
  *total_fen = sums[0].Int(1);
  return id;
}

absl::Status BatchEntitlements(SqlConnection& c, int64_t batch_id,
                               int64_t count, int64_t total_fen,
                               int64_t now_ms) {
  ASSIGN_OR_RETURN(
      int64_t moved,
      c.Execute("UPDATE entitlements SET state = ?, batch_id = ?, payment_id "
                "= (SELECT p.id FROM payments p WHERE p.entitlement_id = "
                "entitlements.id), updated_at = ? WHERE id IN (SELECT "
                "entitlement_id FROM payments WHERE batch_id = ?)",
                {int64_t{pb::ENTITLEMENT_STATE_BATCHED}, batch_id, now_ms,
                 batch_id}));
  if (moved != count) {
    return absl::AbortedError("entitlements changed meanwhile; retry");
  }
  return c
      .Execute(
          "UPDATE batches SET payment_count = ?, total_fen = ? WHERE id = ?",
          {count, total_fen, batch_id})
      .status();
}

absl::StatusOr<int64_t> CountOriginatedBy(SqlConnection& c, int64_t batch_id,
                                          const std::string& subject) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT COUNT(*) FROM payments p JOIN entitlements e ON e.id = "
              "p.entitlement_id WHERE p.batch_id = ? AND "
              "e.originator_subject = ?",
              {batch_id, subject}));
  return rows[0].Int(0);
}

absl::StatusOr<int64_t> ApproveBatchRow(SqlConnection& c, int64_t id,
                                        const std::string& approver,
                                        int64_t now_ms) {
  return c.Execute(
      "UPDATE batches SET state = ?, approved_by = ?, approved_at = ? "
      "WHERE id = ? AND state = ?",
      {int64_t{pb::BATCH_STATE_APPROVED}, approver, now_ms, id,
       int64_t{pb::BATCH_STATE_CREATED}});
}

absl::StatusOr<int64_t> StartBatchRow(SqlConnection& c, int64_t id,
                                      const std::string& executor,
                                      int64_t now_ms) {
  return c.Execute(
      "UPDATE batches SET state = ?, executed_by = ?, started_at = ? "
      "WHERE id = ? AND state = ?",
      {int64_t{pb::BATCH_STATE_EXECUTING}, executor, now_ms, id,
       int64_t{pb::BATCH_STATE_APPROVED}});
}

absl::StatusOr<int64_t> CancelBatchRows(SqlConnection& c, int64_t id,
                                        pb::BatchState from,
                                        const std::string& note,
                                        int64_t now_ms) {
  ASSIGN_OR_RETURN(
      int64_t n,
      c.Execute("UPDATE batches SET state = ?, note = ?, finished_at = ? "
                "WHERE id = ? AND state = ?",
                {int64_t{pb::BATCH_STATE_CANCELLED}, note, now_ms, id,
                 int64_t{from}}));
  if (n != 1) return n;
  // Never-executed payments go; their entitlements are open again
  // (cancelled entitlements stay cancelled).
  RETURN_IF_ERROR(
      c.Execute("UPDATE entitlements SET state = ?, batch_id = 0, payment_id "
                "= 0, updated_at = ? WHERE batch_id = ? AND state = ?",
                {int64_t{pb::ENTITLEMENT_STATE_OPEN}, now_ms, id,
                 int64_t{pb::ENTITLEMENT_STATE_BATCHED}})
          .status());
  RETURN_IF_ERROR(c.Execute("UPDATE entitlements SET batch_id = 0, "
                            "payment_id = 0 WHERE batch_id = ?",
                            {id})
                      .status());
  RETURN_IF_ERROR(
      c.Execute("DELETE FROM payments WHERE batch_id = ? AND state = ?",
                {id, int64_t{pb::PAYMENT_STATE_PENDING}})
          .status());
  return n;
}

absl::StatusOr<ExecutingBatch> LoadExecutingBatch(SqlConnection& c,
                                                  int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT state, executed_by, started_at FROM batches WHERE id = ?",
              {id}));
  if (rows.empty()) return ExecutingBatch{};
  return ExecutingBatch{rows[0].Int(0), rows[0].Str(1), rows[0].Int(2)};
}

absl::StatusOr<std::vector<PendingPayment>> NextPendingPayments(
    SqlConnection& c, int64_t batch_id, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT p.id, p.entitlement_id, p.member_id, p.programme_code, "
              "p.term, p.region_code, p.amount_fen, e.state, e.standard_id "
              "FROM payments p JOIN entitlements e ON e.id = "
              "p.entitlement_id WHERE p.batch_id = ? AND p.state = ? ORDER BY "
              "p.id LIMIT ?",
              {batch_id, int64_t{pb::PAYMENT_STATE_PENDING}, limit}));
  std::vector<PendingPayment> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) {
    out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Str(4), r.Str(5),
                   r.Int(6), r.Int(7), r.Str(8)});
  }
  return out;
}

absl::Status FinishBatch(SqlConnection& c, int64_t batch_id, int64_t now_ms) {
  return c
      .Execute(
          "UPDATE batches SET state = ?, finished_at = ? WHERE id = ? "
          "AND state = ?",
          {int64_t{pb::BATCH_STATE_EXECUTED}, now_ms, batch_id,
           int64_t{pb::BATCH_STATE_EXECUTING}})
      .status();
}

absl::Status FailCancelledPayment(SqlConnection& c, int64_t payment_id) {
  return c
      .Execute(
          "UPDATE payments SET state = ?, failure_reason = ? WHERE id = "
          "? AND state = ?",
          {int64_t{pb::PAYMENT_STATE_FAILED},
           std::string("the entitlement was cancelled before execution"),
           payment_id, int64_t{pb::PAYMENT_STATE_PENDING}})
      .status();
}

absl::Status PayPendingRange(SqlConnection& c, int64_t batch_id, int64_t first,
                             int64_t last, int64_t paid,
                             const std::string& paid_by, int64_t now_ms) {
  ASSIGN_OR_RETURN(
      int64_t n,
      c.Execute("UPDATE payments SET state = ?, paid_at = ?, paid_by = ? "
                "WHERE batch_id = ? AND state = ? AND id >= ? AND id <= ?",
                {int64_t{pb::PAYMENT_STATE_PAID}, now_ms, paid_by, batch_id,
                 int64_t{pb::PAYMENT_STATE_PENDING}, first, last}));
  if (n != paid) return absl::InternalError("payments changed under the batch");
  // By primary key through the payments just paid: entitlements have no
  // index on payment_id, and a filter on batch_id alone reads every
  // entitlement of the batch for every chunk.
  ASSIGN_OR_RETURN(
      int64_t e,
      c.Execute("UPDATE entitlements SET state = ?, updated_at = ? WHERE id "
                "IN (SELECT entitlement_id FROM payments WHERE batch_id = ? "
                "AND state = ? AND id >= ? AND id <= ?) AND state = ?",
                {int64_t{pb::ENTITLEMENT_STATE_PAID}, now_ms, batch_id,
                 int64_t{pb::PAYMENT_STATE_PAID}, first, last,
                 int64_t{pb::ENTITLEMENT_STATE_BATCHED}}));
  if (e != paid) {
    return absl::InternalError("entitlements changed under the batch");
  }
  return absl::OkStatus();
}

absl::Status AddBatchCounters(SqlConnection& c, int64_t batch_id, int64_t paid,
                              int64_t paid_fen, int64_t failed) {
  return c
      .Execute(
          "UPDATE batches SET paid_count = paid_count + ?, paid_fen = "
          "paid_fen + ?, failed_count = failed_count + ? WHERE id = ?",
          {paid, paid_fen, failed, batch_id})
      .status();
}

}  // namespace eduaid::ledger
