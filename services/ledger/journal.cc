#include "services/ledger/journal.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/ledger/policy.h"

namespace eduaid::ledger {
namespace {

constexpr int kJournalColumnCount = 14;
// Rows per multi-row INSERT: 32 * 14 parameters stay far below both
// engines' limits, and the statement text is prepared once.
constexpr size_t kRowsPerInsert = 32;
constexpr int kVerifyPage = 5000;

void AppendField(std::string* out, absl::string_view value) {
  absl::StrAppend(out, value.size(), ":", value, "\n");
}

void AppendField(std::string* out, int64_t value) {
  AppendField(out, absl::AlphaNum(value).Piece());
}

// Writes the canonical form of `e` into `out`, replacing its content.
void WriteCanonical(const JournalRecord& e, std::string* out) {
  out->assign("eduaid.ledger.journal.v1\n");
  AppendField(out, e.id);
  AppendField(out, e.at_ms);
  AppendField(out, int64_t{e.kind});
  AppendField(out, e.debit_account);
  AppendField(out, e.credit_account);
  AppendField(out, e.amount_fen);
  AppendField(out, e.region_code);
  AppendField(out, e.programme_code);
  AppendField(out, e.term);
  AppendField(out, e.member_id);
  AppendField(out, e.payment_id);
  AppendField(out, e.reverses_id);
  AppendField(out, e.prev_hash);
}

// SHA-256 of journal entries, hex. The algorithm is fetched once and the
// digest context and the canonical buffer are reused per thread: OpenSSL
// 3's one-shot SHA256() fetches the algorithm on every call, which cost
// more than the hashing of an entry.
class EntryHasher {
 public:
  EntryHasher() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {}

  void Hash(const JournalRecord& e, std::string* hex) {
    static const EVP_MD* const kSha256 =
        EVP_MD_fetch(nullptr, "SHA256", nullptr);
    WriteCanonical(e, &canonical_);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestInit_ex(ctx_.get(), kSha256, nullptr) != 1 ||
        EVP_DigestUpdate(ctx_.get(), canonical_.data(), canonical_.size()) !=
            1 ||
        EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1) {
      // Only on allocation failure; an empty hash never verifies.
      hex->clear();
      return;
    }
    static constexpr char kHex[] = "0123456789abcdef";
    hex->resize(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
      (*hex)[2 * i] = kHex[md[i] >> 4];
      (*hex)[2 * i + 1] = kHex[md[i] & 0xf];
    }
  }

  static EntryHasher& ForThisThread() {
    thread_local EntryHasher hasher;
    return hasher;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  std::string canonical_;
};

std::string InsertSql(size_t rows) {
  std::string sql =
      absl::StrCat("INSERT INTO journal (", kJournalColumns, ") VALUES ");
  for (size_t i = 0; i < rows; ++i) {
    absl::StrAppend(&sql, i == 0 ? "" : ",", "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  }
  return sql;
}

}  // namespace

std::string FundAccount(const std::string& source) {
  return absl::StrCat("fund.", source);
}

JournalRecord FromJournalRow(const SqlRow& r) {
  JournalRecord e;
  e.id = r.Int(0);
  e.at_ms = r.Int(1);
  e.kind = static_cast<pb::EntryKind>(r.Int(2));
  e.debit_account = r.Str(3);
  e.credit_account = r.Str(4);
  e.amount_fen = r.Int(5);
  e.region_code = r.Str(6);
  e.programme_code = r.Str(7);
  e.term = r.Str(8);
  e.member_id = r.Str(9);
  e.payment_id = r.Int(10);
  e.reverses_id = r.Int(11);
  e.prev_hash = r.Str(12);
  e.hash = r.Str(13);
  return e;
}

void ToProto(const JournalRecord& e, pb::JournalEntry* out) {
  out->set_entry_id(e.id);
  out->set_at(absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ",
                               absl::FromUnixMillis(e.at_ms),
                               absl::UTCTimeZone()));
  out->set_kind(e.kind);
  out->set_debit_account(e.debit_account);
  out->set_credit_account(e.credit_account);
  out->set_amount_fen(e.amount_fen);
  out->set_region_code(e.region_code);
  out->set_programme_code(e.programme_code);
  if (auto term = ParseTermKey(e.term)) *out->mutable_term() = *term;
  out->set_member_id(e.member_id);
  out->set_payment_id(e.payment_id);
  out->set_reverses_entry_id(e.reverses_id);
  out->set_prev_hash(e.prev_hash);
  out->set_hash(e.hash);
}

std::string CanonicalJournalEntry(const JournalRecord& e) {
  std::string out;
  WriteCanonical(e, &out);
  return out;
}

std::string JournalEntryHash(const JournalRecord& e) {
  std::string hex;
  EntryHasher::ForThisThread().Hash(e, &hex);
  return hex;
}

namespace {

std::vector<JournalRecord> FromJournalRows(const std::vector<SqlRow>& rows) {
  std::vector<JournalRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back(FromJournalRow(r));
  return out;
}

}  // namespace

absl::StatusOr<std::vector<JournalRecord>> ListJournalRecords(
    SqlConnection& c, const std::string& region_prefix, int64_t payment_id,
    const std::string& school_code, int64_t after, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kJournalColumns,
                           " FROM journal WHERE id > ? AND region_code LIKE ? "
                           "AND (? = 0 OR payment_id = ?) AND (? = '' OR "
                           "payment_id IN (SELECT id FROM payments WHERE "
                           "school_code = ?)) ORDER BY id LIMIT ?"),
              {after, region_prefix + "%", payment_id, payment_id, school_code,
               school_code, limit}));
  return FromJournalRows(rows);
}

absl::StatusOr<std::vector<JournalRecord>> JournalOfPayment(
    SqlConnection& c, int64_t payment_id, bool originals_only) {
  if (originals_only) {
    ASSIGN_OR_RETURN(
        auto rows,
        c.Query(absl::StrCat("SELECT ", kJournalColumns,
                             " FROM journal WHERE payment_id = ? AND kind <> "
                             "? ORDER BY id"),
                {payment_id, int64_t{pb::ENTRY_KIND_REVERSAL}}));
    return FromJournalRows(rows);
  }
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kJournalColumns,
                           " FROM journal WHERE payment_id = ? ORDER BY id"),
              {payment_id}));
  return FromJournalRows(rows);
}

absl::StatusOr<std::string> JournalHashAt(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT hash FROM journal WHERE id = ?", {id}));
  if (rows.empty()) return std::string();
  return rows[0].Str(0);
}

absl::StatusOr<std::vector<AccountSum>> JournalSumsBySide(
    SqlConnection& c, const std::string& region_prefix, bool debit) {
  const char* column = debit ? "debit_account" : "credit_account";
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT region_code, ", column,
                           ", SUM(amount_fen) FROM journal WHERE region_code "
                           "LIKE ? GROUP BY region_code, ",
                           column),
              {region_prefix + "%"}));
  std::vector<AccountSum> out;
  out.reserve(rows.size());
  for (const SqlRow& r : rows) out.push_back({r.Str(0), r.Str(1), r.Int(2)});
  return out;
}

absl::StatusOr<int64_t> JournalPaidOut(SqlConnection& c,
                                       const std::string& term,
                                       const std::string& region_prefix) {
  const std::string like = region_prefix + "%";
  ASSIGN_OR_RETURN(
      auto out,
      c.Query("SELECT COALESCE(SUM(amount_fen), 0) FROM journal WHERE term = "
              "? AND region_code LIKE ? AND credit_account = ?",
              {term, like, std::string(kBankPaidOut)}));
  ASSIGN_OR_RETURN(
      auto back,
      c.Query("SELECT COALESCE(SUM(amount_fen), 0) FROM journal WHERE term = "
              "? AND region_code LIKE ? AND debit_account = ?",
              {term, like, std::string(kBankPaidOut)}));
  return out[0].Int(0) - back[0].Int(0);
}

absl::Status LockJournalHead(SqlConnection& conn) {
  // SQLite: the transaction holds the database's only write lock already
  // (BEGIN IMMEDIATE); a no-op update would only dirty a page.
  if (conn.dialect() == SqlDialect::kSqlite) return absl::OkStatus();
  return conn.Execute("UPDATE journal_head SET last_id = last_id WHERE id = 1")
      .status();
}

absl::StatusOr<JournalAppender> JournalAppender::Open(SqlConnection& conn) {
  RETURN_IF_ERROR(LockJournalHead(conn));
  ASSIGN_OR_RETURN(pb::JournalAnchor head, ReadJournalHead(conn));
  JournalAppender a(&conn);
  a.last_id_ = head.entries();
  a.last_hash_ = head.head_hash();
  return a;
}

void JournalAppender::Append(JournalRecord* e) {
  e->id = ++last_id_;
  e->prev_hash = last_hash_;
  EntryHasher::ForThisThread().Hash(*e, &e->hash);
  last_hash_ = e->hash;
  pending_.push_back(*e);
}

void JournalAppender::Append(JournalRecord&& e) {
  e.id = ++last_id_;
  e.prev_hash = std::move(last_hash_);
  EntryHasher::ForThisThread().Hash(e, &e.hash);
  last_hash_ = e.hash;
  pending_.push_back(std::move(e));
}

absl::Status JournalAppender::InsertRows(size_t begin, size_t count) {
  // The statement texts of 1..kRowsPerInsert rows, built once.
  static const std::vector<std::string>* const kInserts = [] {
    auto* sql = new std::vector<std::string>(kRowsPerInsert + 1);
    for (size_t n = 1; n <= kRowsPerInsert; ++n) (*sql)[n] = InsertSql(n);
    return sql;
  }();
  // The entries are written once: their strings move into the parameters.
  params_.clear();
  params_.reserve(count * kJournalColumnCount);
  for (size_t i = begin; i < begin + count; ++i) {
    JournalRecord& e = pending_[i];
    params_.emplace_back(e.id);
    params_.emplace_back(e.at_ms);
    params_.emplace_back(int64_t{e.kind});
    params_.emplace_back(std::move(e.debit_account));
    params_.emplace_back(std::move(e.credit_account));
    params_.emplace_back(e.amount_fen);
    params_.emplace_back(std::move(e.region_code));
    params_.emplace_back(std::move(e.programme_code));
    params_.emplace_back(std::move(e.term));
    params_.emplace_back(std::move(e.member_id));
    params_.emplace_back(e.payment_id);
    params_.emplace_back(e.reverses_id);
    params_.emplace_back(std::move(e.prev_hash));
    params_.emplace_back(std::move(e.hash));
  }
  return conn_->Execute((*kInserts)[count], params_).status();
}

absl::Status JournalAppender::Flush() {
  if (pending_.empty()) return absl::OkStatus();
  size_t i = 0;
  for (; i + kRowsPerInsert <= pending_.size(); i += kRowsPerInsert) {
    if (absl::Status s = InsertRows(i, kRowsPerInsert); !s.ok()) return s;
  }
  if (i < pending_.size()) {
    if (absl::Status s = InsertRows(i, pending_.size() - i); !s.ok()) return s;
  }
  pending_.clear();
  return conn_
      ->Execute(
          "UPDATE journal_head SET last_id = ?, last_hash = ? WHERE id = 1",
          {last_id_, last_hash_})
      .status();
}

absl::StatusOr<pb::JournalAnchor> ReadJournalHead(SqlConnection& conn) {
  ASSIGN_OR_RETURN(
      auto rows,
      conn.Query("SELECT last_id, last_hash FROM journal_head WHERE id = 1"));
  if (rows.empty()) return absl::InternalError("journal_head row is missing");
  pb::JournalAnchor head;
  head.set_entries(rows[0].Int(0));
  head.set_head_hash(rows[0].Str(1));
  return head;
}

std::string JournalGuardsSql(SqlDialect dialect) {
  // The head may stay (the lock statement rewrites it unchanged) or move
  // forward to an entry that exists with that hash, the first new entry
  // linking to the old head.
  constexpr char kHeadMoves[] =
      "NEW.id = OLD.id AND ((NEW.last_id = OLD.last_id AND NEW.last_hash = "
      "OLD.last_hash) OR (NEW.last_id > OLD.last_id AND EXISTS (SELECT 1 "
      "FROM journal j WHERE j.id = NEW.last_id AND j.hash = NEW.last_hash) "
      "AND EXISTS (SELECT 1 FROM journal j WHERE j.id = OLD.last_id + 1 AND "
      "j.prev_hash = OLD.last_hash)))";
  if (dialect == SqlDialect::kSqlite) {
    return absl::StrCat(
        "CREATE TRIGGER IF NOT EXISTS journal_no_update BEFORE UPDATE ON "
        "journal BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
        "CREATE TRIGGER IF NOT EXISTS journal_no_delete BEFORE DELETE ON "
        "journal BEGIN SELECT RAISE(ABORT, 'journal is append-only'); END;"
        // INSERT OR REPLACE (and REPLACE INTO) deletes the row it replaces
        // without firing DELETE triggers (recursive_triggers is off): an
        // insert must come after the head and over no entry.
        "CREATE TRIGGER IF NOT EXISTS journal_append_after_head BEFORE INSERT "
        "ON journal WHEN NEW.id <= (SELECT last_id FROM journal_head WHERE "
        "id = 1) OR EXISTS (SELECT 1 FROM journal j WHERE j.id = NEW.id) "
        "BEGIN SELECT RAISE(ABORT, 'journal is append-only: an entry is "
        "added after the head only'); END;"
        "CREATE TRIGGER IF NOT EXISTS journal_head_no_insert BEFORE INSERT ON "
        "journal_head WHEN EXISTS (SELECT 1 FROM journal_head) BEGIN SELECT "
        "RAISE(ABORT, 'journal_head is kept by the ledger'); END;"
        "CREATE TRIGGER IF NOT EXISTS journal_head_no_delete BEFORE DELETE ON "
        "journal_head BEGIN SELECT RAISE(ABORT, 'journal_head is kept by the "
        "ledger'); END;"
        "CREATE TRIGGER IF NOT EXISTS journal_head_forward BEFORE UPDATE ON "
        "journal_head WHEN NOT (",
        kHeadMoves,
        ") BEGIN SELECT RAISE(ABORT, 'journal_head only moves forward along "
        "the chain'); END;");
  }
  // PostgreSQL has no REPLACE; ON CONFLICT DO UPDATE fires the UPDATE
  // trigger. TRUNCATE fires no row trigger: statement triggers refuse it.
  return absl::StrCat(
      "CREATE OR REPLACE FUNCTION ledger_journal_append_only() RETURNS "
      "trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'journal is "
      "append-only'; END $$;"
      "CREATE OR REPLACE TRIGGER journal_append_only BEFORE UPDATE OR "
      "DELETE ON journal FOR EACH ROW EXECUTE FUNCTION "
      "ledger_journal_append_only();"
      "CREATE OR REPLACE TRIGGER journal_no_truncate BEFORE TRUNCATE ON "
      "journal FOR EACH STATEMENT EXECUTE FUNCTION "
      "ledger_journal_append_only();"
      "CREATE OR REPLACE FUNCTION ledger_journal_head_forward() RETURNS "
      "trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'UPDATE' AND (",
      kHeadMoves,
      ") THEN RETURN NEW; END IF; RAISE EXCEPTION 'journal_head only moves "
      "forward along the chain'; END $$;"
      "CREATE OR REPLACE TRIGGER journal_head_forward BEFORE INSERT OR "
      "UPDATE OR DELETE ON journal_head FOR EACH ROW EXECUTE FUNCTION "
      "ledger_journal_head_forward();"
      "CREATE OR REPLACE TRIGGER journal_head_no_truncate BEFORE TRUNCATE ON "
      "journal_head FOR EACH STATEMENT EXECUTE FUNCTION "
      "ledger_journal_append_only();");
}

namespace {

// A broken link: the first entry id it concerns and what is wrong.
struct Break {
  int64_t id = 0;
  std::string problem;
};

// What is wrong with entry `e` where entry `expected` linking to `running`
// should be, if anything.
std::optional<Break> CheckEntry(const JournalRecord& e, int64_t expected,
                                const std::string& running,
                                const std::vector<pb::JournalAnchor>& anchors) {
  if (e.id != expected) {
    return Break{expected, absl::StrCat("entry ", expected, " is missing")};
  }
  if (e.prev_hash != running) {
    return Break{e.id, "prev_hash does not link to the previous entry's hash"};
  }
  if (JournalEntryHash(e) != e.hash) {
    return Break{e.id, "hash does not match the entry's content"};
  }
  if (e.amount_fen <= 0 || e.debit_account == e.credit_account) {
    return Break{e.id, "entry is not a valid double entry"};
  }
  for (const auto& a : anchors) {
    if (a.entries() == e.id && !absl::StartsWith(e.hash, a.head_hash())) {
      return Break{e.id, absl::StrCat("entry ", e.id,
                                      " differs from the anchor (", a.source(),
                                      "): the journal was rewritten after it")};
    }
  }
  return std::nullopt;
}

// Walks entries 1..head_id in pages; the first break, if any. `*last_hash`
// is the hash of the last entry checked.
absl::StatusOr<std::optional<Break>> WalkChain(
    SqlConnection& c, int64_t head_id,
    const std::vector<pb::JournalAnchor>& anchors,
    pb::VerifyJournalResponse& resp, std::string* last_hash) {
  int64_t expected = 1;
  std::string running = kGenesisHash;
  while (expected <= head_id) {
    ASSIGN_OR_RETURN(
        auto rows,
        c.Query(absl::StrCat("SELECT ", kJournalColumns,
                             " FROM journal WHERE id >= ? AND id <= ? ORDER "
                             "BY id LIMIT ?"),
                {expected, head_id, int64_t{kVerifyPage}}));
    if (rows.empty()) {
      return Break{expected,
                   absl::StrCat("entry ", expected,
                                " is missing (the head says ", head_id, ")")};
    }
    for (const SqlRow& row : rows) {
      const JournalRecord e = FromJournalRow(row);
      if (auto b = CheckEntry(e, expected, running, anchors)) return b;
      running = e.hash;
      resp.set_entries_checked(resp.entries_checked() + 1);
      ++expected;
    }
  }
  *last_hash = std::move(running);
  return std::nullopt;
}

// The checks after the walk: the head matches the last entry, no anchor
// lies beyond it, and nothing but a fresh append lies after it.
absl::StatusOr<std::optional<Break>> CheckChainEnd(
    SqlConnection& c, int64_t head_id, const std::string& head_hash,
    const std::string& last_hash,
    const std::vector<pb::JournalAnchor>& anchors) {
  if (last_hash != head_hash) {
    return Break{head_id, "journal_head does not match the last entry"};
  }
  for (const auto& a : anchors) {
    if (a.entries() > head_id) {
      return Break{head_id + 1,
                   absl::StrCat("the journal ends at entry ", head_id,
                                " but an anchor (", a.source(), ") recorded ",
                                a.entries(), " entries: entries vanished")};
    }
  }
  ASSIGN_OR_RETURN(
      auto beyond,
      c.Query("SELECT id FROM journal WHERE id > ? ORDER BY id LIMIT 1",
              {head_id}));
  // Either an append committed after the head was read (then its id is
  // head + 1 and a new verification passes) or a row outside the chain.
  if (!beyond.empty() && beyond[0].Int(0) != head_id + 1) {
    return Break{beyond[0].Int(0),
                 "entry lies outside the chain (after the head)"};
  }
  return std::nullopt;
}

absl::Status VerifyChainIn(SqlConnection& c,
                           const std::vector<pb::JournalAnchor>& anchors,
                           pb::VerifyJournalResponse& resp) {
  ASSIGN_OR_RETURN(
      auto head,
      c.Query("SELECT last_id, last_hash FROM journal_head WHERE id = 1"));
  if (head.empty()) return absl::InternalError("journal_head row is missing");
  const int64_t head_id = head[0].Int(0);
  const std::string head_hash = head[0].Str(1);
  resp.set_head_entry_id(head_id);
  resp.set_head_hash(head_hash);
  std::string last_hash;
  ASSIGN_OR_RETURN(std::optional<Break> b,
                   WalkChain(c, head_id, anchors, resp, &last_hash));
  if (!b) {
    ASSIGN_OR_RETURN(b,
                     CheckChainEnd(c, head_id, head_hash, last_hash, anchors));
  }
  if (b) {
    resp.set_ok(false);
    resp.set_first_broken_entry_id(b->id);
    resp.set_problem(std::move(b->problem));
    return absl::OkStatus();
  }
  resp.set_ok(true);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<pb::VerifyJournalResponse> VerifyJournalChain(
    Database& db, const std::vector<pb::JournalAnchor>& anchors) {
  pb::VerifyJournalResponse resp;
  for (const auto& a : anchors) *resp.add_anchors_checked() = a;
  RETURN_IF_ERROR(db.Read([&](SqlConnection& c) -> absl::Status {
    return VerifyChainIn(c, anchors, resp);
  }));
  return resp;
}

}  // namespace eduaid::ledger
