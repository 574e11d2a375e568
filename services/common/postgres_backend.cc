// PostgreSQL backend (libpq): a lazily filled pool of connections, each with
// its own cache of named prepared statements. A connection that loses the
// server is dropped and reconnected the next time the pool hands it out, so
// a database restart costs callers UNAVAILABLE errors only while it is down.
#include "services/common/postgres_backend.h"

#include <libpq-fe.h>
#include <poll.h>

#include <array>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "services/common/sqlite_backend.h"  // DbMetrics, ApplyMigrations

namespace eduaid::sql_internal {
namespace {

// Type OIDs from catalog/pg_type.h (a server header, not shipped by libpq).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// Statements cached per connection; beyond this (dynamically built SQL) the
// unnamed statement is used.
constexpr size_t kMaxCachedStatements = 512;
// Serialization failures retried by Transact(serializable=true).
constexpr int kSerializationRetries = 3;

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

void IgnoreNotice(void*, const char*) {}

// First line of a libpq message, without the trailing newline.
std::string FirstLine(const char* msg) {
  if (msg == nullptr) return std::string();
  std::string_view s(msg);
  s = s.substr(0, s.find('\n'));
  return std::string(s);
}

// SQLSTATEs after which the connection is gone (or going).
bool IsConnectionLoss(std::string_view sqlstate) {
  return sqlstate == "08000" || sqlstate == "08003" || sqlstate == "08006" ||
         sqlstate == "08001" || sqlstate == "08004" || sqlstate == "57P01" ||
         sqlstate == "57P02" || sqlstate == "57P03";
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes the text form of a bytea cell.
std::string DecodeBytea(const char* text, int len) {
  if (len >= 2 && text[0] == '\\' && text[1] == 'x') {
    std::string out;
    out.resize(static_cast<size_t>(len - 2) / 2);
    for (size_t i = 0; i < out.size(); ++i) {
      out[i] = static_cast<char>(HexDigit(text[2 + 2 * i]) * 16 +
                                 HexDigit(text[3 + 2 * i]));
    }
    return out;
  }
  size_t n = 0;  // old "escape" output format
  unsigned char* raw =
      PQunescapeBytea(reinterpret_cast<const unsigned char*>(text), &n);
  if (raw == nullptr) return std::string(text, len);
  std::string out(reinterpret_cast<const char*>(raw), n);
  PQfreemem(raw);
  return out;
}

SqlValue DecodeCell(const PGresult* res, int row, int col, Oid type) {
  if (PQgetisnull(res, row, col)) return SqlValue();
  const char* text = PQgetvalue(res, row, col);
  const int len = PQgetlength(res, row, col);
  switch (type) {
    case kInt8Oid:
    case kInt4Oid:
    case kInt2Oid: {
      int64_t n = 0;
      std::from_chars(text, text + len, n);
      return n;
    }
    case kBoolOid:
      return int64_t{text[0] == 't' ? 1 : 0};
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid: {
      double d = 0;
      std::from_chars(text, text + len, d);
      return d;
    }
    case kByteaOid:
      return DecodeBytea(text, len);
    default:
      return std::string(text, len);
  }
}

class PgConnection final : public SqlConnection {
 public:
  PgConnection(const std::string* url, const DbMetrics* metrics)
      : url_(url), metrics_(metrics) {}
  ~PgConnection() override { Drop(); }
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  // Makes the connection usable: (re)connects when it never connected, was
  // dropped after an error, or the server closed it while it sat idle.
  // Errors: UNAVAILABLE when the server cannot be reached.
  absl::Status EnsureConnected() {
    if (conn_ != nullptr && !ClosedWhileIdle()) return absl::OkStatus();
    Drop();
    conn_ = PQconnectdb(url_->c_str());
    if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
      absl::Status status = absl::UnavailableError(absl::StrCat(
          "postgres: cannot connect: ", conn_ != nullptr
                                            ? FirstLine(PQerrorMessage(conn_))
                                            : "out of memory"));
      Drop();
      return status;
    }
    PQsetNoticeProcessor(conn_, &IgnoreNotice, nullptr);
    if (PQsetClientEncoding(conn_, "UTF8") != 0) {
      Drop();
      return absl::UnavailableError("postgres: cannot set client encoding");
    }
    return absl::OkStatus();
  }

  bool connected() const { return conn_ != nullptr; }

  PGTransactionStatusType transaction_status() const {
    return conn_ == nullptr ? PQTRANS_UNKNOWN : PQtransactionStatus(conn_);
  }

  // SQLSTATE of the last failed statement since ClearLastError(), or "".
  std::string_view last_sqlstate() const { return last_sqlstate_; }
  void ClearLastError() { last_sqlstate_[0] = '\0'; }

  // Runs a parameterless command (BEGIN, COMMIT, ROLLBACK) untimed.
  absl::Status Command(const char* sql) {
    if (conn_ == nullptr) return NotConnected();
    PgResult res(PQexec(conn_, sql));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      return ResultError(res.get());
    }
    return absl::OkStatus();
  }

  absl::Status Commit() {
    ScopedDbTimer timer(metrics_->commit);
    return Command("COMMIT");
  }

  // Rolls back an open or failed transaction; drops the connection when
  // that is impossible, so the pool never hands out a dirty one.
  void RollbackIfOpen() {
    switch (transaction_status()) {
      case PQTRANS_IDLE:
      case PQTRANS_UNKNOWN:  // already dropped
        return;
      case PQTRANS_INTRANS:
      case PQTRANS_INERROR:
        if (Command("ROLLBACK").ok()) return;
        break;
      case PQTRANS_ACTIVE:
        break;
    }
    Drop();
  }

  absl::Status ExecScript(std::string_view sql) override {
    if (conn_ == nullptr) return NotConnected();
    const std::string text(sql);  // PQexec wants a C string
    PgResult res(PQexec(conn_, text.c_str()));
    const ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
      return ResultError(res.get());
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<SqlRow>> Query(
      std::string_view sql, absl::Span<const SqlValue> params) override {
    ScopedDbTimer timer(metrics_->query);
    absl::StatusOr<PgResult> res = Run(sql, params);
    if (!res.ok()) return res.status();
    const PGresult* r = res->get();
    const int nrows = PQntuples(r);
    const int ncols = PQnfields(r);
    // Column types, looked up once per result; small results use the stack.
    std::array<Oid, 32> small_types;
    std::vector<Oid> big_types;
    Oid* types = small_types.data();
    if (ncols > static_cast<int>(small_types.size())) {
      big_types.resize(ncols);
      types = big_types.data();
    }
    for (int c = 0; c < ncols; ++c) types[c] = PQftype(r, c);
    std::vector<SqlRow> rows;
    rows.reserve(nrows);
    for (int i = 0; i < nrows; ++i) {
      std::vector<SqlValue> cells;
      cells.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        cells.push_back(DecodeCell(r, i, c, types[c]));
      }
      rows.emplace_back(std::move(cells));
    }
    return rows;
  }

  absl::StatusOr<int64_t> Execute(std::string_view sql,
                                  absl::Span<const SqlValue> params) override {
    ScopedDbTimer timer(metrics_->execute);
    absl::StatusOr<PgResult> res = Run(sql, params);
    if (!res.ok()) return res.status();
    const char* tuples = PQcmdTuples(res->get());
    int64_t n = 0;
    std::from_chars(tuples, tuples + std::strlen(tuples), n);
    return n;
  }

 private:
  struct Prepared {
    std::string name;              // "" for the unnamed statement
    std::vector<Oid> param_types;  // as inferred by the server
  };

  static absl::Status NotConnected() {
    return absl::UnavailableError(
        "postgres: connection lost earlier in this call");
  }

  void Drop() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
    cache_.clear();
  }

  // True when the server closed (or sent an error on) the idle connection,
  // e.g. after a restart. Costs one poll() when nothing arrived.
  bool ClosedWhileIdle() {
    if (PQstatus(conn_) != CONNECTION_OK) return true;
    const int fd = PQsocket(conn_);
    if (fd < 0) return true;
    // An idle connection receives nothing but the occasional notice; read
    // whatever arrived (an admin-shutdown error is followed by EOF).
    for (int i = 0; i < 8; ++i) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, 0) <= 0) break;
      if (!PQconsumeInput(conn_)) return true;
      if (PQstatus(conn_) != CONNECTION_OK) return true;
    }
    while (PGnotify* n = PQnotifies(conn_)) PQfreemem(n);
    return PQstatus(conn_) != CONNECTION_OK;
  }

  // Turns a failed result into a status; drops the connection when it is
  // gone. Only the server's primary message is used: DETAIL lines can quote
  // row values (personal data).
  absl::Status ResultError(const PGresult* res) {
    const char* state =
        res != nullptr ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    std::strncpy(last_sqlstate_, state != nullptr ? state : "",
                 sizeof last_sqlstate_ - 1);
    last_sqlstate_[sizeof last_sqlstate_ - 1] = '\0';
    const std::string_view sqlstate(last_sqlstate_);
    if (res == nullptr || PQstatus(conn_) != CONNECTION_OK ||
        IsConnectionLoss(sqlstate)) {
      std::string msg = FirstLine(
          res != nullptr ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
                         : nullptr);
      if (msg.empty()) msg = FirstLine(PQerrorMessage(conn_));
      Drop();
      return absl::UnavailableError(
          absl::StrCat("postgres: connection lost: ", msg));
    }
    const char* primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    std::string msg = primary != nullptr ? std::string(primary)
                                         : FirstLine(PQresultErrorMessage(res));
    if (sqlstate == "23505") {
      return absl::AlreadyExistsError(absl::StrCat("postgres: ", msg));
    }
    return absl::InternalError(
        absl::StrCat("postgres: ", msg, " (SQLSTATE ", last_sqlstate_, ")"));
  }

  // Prepares `sql` (with ? rewritten to $n) as `name` and records the
  // parameter types the server inferred.
  absl::Status PrepareAs(std::string_view sql, Prepared& p) {
    const std::string text = RewritePlaceholdersForPostgres(sql);
    PgResult res(PQprepare(conn_, p.name.c_str(), text.c_str(), 0, nullptr));
    if (PQresultStatus(res.get()) != PGRES_COMMAND_OK) {
      return ResultError(res.get());
    }
    PgResult desc(PQdescribePrepared(conn_, p.name.c_str()));
    if (PQresultStatus(desc.get()) != PGRES_COMMAND_OK) {
      return ResultError(desc.get());
    }
    const int n = PQnparams(desc.get());
    p.param_types.resize(n);
    for (int i = 0; i < n; ++i) p.param_types[i] = PQparamtype(desc.get(), i);
    return absl::OkStatus();
  }

  // Runs `sql` as a prepared statement and returns its successful result.
  absl::StatusOr<PgResult> Run(std::string_view sql,
                               absl::Span<const SqlValue> params) {
    if (conn_ == nullptr) return NotConnected();
    const Prepared* p = nullptr;
    Prepared unnamed;
    if (auto it = cache_.find(absl::string_view(sql.data(), sql.size()));
        it != cache_.end()) {
      p = &it->second;
    } else if (cache_.size() < kMaxCachedStatements) {
      Prepared fresh;
      fresh.name = absl::StrCat("s", next_statement_++);
      if (absl::Status s = PrepareAs(sql, fresh); !s.ok()) return s;
      p = &cache_.try_emplace(std::string(sql), std::move(fresh)).first->second;
    } else {
      if (absl::Status s = PrepareAs(sql, unnamed); !s.ok()) return s;
      p = &unnamed;
    }

    const int n = static_cast<int>(params.size());
    if (n != static_cast<int>(p->param_types.size())) {
      return absl::InternalError(absl::StrCat("postgres: statement takes ",
                                              p->param_types.size(),
                                              " parameters, got ", n));
    }
    values_.resize(n);
    lengths_.resize(n);
    formats_.resize(n);
    numbers_.resize(n);
    for (int i = 0; i < n; ++i) {
      const SqlValue& v = params[i];
      lengths_[i] = 0;
      formats_[i] = 0;
      if (const auto* num = std::get_if<int64_t>(&v)) {
        char* buf = numbers_[i].data();
        *std::to_chars(buf, buf + numbers_[i].size() - 1, *num).ptr = '\0';
        values_[i] = buf;
      } else if (const auto* d = std::get_if<double>(&v)) {
        char* buf = numbers_[i].data();
        *std::to_chars(buf, buf + numbers_[i].size() - 1, *d,
                       std::chars_format::general, 17)
             .ptr = '\0';
        values_[i] = buf;
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        values_[i] = s->c_str();
        if (p->param_types[i] == kByteaOid) {
          formats_[i] = 1;  // raw bytes, may contain NUL
          lengths_[i] = static_cast<int>(s->size());
        } else if (std::memchr(s->data(), '\0', s->size()) != nullptr) {
          return absl::InternalError(absl::StrCat("postgres: parameter ", i + 1,
                                                  " contains a NUL byte"));
        }
      } else {
        values_[i] = nullptr;  // NULL
      }
    }
    PgResult res(PQexecPrepared(conn_, p->name.c_str(), n, values_.data(),
                                lengths_.data(), formats_.data(),
                                /*resultFormat=*/0));
    const ExecStatusType st = PQresultStatus(res.get());
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      return ResultError(res.get());
    }
    return res;
  }

  const std::string* const url_;
  const DbMetrics* const metrics_;
  PGconn* conn_ = nullptr;
  absl::flat_hash_map<std::string, Prepared> cache_;
  uint64_t next_statement_ = 0;
  char last_sqlstate_[6] = {};
  // Scratch reused by Run() for the parameter arrays.
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
  std::vector<std::array<char, 32>> numbers_;
};

class PgDatabase final : public Database {
 public:
  PgDatabase(std::string url, const DatabaseOptions& options)
      : url_(std::move(url)),
        metrics_(DbMetrics::Create(options)),
        pool_size_(static_cast<size_t>(options.pool_size)),
        wait_timeout_(absl::Milliseconds(options.busy_timeout_ms)) {}

  SqlDialect dialect() const override { return SqlDialect::kPostgres; }

  absl::Status Migrate(const std::vector<Migration>& migrations) override {
    return ApplyMigrations(*this, migrations);
  }

  // Takes a connected connection from the pool (see Acquire()).
  absl::Status Check() {
    absl::StatusOr<PgConnection*> conn = Acquire();
    if (!conn.ok()) return conn.status();
    Release(*conn);
    return absl::OkStatus();
  }

  absl::Status Transact(const std::function<absl::Status(SqlConnection&)>& fn,
                        bool serializable) override {
    absl::StatusOr<PgConnection*> acquired = Acquire();
    if (!acquired.ok()) return acquired.status();
    PgConnection* conn = *acquired;
    const char* begin =
        serializable ? "BEGIN ISOLATION LEVEL SERIALIZABLE" : "BEGIN";
    const int attempts = serializable ? 1 + kSerializationRetries : 1;
    absl::Status status;
    for (int attempt = 1; attempt <= attempts; ++attempt) {
      conn->ClearLastError();
      status = conn->Command(begin);
      if (absl::IsUnavailable(status) && conn->EnsureConnected().ok()) {
        // Lost between the pool's check and BEGIN; nothing ran yet.
        status = conn->Command(begin);
      }
      if (!status.ok()) break;
      status = fn(*conn);
      if (status.ok()) {
        if (conn->transaction_status() == PQTRANS_INERROR) {
          // fn swallowed a failed statement: COMMIT would silently roll back.
          status = absl::InternalError(
              "postgres: transaction aborted by an earlier failed statement");
        } else {
          status = conn->Commit();
        }
      }
      if (status.ok()) break;
      conn->RollbackIfOpen();
      const std::string_view sqlstate = conn->last_sqlstate();
      if (sqlstate != "40001" && sqlstate != "40P01") break;
    }
    Release(conn);
    return status;
  }

  absl::Status Read(
      const std::function<absl::Status(SqlConnection&)>& fn) override {
    absl::StatusOr<PgConnection*> conn = Acquire();
    if (!conn.ok()) return conn.status();
    absl::Status status = fn(**conn);
    Release(*conn);
    return status;
  }

 private:
  bool CanAcquire() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !free_.empty() || all_.size() < pool_size_;
  }

  // Waits up to busy_timeout_ms for a free (or not yet created) connection
  // and makes sure it is connected.
  absl::StatusOr<PgConnection*> Acquire() {
    PgConnection* conn = nullptr;
    {
      absl::MutexLock lock(&mu_);
      if (!mu_.AwaitWithTimeout(absl::Condition(this, &PgDatabase::CanAcquire),
                                wait_timeout_)) {
        return absl::UnavailableError(
            "postgres: no free connection within the busy timeout");
      }
      if (!free_.empty()) {
        conn = free_.back();
        free_.pop_back();
      } else {
        all_.push_back(std::make_unique<PgConnection>(&url_, &metrics_));
        conn = all_.back().get();
      }
    }
    // Connecting happens outside the lock: it may take a while.
    if (absl::Status s = conn->EnsureConnected(); !s.ok()) {
      Release(conn);
      return s;
    }
    return conn;
  }

  void Release(PgConnection* conn) {
    conn->RollbackIfOpen();  // e.g. fn ran BEGIN inside Read()
    absl::MutexLock lock(&mu_);
    free_.push_back(conn);
  }

  const std::string url_;
  const DbMetrics metrics_;
  const size_t pool_size_;
  const absl::Duration wait_timeout_;
  absl::Mutex mu_;
  // Every connection ever created (at most pool_size_); free_ holds those not
  // lent out. Connections are objects first and connect on first use.
  std::vector<std::unique_ptr<PgConnection>> all_ ABSL_GUARDED_BY(mu_);
  std::vector<PgConnection*> free_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(
    const std::string& url, const DatabaseOptions& options) {
  auto db = std::make_unique<PgDatabase>(url, options);
  if (absl::Status s = db->Check(); !s.ok()) return s;
  return db;
}

}  // namespace eduaid::sql_internal
