// The double-entry journal: append-only, hash-chained, integer fen.
//
// Each entry debits one account and credits another with the same amount,
// so every account's debits minus credits, summed over all accounts of a
// region, is zero. Each entry carries the hash of the entry before it, and
// its own hash is SHA-256 over a canonical serialization of its fields and
// that previous hash; entry ids are assigned from the chain head (1, 2, 3,
// ...) so a deleted row shows as a gap. Appends are serialised on the head
// row (table journal_head): a row lock on PostgreSQL, the single writer on
// SQLite, so the chain is linear.
#ifndef EDUAID_SERVICES_LEDGER_JOURNAL_H_
#define EDUAID_SERVICES_LEDGER_JOURNAL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;

// prev_hash of the first entry.
inline constexpr char kGenesisHash[] =
    "0000000000000000000000000000000000000000000000000000000000000000";

// Account names. Fund accounts are "fund.<source>" (central, provincial,
// city, county); the region is a column of every entry.
inline constexpr char kPayableStudent[] = "payable.student";
inline constexpr char kBankPaidOut[] = "bank.paid_out";
std::string FundAccount(const std::string& source);

struct JournalRecord {
  int64_t id = 0;
  int64_t at_ms = 0;
  pb::EntryKind kind = pb::ENTRY_KIND_UNSPECIFIED;
  std::string debit_account;
  std::string credit_account;
  int64_t amount_fen = 0;
  std::string region_code;
  std::string programme_code;
  std::string term;  // TermKey form
  std::string member_id;
  int64_t payment_id = 0;
  int64_t reverses_id = 0;
  std::string prev_hash;
  std::string hash;
};

// Columns in the order FromJournalRow() reads them.
inline constexpr char kJournalColumns[] =
    "id, at_ms, kind, debit_account, credit_account, amount_fen, "
    "region_code, programme_code, term, member_id, payment_id, reverses_id, "
    "prev_hash, hash";

JournalRecord FromJournalRow(const SqlRow& row);
void ToProto(const JournalRecord& e, pb::JournalEntry* out);

// The canonical serialization hashed into an entry: every field but `hash`,
// each as "<byte length>:<value>\n", after a version line.
std::string CanonicalJournalEntry(const JournalRecord& e);

// SHA-256 (hex) of CanonicalJournalEntry(e).
std::string JournalEntryHash(const JournalRecord& e);

// Reads of the journal.

// Up to `limit` entries with id > `after` under `region_prefix`, of
// payment `payment_id` (0 = any) and of payments of `school_code` ("" =
// any), in id order.
absl::StatusOr<std::vector<JournalRecord>> ListJournalRecords(
    SqlConnection& c, const std::string& region_prefix, int64_t payment_id,
    const std::string& school_code, int64_t after, int64_t limit);

// The entries of a payment, in id order; without its reversal entries
// when `originals_only`.
absl::StatusOr<std::vector<JournalRecord>> JournalOfPayment(
    SqlConnection& c, int64_t payment_id, bool originals_only);

// The hash of entry `id` ("" when it does not exist).
absl::StatusOr<std::string> JournalHashAt(SqlConnection& c, int64_t id);

// Sums of one side of the journal under `region_prefix`, by (region,
// account): the debit side when `debit`, else the credit side.
struct AccountSum {
  std::string region_code;
  std::string account;
  int64_t amount_fen = 0;
};
absl::StatusOr<std::vector<AccountSum>> JournalSumsBySide(
    SqlConnection& c, const std::string& region_prefix, bool debit);

// What left the bank (bank.paid_out credited, less what reversals
// debited) for `term` (TermKey form) under `region_prefix`.
absl::StatusOr<int64_t> JournalPaidOut(SqlConnection& c,
                                       const std::string& term,
                                       const std::string& region_prefix);

// Takes the chain head's lock for the rest of the transaction: a row lock
// on PostgreSQL (the no-op update), nothing more on SQLite, whose writer
// lock the transaction already holds. Every writer of payments takes it
// first, so concurrent writers queue in one order and never deadlock.
absl::Status LockJournalHead(SqlConnection& conn);

// Appends entries inside one transaction. Not thread-safe; lives within a
// single Transact() callback.
class JournalAppender {
 public:
  // Locks the chain head for the rest of the transaction and reads it.
  static absl::StatusOr<JournalAppender> Open(SqlConnection& conn);

  // Assigns the next id, links and hashes `e` (filling id, prev_hash,
  // hash) and buffers it. Nothing is written until Flush().
  void Append(JournalRecord* e);
  // The same for an entry the caller no longer needs.
  void Append(JournalRecord&& e);

  // Writes the buffered entries (multi-row inserts) and the new head.
  // Must succeed before the transaction commits. The Append()ed records
  // of the caller keep their content; the buffered copies are consumed.
  absl::Status Flush();

  int64_t last_id() const { return last_id_; }
  const std::string& last_hash() const { return last_hash_; }

 private:
  explicit JournalAppender(SqlConnection* conn) : conn_(conn) {}
  absl::Status InsertRows(size_t begin, size_t count);
  SqlConnection* conn_;
  int64_t last_id_ = 0;
  std::string last_hash_;
  std::vector<JournalRecord> pending_;
  std::vector<SqlValue> params_;  // reused by InsertRows
};

// Recomputes the chain up to the head and reports the first broken link:
// an id gap, a prev_hash that does not link, a hash that does not match the
// entry's content, or a head that does not match the last entry. Then the
// chain must extend every anchor in `anchors` (entry `entries` exists and
// its hash starts with `head_hash`): otherwise entries vanished or were
// rewritten, even when the head was reset to match. The anchors checked
// are listed in the answer.
absl::StatusOr<pb::VerifyJournalResponse> VerifyJournalChain(
    Database& db, const std::vector<pb::JournalAnchor>& anchors = {});

// The head of the chain (last_id, last_hash) as the database has it.
absl::StatusOr<pb::JournalAnchor> ReadJournalHead(SqlConnection& conn);

// The statements that make the journal append-only in `dialect`: no
// UPDATE, DELETE or TRUNCATE of journal entries, no INSERT over or before
// an existing entry (SQLite's INSERT OR REPLACE deletes without firing
// DELETE triggers), and a head (journal_head) that is never inserted,
// deleted or truncated and only moves forward along the chain.
// Idempotent.
std::string JournalGuardsSql(SqlDialect dialect);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_JOURNAL_H_
