// Schema of the ledger database. Same SQL on SQLite and PostgreSQL; states
// and enums are stored as their proto numbers, times as unix milliseconds,
// personal data (payee names) and free text only encrypted (base64 TEXT).
#include <string>
#include <vector>

#include "services/common/idempotency.h"
#include "services/common/sql.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger.h"

namespace eduaid::ledger {
namespace {

// Version 1: standards, entitlements, batches, payments.
Migration Version1() {
  return {1, "standards, entitlements, batches, payments", R"sql(
CREATE TABLE standards (
  standard_id TEXT PRIMARY KEY,
  programme_code TEXT NOT NULL,
  effective_from TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  definition TEXT NOT NULL,
  policy_version TEXT NOT NULL,
  loaded_by TEXT NOT NULL,
  loaded_at BIGINT NOT NULL);
CREATE INDEX standards_code ON standards (programme_code, effective_from);

CREATE TABLE entitlements (
  id {ID},
  member_id TEXT NOT NULL,
  programme_code TEXT NOT NULL,
  term TEXT NOT NULL,
  standard_id TEXT NOT NULL,
  exclusive_group TEXT NOT NULL,
  region_code TEXT NOT NULL,
  school_code TEXT NOT NULL,
  school_name TEXT NOT NULL,
  stage INTEGER NOT NULL,
  grade INTEGER NOT NULL,
  boarder INTEGER NOT NULL,
  amount_fen BIGINT NOT NULL CHECK (amount_fen >= 0),
  state INTEGER NOT NULL,
  reason TEXT NOT NULL,
  payee_name TEXT NOT NULL,
  due_date TEXT NOT NULL,
  batch_id BIGINT NOT NULL DEFAULT 0,
  payment_id BIGINT NOT NULL DEFAULT 0,
  cancel_reason TEXT NOT NULL DEFAULT '',
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (member_id, programme_code, term));
CREATE INDEX entitlements_term_region ON entitlements (term, region_code, state);
CREATE INDEX entitlements_school ON entitlements (school_code, term);
CREATE INDEX entitlements_batch ON entitlements (batch_id);

CREATE TABLE batches (
  id {ID},
  region_prefix TEXT NOT NULL,
  term TEXT NOT NULL,
  programme_code TEXT NOT NULL,
  school_code TEXT NOT NULL,
  state INTEGER NOT NULL,
  note TEXT NOT NULL,
  created_by TEXT NOT NULL,
  approved_by TEXT NOT NULL DEFAULT '',
  executed_by TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  approved_at BIGINT NOT NULL DEFAULT 0,
  started_at BIGINT NOT NULL DEFAULT 0,
  finished_at BIGINT NOT NULL DEFAULT 0,
  payment_count BIGINT NOT NULL,
  total_fen BIGINT NOT NULL,
  paid_count BIGINT NOT NULL DEFAULT 0,
  paid_fen BIGINT NOT NULL DEFAULT 0,
  failed_count BIGINT NOT NULL DEFAULT 0);
CREATE INDEX batches_state ON batches (state);

CREATE TABLE payments (
  id {ID},
  entitlement_id BIGINT NOT NULL UNIQUE,
  batch_id BIGINT NOT NULL,
  member_id TEXT NOT NULL,
  programme_code TEXT NOT NULL,
  term TEXT NOT NULL,
  region_code TEXT NOT NULL,
  school_code TEXT NOT NULL,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  state INTEGER NOT NULL,
  failure_reason TEXT NOT NULL DEFAULT '',
  paid_at BIGINT NOT NULL DEFAULT 0,
  paid_by TEXT NOT NULL DEFAULT '',
  reversed_at BIGINT NOT NULL DEFAULT 0,
  reversed_by TEXT NOT NULL DEFAULT '',
  reversal_reason TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  UNIQUE (member_id, programme_code, term));
CREATE INDEX payments_batch ON payments (batch_id, state, id);
CREATE INDEX payments_term_region ON payments (term, region_code, state);
)sql"};
}

// Version 2: hash-chained double-entry journal.
Migration Version2() {
  return {2, "hash-chained double-entry journal",
          std::string(R"sql(
CREATE TABLE journal (
  id BIGINT PRIMARY KEY,
  at_ms BIGINT NOT NULL,
  kind INTEGER NOT NULL,
  debit_account TEXT NOT NULL,
  credit_account TEXT NOT NULL,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  region_code TEXT NOT NULL,
  programme_code TEXT NOT NULL,
  term TEXT NOT NULL,
  member_id TEXT NOT NULL,
  payment_id BIGINT NOT NULL,
  reverses_id BIGINT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE INDEX journal_payment ON journal (payment_id);
CREATE TABLE journal_head (
  id INTEGER PRIMARY KEY,
  last_id BIGINT NOT NULL,
  last_hash TEXT NOT NULL);
INSERT INTO journal_head (id, last_id, last_hash) VALUES (1, 0, ')sql") +
              kGenesisHash + "');"};
}

// Version 3: notices, follow-ups, grievances, postings.
Migration Version3() {
  return {3, "notices, follow-ups, grievances, postings", R"sql(
CREATE TABLE notice_acks (
  payment_id BIGINT PRIMARY KEY,
  acknowledged_on TEXT NOT NULL,
  party INTEGER NOT NULL,
  method INTEGER NOT NULL,
  note TEXT NOT NULL,
  recorded_by TEXT NOT NULL,
  recorded_at BIGINT NOT NULL);

CREATE TABLE follow_ups (
  id {ID},
  payment_id BIGINT NOT NULL,
  visited_on TEXT NOT NULL,
  visitor TEXT NOT NULL,
  outcome INTEGER NOT NULL,
  note TEXT NOT NULL,
  grievance_id BIGINT NOT NULL DEFAULT 0,
  recorded_by TEXT NOT NULL,
  recorded_at BIGINT NOT NULL);
CREATE INDEX follow_ups_payment ON follow_ups (payment_id);

CREATE TABLE grievances (
  id {ID},
  entitlement_id BIGINT NOT NULL,
  payment_id BIGINT NOT NULL,
  posting_id BIGINT NOT NULL DEFAULT 0,
  posting_line INTEGER NOT NULL DEFAULT 0,
  region_code TEXT NOT NULL,
  school_code TEXT NOT NULL,
  source INTEGER NOT NULL,
  state INTEGER NOT NULL,
  description TEXT NOT NULL,
  opened_by TEXT NOT NULL,
  opened_at BIGINT NOT NULL,
  outcome INTEGER NOT NULL DEFAULT 0,
  resolution TEXT NOT NULL DEFAULT '',
  resolved_by TEXT NOT NULL DEFAULT '',
  resolved_at BIGINT NOT NULL DEFAULT 0);
CREATE INDEX grievances_region ON grievances (region_code, state);
CREATE INDEX grievances_entitlement ON grievances (entitlement_id);

CREATE TABLE postings (
  id {ID},
  school_code TEXT NOT NULL,
  school_name TEXT NOT NULL,
  region_code TEXT NOT NULL,
  term TEXT NOT NULL,
  published_on TEXT NOT NULL,
  objection_until TEXT NOT NULL,
  total_fen BIGINT NOT NULL,
  created_by TEXT NOT NULL,
  created_at BIGINT NOT NULL);
CREATE TABLE posting_lines (
  posting_id BIGINT NOT NULL,
  line_no INTEGER NOT NULL,
  entitlement_id BIGINT NOT NULL,
  masked_name TEXT NOT NULL,
  programme_code TEXT NOT NULL,
  amount_fen BIGINT NOT NULL,
  stage INTEGER NOT NULL,
  grade INTEGER NOT NULL,
  PRIMARY KEY (posting_id, line_no));
)sql"};
}

// Version 2 declared the journal's id BIGINT PRIMARY KEY, which on SQLite
// is not the row id: every entry went into the table and into a unique
// index beside it. Rebuilt keyed by the row id ({KEY}); Start() puts the
// append-only triggers back (they go with the old table).
// Version 5: journal keyed by its id.
Migration Version5() {
  return {5, "journal keyed by its id", R"sql(
CREATE TABLE journal_keyed (
  id {KEY},
  at_ms BIGINT NOT NULL,
  kind INTEGER NOT NULL,
  debit_account TEXT NOT NULL,
  credit_account TEXT NOT NULL,
  amount_fen BIGINT NOT NULL CHECK (amount_fen > 0),
  region_code TEXT NOT NULL,
  programme_code TEXT NOT NULL,
  term TEXT NOT NULL,
  member_id TEXT NOT NULL,
  payment_id BIGINT NOT NULL,
  reverses_id BIGINT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
INSERT INTO journal_keyed SELECT id, at_ms, kind, debit_account,
  credit_account, amount_fen, region_code, programme_code, term, member_id,
  payment_id, reverses_id, prev_hash, hash FROM journal;
DROP TABLE journal;
ALTER TABLE journal_keyed RENAME TO journal;
CREATE INDEX journal_payment ON journal (payment_id);
)sql"};
}

// Who caused an entitlement, for the two-person rule: the creator for
// direct calls, the officer behind a service's call (vocational grants).
// Existing rows were all raised by their creator.
// Version 6: entitlements remember their originator.
Migration Version6() {
  return {6, "entitlements remember their originator", R"sql(
ALTER TABLE entitlements ADD COLUMN originator_subject TEXT NOT NULL DEFAULT '';
UPDATE entitlements SET originator_subject = created_by;
)sql"};
}

// A follow-up recorded by another service names what recorded it ("teacher
// visit 12"); a household's payments are read by member.
// Version 7: follow-ups name their source; payments by member.
Migration Version7() {
  return {7, "follow-ups name their source; payments by member", R"sql(
ALTER TABLE follow_ups ADD COLUMN source_ref TEXT NOT NULL DEFAULT '';
CREATE INDEX payments_member ON payments (member_id);
)sql"};
}

}  // namespace

std::vector<Migration> Migrations() {
  return {
      Version1(), Version2(), Version3(), RequestLogMigration(4),
      Version5(), Version6(), Version7(),
  };
}

}  // namespace eduaid::ledger
