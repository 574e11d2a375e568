// Internal to the eduaid_sql library; services use services/common/sql.h.
//
// Declares the SQLite backend factory and the few pieces both backends share
// (metrics and the migration runner, defined in sql.cc). The PostgreSQL
// backend includes this header for the shared pieces.
#ifndef EDUAID_COMMON_SQLITE_BACKEND_H_
#define EDUAID_COMMON_SQLITE_BACKEND_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prometheus/histogram.h"
#include "services/common/sql.h"

namespace eduaid::sql_internal {

// The eduaid_db_query_seconds histograms of one Database, resolved once at
// open time. Every pointer is null when DatabaseOptions::metrics is null.
struct DbMetrics {
  prometheus::Histogram* query = nullptr;
  prometheus::Histogram* execute = nullptr;
  prometheus::Histogram* commit = nullptr;

  // Registers (or reuses) the family in options.metrics and resolves the
  // three {service, op} children.
  static DbMetrics Create(const DatabaseOptions& options);
};

// Observes the seconds between construction and destruction into `h`; does
// nothing (not even read the clock) when `h` is null.
class ScopedDbTimer {
 public:
  explicit ScopedDbTimer(prometheus::Histogram* h) : h_(h) {
    if (h_ != nullptr) start_ = std::chrono::steady_clock::now();
  }
  ~ScopedDbTimer() {
    if (h_ != nullptr) {
      h_->Observe(std::chrono::duration<double>(
                      std::chrono::steady_clock::now() - start_)
                      .count());
    }
  }
  ScopedDbTimer(const ScopedDbTimer&) = delete;
  ScopedDbTimer& operator=(const ScopedDbTimer&) = delete;

 private:
  prometheus::Histogram* h_;
  std::chrono::steady_clock::time_point start_;
};

// The shared implementation of Database::Migrate (see sql.h): creates
// schema_migrations, then applies each pending migration in its own
// db.Transact(), re-checking the recorded version inside the transaction (on
// PostgreSQL under a transaction-scoped advisory lock).
// Errors: INVALID_ARGUMENT for duplicate or non-positive versions; a failing
// migration's status (same code) with its version prefixed to the message.
absl::Status ApplyMigrations(Database& db,
                             const std::vector<Migration>& migrations);

// Opens (creating it and its parent directory if missing) the SQLite file at
// `path`: one writer connection plus options.pool_size readers, WAL mode.
// Errors: INVALID_ARGUMENT for a bad option; UNAVAILABLE when the file cannot
// be opened.
absl::StatusOr<std::unique_ptr<Database>> OpenSqlite(
    const std::string& path, const DatabaseOptions& options);

}  // namespace eduaid::sql_internal

#endif  // EDUAID_COMMON_SQLITE_BACKEND_H_
