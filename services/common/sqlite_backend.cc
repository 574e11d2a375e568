// SQLite backend: one writer connection serialised by a mutex (every write
// transaction is BEGIN IMMEDIATE) and a pool of reader connections that run
// in parallel with it thanks to WAL.
#include "services/common/sqlite_backend.h"

#include <sqlite3.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"

namespace eduaid::sql_internal {
namespace {

// Statements cached per connection; beyond this (dynamically built SQL) a
// statement is prepared for one use and finalized.
constexpr size_t kMaxCachedStatements = 512;

// Maps a SQLite result code (extended codes are enabled) to a status. The
// message comes from sqlite3_errmsg, which never contains bound values.
absl::Status SqliteError(sqlite3* db, int rc) {
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
    return absl::AlreadyExistsError(absl::StrCat("sqlite: ", msg));
  }
  const int primary = rc & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return absl::UnavailableError(absl::StrCat("sqlite: ", msg));
  }
  return absl::InternalError(absl::StrCat("sqlite: ", msg, " (code ", rc, ")"));
}

// A statement borrowed from (or, past the cache limit, owned by) a
// connection; reset with its bindings cleared when the lease ends.
class StatementLease {
 public:
  StatementLease(sqlite3_stmt* stmt, bool owned) : stmt_(stmt), owned_(owned) {}
  ~StatementLease() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    if (owned_) sqlite3_finalize(stmt_);
  }
  StatementLease(const StatementLease&) = delete;
  StatementLease& operator=(const StatementLease&) = delete;
  sqlite3_stmt* get() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
  bool owned_;
};

class SqliteConnection final : public SqlConnection {
 public:
  // Opens `path`. A writer creates the file and switches it to WAL; a reader
  // is read-only (PRAGMA query_only) so that writes outside Transact() fail
  // loudly instead of racing the writer for the lock.
  static absl::StatusOr<std::unique_ptr<SqliteConnection>> Open(
      const std::string& path, const DatabaseOptions& options,
      const std::string& synchronous, bool writer, const DbMetrics* metrics) {
    sqlite3* db = nullptr;
    const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
                      (writer ? SQLITE_OPEN_CREATE : 0);
    int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
    if (rc != SQLITE_OK) {
      absl::Status status = absl::UnavailableError(absl::StrCat(
          "sqlite: cannot open ", path, ": ",
          db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
      sqlite3_close_v2(db);
      return status;
    }
    auto conn =
        std::unique_ptr<SqliteConnection>(new SqliteConnection(db, metrics));
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, options.busy_timeout_ms);
    if (writer) {
      absl::StatusOr<std::vector<SqlRow>> mode =
          conn->QueryUntimed("PRAGMA journal_mode=WAL");
      if (!mode.ok()) return mode.status();
      if (mode->empty() ||
          absl::AsciiStrToLower(mode->front().Str(0)) != "wal") {
        return absl::UnavailableError(
            absl::StrCat("sqlite: cannot enable WAL on ", path));
      }
    }
    // Page cache: the writer's grows to 16 MiB by default (an import's
    // index pages stay within one county's part of the index, so more did
    // not help), readers' to 32 MiB each, plus memory-mapped reads. Pages
    // are allocated only when used, so an idle service stays small.
    const int64_t cache_kib =
        int64_t{writer ? options.sqlite_writer_cache_mib
                       : options.sqlite_reader_cache_mib} *
        1024;
    std::string pragmas = absl::StrCat(
        "PRAGMA synchronous=", synchronous,
        "; PRAGMA foreign_keys=ON; PRAGMA temp_store=MEMORY;",
        " PRAGMA cache_size=-", cache_kib, ";",
        writer ? " PRAGMA wal_autocheckpoint=8192;"
               : " PRAGMA mmap_size=268435456; PRAGMA query_only=ON;");
    if (absl::Status s = conn->ExecScript(pragmas); !s.ok()) return s;
    return conn;
  }

  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  absl::Status ExecScript(std::string_view sql) override {
    const std::string text(sql);  // sqlite3_exec wants a C string
    const int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteError(db_, rc);
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<SqlRow>> Query(
      std::string_view sql, absl::Span<const SqlValue> params) override {
    ScopedDbTimer timer(metrics_->query);
    return QueryUntimed(sql, params);
  }

  absl::StatusOr<int64_t> Execute(std::string_view sql,
                                  absl::Span<const SqlValue> params) override {
    ScopedDbTimer timer(metrics_->execute);
    return ExecuteUntimed(sql, params);
  }

  // Transaction control for SqliteDatabase.
  absl::Status Begin() {
    return ExecuteUntimed("BEGIN IMMEDIATE", {}).status();
  }
  absl::Status Commit() {
    ScopedDbTimer timer(metrics_->commit);
    return ExecuteUntimed("COMMIT", {}).status();
  }
  // Rolls back if a transaction is open (a failed statement may already have
  // rolled it back).
  void RollbackIfOpen() {
    if (!sqlite3_get_autocommit(db_)) {
      (void)ExecuteUntimed("ROLLBACK", {});
    }
  }

 private:
  SqliteConnection(sqlite3* db, const DbMetrics* metrics)
      : db_(db), metrics_(metrics) {}

  // Returns the cached statement for `sql`, preparing it on first use.
  absl::StatusOr<sqlite3_stmt*> Prepare(std::string_view sql, bool* owned) {
    *owned = false;
    if (auto it = cache_.find(absl::string_view(sql.data(), sql.size()));
        it != cache_.end()) {
      return it->second;
    }
    const bool cache = cache_.size() < kMaxCachedStatements;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc =
        sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                           cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) return SqliteError(db_, rc);
    if (stmt == nullptr) return absl::InternalError("sqlite: empty statement");
    for (const char* p = tail; p < sql.data() + sql.size(); ++p) {
      if (*p != ' ' && *p != '\n' && *p != '\t' && *p != '\r' && *p != ';') {
        sqlite3_finalize(stmt);
        return absl::InternalError(
            "sqlite: Query/Execute take one statement; use ExecScript");
      }
    }
    if (cache) {
      cache_.try_emplace(std::string(sql), stmt);
    } else {
      *owned = true;
    }
    return stmt;
  }

  absl::Status Bind(sqlite3_stmt* stmt, absl::Span<const SqlValue> params) {
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (expected != static_cast<int>(params.size())) {
      return absl::InternalError(absl::StrCat("sqlite: statement takes ",
                                              expected, " parameters, got ",
                                              params.size()));
    }
    for (size_t i = 0; i < params.size(); ++i) {
      const int index = static_cast<int>(i) + 1;
      const SqlValue& v = params[i];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, index, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, index, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // The value outlives the statement's use: the lease clears bindings.
        rc = sqlite3_bind_text64(stmt, index, s->data(), s->size(),
                                 SQLITE_STATIC, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt, index);
      }
      if (rc != SQLITE_OK) return SqliteError(db_, rc);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<SqlRow>> QueryUntimed(
      std::string_view sql, absl::Span<const SqlValue> params = {}) {
    bool owned = false;
    absl::StatusOr<sqlite3_stmt*> prepared = Prepare(sql, &owned);
    if (!prepared.ok()) return prepared.status();
    StatementLease stmt(*prepared, owned);
    if (absl::Status s = Bind(stmt.get(), params); !s.ok()) return s;
    std::vector<SqlRow> rows;
    const int ncols = sqlite3_column_count(stmt.get());
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
      std::vector<SqlValue> cells;
      cells.reserve(ncols);
      for (int c = 0; c < ncols; ++c) {
        switch (sqlite3_column_type(stmt.get(), c)) {
          case SQLITE_INTEGER:
            cells.emplace_back(
                static_cast<int64_t>(sqlite3_column_int64(stmt.get(), c)));
            break;
          case SQLITE_FLOAT:
            cells.emplace_back(sqlite3_column_double(stmt.get(), c));
            break;
          case SQLITE_TEXT: {
            const auto* text = reinterpret_cast<const char*>(
                sqlite3_column_text(stmt.get(), c));
            const int len = sqlite3_column_bytes(stmt.get(), c);
            cells.emplace_back(std::in_place_type<std::string>, text,
                               static_cast<size_t>(len));
            break;
          }
          case SQLITE_BLOB: {
            const auto* blob =
                static_cast<const char*>(sqlite3_column_blob(stmt.get(), c));
            const int len = sqlite3_column_bytes(stmt.get(), c);
            if (blob == nullptr) {
              cells.emplace_back(std::in_place_type<std::string>);
            } else {
              cells.emplace_back(std::in_place_type<std::string>, blob,
                                 static_cast<size_t>(len));
            }
            break;
          }
          default:
            cells.emplace_back();
        }
      }
      rows.emplace_back(std::move(cells));
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc);
    return rows;
  }

  absl::StatusOr<int64_t> ExecuteUntimed(std::string_view sql,
                                         absl::Span<const SqlValue> params) {
    bool owned = false;
    absl::StatusOr<sqlite3_stmt*> prepared = Prepare(sql, &owned);
    if (!prepared.ok()) return prepared.status();
    StatementLease stmt(*prepared, owned);
    if (absl::Status s = Bind(stmt.get(), params); !s.ok()) return s;
    const sqlite3_int64 before = sqlite3_total_changes64(db_);
    int rc;
    while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) return SqliteError(db_, rc);
    // sqlite3_changes64() keeps the last DML count across DDL; only trust it
    // when this statement changed something.
    if (sqlite3_total_changes64(db_) == before) return 0;
    return static_cast<int64_t>(sqlite3_changes64(db_));
  }

  sqlite3* const db_;
  const DbMetrics* const metrics_;
  absl::flat_hash_map<std::string, sqlite3_stmt*> cache_;
};

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::unique_ptr<DbMetrics> metrics,
                 std::unique_ptr<SqliteConnection> writer,
                 std::vector<std::unique_ptr<SqliteConnection>> readers,
                 int busy_timeout_ms)
      : metrics_(std::move(metrics)),
        writer_(std::move(writer)),
        readers_(std::move(readers)),
        busy_timeout_(absl::Milliseconds(busy_timeout_ms)) {
    absl::MutexLock lock(&pool_mu_);
    for (auto& r : readers_) free_readers_.push_back(r.get());
  }

  SqlDialect dialect() const override { return SqlDialect::kSqlite; }

  absl::Status Migrate(const std::vector<Migration>& migrations) override {
    return ApplyMigrations(*this, migrations);
  }

  absl::Status Transact(const std::function<absl::Status(SqlConnection&)>& fn,
                        bool serializable) override {
    // SQLite transactions are always serializable.
    absl::MutexLock lock(&writer_mu_);
    if (absl::Status s = writer_->Begin(); !s.ok()) {
      writer_->RollbackIfOpen();
      return s;
    }
    absl::Status status = fn(*writer_);
    if (status.ok()) status = writer_->Commit();
    if (!status.ok()) writer_->RollbackIfOpen();
    return status;
  }

  absl::Status Read(
      const std::function<absl::Status(SqlConnection&)>& fn) override {
    SqliteConnection* conn = nullptr;
    {
      absl::MutexLock lock(&pool_mu_);
      if (!pool_mu_.AwaitWithTimeout(
              absl::Condition(this, &SqliteDatabase::HasFreeReader),
              busy_timeout_)) {
        return absl::UnavailableError(
            "sqlite: no free reader connection within the busy timeout");
      }
      conn = free_readers_.back();
      free_readers_.pop_back();
    }
    absl::Status status = fn(*conn);
    conn->RollbackIfOpen();  // in case fn left a transaction open
    absl::MutexLock lock(&pool_mu_);
    free_readers_.push_back(conn);
    return status;
  }

 private:
  bool HasFreeReader() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(pool_mu_) {
    return !free_readers_.empty();
  }

  // Declared first so that it outlives the connections pointing at it.
  const std::unique_ptr<DbMetrics> metrics_;
  absl::Mutex writer_mu_;
  const std::unique_ptr<SqliteConnection> writer_
      ABSL_PT_GUARDED_BY(writer_mu_);
  // Owns the readers; free_readers_ lends them out.
  const std::vector<std::unique_ptr<SqliteConnection>> readers_;
  const absl::Duration busy_timeout_;
  absl::Mutex pool_mu_;
  std::vector<SqliteConnection*> free_readers_ ABSL_GUARDED_BY(pool_mu_);
};

}  // namespace

absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(
    const std::string& path, const DatabaseOptions& options) {
  std::string synchronous = absl::AsciiStrToUpper(options.sqlite_synchronous);
  if (synchronous != "OFF" && synchronous != "NORMAL" &&
      synchronous != "FULL" && synchronous != "EXTRA") {
    return absl::InvalidArgumentError(
        "DatabaseOptions.sqlite_synchronous must be OFF, NORMAL, FULL or "
        "EXTRA");
  }
  const std::filesystem::path parent =
      std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("sqlite: cannot create directory ", parent.string(),
                       ": ", ec.message()));
    }
  }
  auto metrics = std::make_unique<DbMetrics>(DbMetrics::Create(options));
  absl::StatusOr<std::unique_ptr<SqliteConnection>> writer =
      SqliteConnection::Open(path, options, synchronous, /*writer=*/true,
                             metrics.get());
  if (!writer.ok()) return writer.status();
  std::vector<std::unique_ptr<SqliteConnection>> readers;
  readers.reserve(options.pool_size);
  for (int i = 0; i < options.pool_size; ++i) {
    absl::StatusOr<std::unique_ptr<SqliteConnection>> reader =
        SqliteConnection::Open(path, options, synchronous, /*writer=*/false,
                               metrics.get());
    if (!reader.ok()) return reader.status();
    readers.push_back(*std::move(reader));
  }
  return std::make_unique<SqliteDatabase>(
      std::move(metrics), *std::move(writer), std::move(readers),
      options.busy_timeout_ms);
}

}  // namespace eduaid::sql_internal
