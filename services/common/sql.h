// The storage layer: one small SQL interface with two real backends, chosen
// by URL at start-up.
//
//   sqlite:///abs/path/file.db   embedded default (WAL, synchronous=NORMAL)
//   sqlite://relative/file.db    relative to the working directory
//   postgres://user@host:port/db  production (libpq); postgresql:// also works
//
// SQL is written once with `?` placeholders; the PostgreSQL backend rewrites
// them to $1..$n. Statements are prepared once per connection and cached by
// their text. Use only SQL both engines understand (INSERT .. ON CONFLICT,
// RETURNING, CTEs); migrations may use the tokens listed at Migration.
#ifndef EDUAID_COMMON_SQL_H_
#define EDUAID_COMMON_SQL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace prometheus {
class Registry;
}

namespace eduaid {

// A bound parameter or a result cell. Text and blobs are std::string.
using SqlValue = std::variant<std::monostate, int64_t, double, std::string>;

inline SqlValue SqlNull() { return SqlValue{}; }

// One result row. Accessors are lenient: Int() of a text cell parses it,
// Str() of an integer formats it, NULL reads as 0 / "".
class SqlRow {
 public:
  explicit SqlRow(std::vector<SqlValue> cells) : cells_(std::move(cells)) {}
  size_t size() const { return cells_.size(); }
  bool IsNull(size_t i) const;
  int64_t Int(size_t i) const;
  double Double(size_t i) const;
  std::string Str(size_t i) const;
  const SqlValue& at(size_t i) const { return cells_.at(i); }

 private:
  std::vector<SqlValue> cells_;
};

enum class SqlDialect { kSqlite, kPostgres };

// One connection. Not thread-safe: the Database hands it to one caller at a
// time inside Transact()/Read().
class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual SqlDialect dialect() const = 0;

  // Runs one or more statements without parameters (DDL, pragmas).
  virtual absl::Status ExecScript(std::string_view sql) = 0;

  // Runs one prepared statement and returns every row.
  // Errors: UNAVAILABLE when the server cannot be reached or the database is
  // busy beyond its timeout (a retry may succeed); ALREADY_EXISTS on a unique
  // constraint violation; INTERNAL for anything else (bad SQL).
  virtual absl::StatusOr<std::vector<SqlRow>> Query(
      std::string_view sql, absl::Span<const SqlValue> params = {}) = 0;

  // Runs one prepared statement and returns the number of rows it changed.
  virtual absl::StatusOr<int64_t> Execute(
      std::string_view sql, absl::Span<const SqlValue> params = {}) = 0;
};

// A schema migration. `sql` may use these tokens, replaced per dialect:
//   {ID}      INTEGER PRIMARY KEY AUTOINCREMENT | BIGSERIAL PRIMARY KEY
//   {KEY}     INTEGER PRIMARY KEY | BIGINT PRIMARY KEY (a 64-bit key the
//             application assigns; on SQLite the row id itself, so the
//             table needs no separate unique index)
//   {BLOB}    BLOB | BYTEA
//   {NOW}     the current unix time in seconds as an expression
struct Migration {
  int version;
  std::string description;
  std::string sql;
};

struct DatabaseOptions {
  // Connections kept open. SQLite uses one writer plus this many readers;
  // PostgreSQL uses a pool of this size for both.
  int pool_size = 4;
  // SQLite synchronous mode: "NORMAL" (default, durable at checkpoint) or
  // "FULL" (every commit fsynced).
  std::string sqlite_synchronous = "NORMAL";
  // SQLite page cache limits in MiB: the writer's and each reader's.
  // Pages are allocated when used, and kept up to the limit.
  int sqlite_writer_cache_mib = 16;
  int sqlite_reader_cache_mib = 32;
  // Milliseconds a caller waits for a busy database / a free connection.
  int busy_timeout_ms = 5000;
  // Name used in metric labels ("registry", ...). May be empty.
  std::string service;
  // Optional; when set the database exports eduaid_db_query_seconds.
  prometheus::Registry* metrics = nullptr;
};

// A pool of connections to one database. Thread-safe.
class Database {
 public:
  virtual ~Database() = default;

  // Opens the database named by `url` (see the file comment).
  // Errors: INVALID_ARGUMENT for a malformed or unknown URL scheme;
  // UNAVAILABLE when the server cannot be reached.
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const std::string& url, const DatabaseOptions& options = {});

  virtual SqlDialect dialect() const = 0;

  // Applies, in version order and each in its own transaction, every
  // migration newer than the schema's recorded version (table
  // schema_migrations). Safe to call from several processes at once.
  virtual absl::Status Migrate(const std::vector<Migration>& migrations) = 0;

  // Runs `fn` inside a read-write transaction. Commits when fn returns OK,
  // rolls back otherwise and returns fn's status unchanged. On SQLite writes
  // are serialised (BEGIN IMMEDIATE); on PostgreSQL the isolation level is
  // READ COMMITTED unless `serializable` is set, in which case serialization
  // failures are retried up to 3 times.
  virtual absl::Status Transact(
      const std::function<absl::Status(SqlConnection&)>& fn,
      bool serializable = false) = 0;

  // Runs `fn` on a connection for reads, without an explicit transaction.
  // Concurrent readers run in parallel on both backends.
  virtual absl::Status Read(
      const std::function<absl::Status(SqlConnection&)>& fn) = 0;
};

// Replaces the migration tokens for `dialect` (exposed for tests).
std::string ExpandMigrationTokens(std::string_view sql, SqlDialect dialect);

// Rewrites `?` placeholders outside quotes to $1..$n (exposed for tests).
std::string RewritePlaceholdersForPostgres(std::string_view sql);

}  // namespace eduaid

#endif  // EDUAID_COMMON_SQL_H_
