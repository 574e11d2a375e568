#include "services/common/sql.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <limits>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/string_view.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/common/postgres_backend.h"
#include "services/common/sqlite_backend.h"

namespace eduaid {
namespace {

// Cells outside the row read as NULL (the accessors are lenient).
const SqlValue& NullCell() {
  static const SqlValue* const kNull = new SqlValue();
  return *kNull;
}

int64_t DoubleToInt(double d) {
  if (std::isnan(d)) return 0;
  if (d <= static_cast<double>(std::numeric_limits<int64_t>::min())) {
    return std::numeric_limits<int64_t>::min();
  }
  if (d >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
    return std::numeric_limits<int64_t>::max();
  }
  return static_cast<int64_t>(d);
}

bool IsIdentChar(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') ||
         (u >= '0' && u <= '9') || u == '_' || u >= 0x80;
}

bool IsTagStart(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || u == '_' ||
         u >= 0x80;
}

// If sql[i] == '$' opens a dollar-quoted string ($$ or $tag$), returns the
// length of the opening tag; otherwise 0.
size_t DollarTagLength(std::string_view sql, size_t i) {
  if (i > 0 && (IsIdentChar(sql[i - 1]) || sql[i - 1] == '$')) return 0;
  size_t j = i + 1;
  if (j < sql.size() && IsTagStart(sql[j])) {
    while (j < sql.size() && IsIdentChar(sql[j])) ++j;
  }
  if (j < sql.size() && sql[j] == '$') return j - i + 1;
  return 0;
}

// Fixed key for pg_advisory_xact_lock() around migrations ("eduaidmg").
constexpr char kMigrationLockSql[] =
    "SELECT pg_advisory_xact_lock(7306093556742253927)";
constexpr char kAppliedSql[] = "SELECT version FROM schema_migrations";

}  // namespace

bool SqlRow::IsNull(size_t i) const {
  return i >= cells_.size() ||
         std::holds_alternative<std::monostate>(cells_[i]);
}

int64_t SqlRow::Int(size_t i) const {
  const SqlValue& v = i < cells_.size() ? cells_[i] : NullCell();
  if (const auto* p = std::get_if<int64_t>(&v)) return *p;
  if (const auto* p = std::get_if<double>(&v)) return DoubleToInt(*p);
  if (const auto* p = std::get_if<std::string>(&v)) {
    int64_t n = 0;
    if (absl::SimpleAtoi(*p, &n)) return n;
    double d = 0;
    if (absl::SimpleAtod(*p, &d)) return DoubleToInt(d);
  }
  return 0;
}

double SqlRow::Double(size_t i) const {
  const SqlValue& v = i < cells_.size() ? cells_[i] : NullCell();
  if (const auto* p = std::get_if<double>(&v)) return *p;
  if (const auto* p = std::get_if<int64_t>(&v)) return static_cast<double>(*p);
  if (const auto* p = std::get_if<std::string>(&v)) {
    double d = 0;
    if (absl::SimpleAtod(*p, &d)) return d;
  }
  return 0;
}

std::string SqlRow::Str(size_t i) const {
  const SqlValue& v = i < cells_.size() ? cells_[i] : NullCell();
  if (const auto* p = std::get_if<std::string>(&v)) return *p;
  if (const auto* p = std::get_if<int64_t>(&v)) return absl::StrCat(*p);
  if (const auto* p = std::get_if<double>(&v)) {
    // Shortest text that reads back as the same double.
    char buf[32];
    auto res = std::to_chars(buf, buf + sizeof buf, *p);
    return std::string(buf, res.ptr);
  }
  return std::string();
}

std::string ExpandMigrationTokens(std::string_view sql, SqlDialect dialect) {
  if (dialect == SqlDialect::kSqlite) {
    return absl::StrReplaceAll(
        absl::string_view(sql.data(), sql.size()),
        {{"{ID}", "INTEGER PRIMARY KEY AUTOINCREMENT"},
         {"{KEY}", "INTEGER PRIMARY KEY"},
         {"{BLOB}", "BLOB"},
         {"{NOW}", "CAST(strftime('%s','now') AS INTEGER)"}});
  }
  return absl::StrReplaceAll(
      absl::string_view(sql.data(), sql.size()),
      {{"{ID}", "BIGSERIAL PRIMARY KEY"},
       {"{KEY}", "BIGINT PRIMARY KEY"},
       {"{BLOB}", "BYTEA"},
       {"{NOW}", "CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)"}});
}

std::string RewritePlaceholdersForPostgres(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 16);
  int n = 0;
  const size_t len = sql.size();
  size_t i = 0;
  while (i < len) {
    const char c = sql[i];
    size_t end = i + 1;  // one past the token copied unchanged
    if (c == '?') {
      out.push_back('$');
      absl::StrAppend(&out, ++n);
      ++i;
      continue;
    } else if (c == '\'') {
      // 'it''s'; E'it\'s' also honours backslash escapes.
      const bool backslash = i > 0 &&
                             (sql[i - 1] == 'E' || sql[i - 1] == 'e') &&
                             (i < 2 || !IsIdentChar(sql[i - 2]));
      while (end < len) {
        if (backslash && sql[end] == '\\') {
          end += 2;
        } else if (sql[end] == '\'') {
          ++end;
          if (end < len && sql[end] == '\'') {
            ++end;
          } else {
            break;
          }
        } else {
          ++end;
        }
      }
    } else if (c == '"') {
      while (end < len) {
        if (sql[end] == '"') {
          ++end;
          if (end < len && sql[end] == '"') {
            ++end;
          } else {
            break;
          }
        } else {
          ++end;
        }
      }
    } else if (c == '-' && i + 1 < len && sql[i + 1] == '-') {
      while (end < len && sql[end] != '\n') ++end;
    } else if (c == '/' && i + 1 < len && sql[i + 1] == '*') {
      // Block comments nest in PostgreSQL.
      int depth = 1;
      end = i + 2;
      while (end < len && depth > 0) {
        if (sql[end] == '/' && end + 1 < len && sql[end + 1] == '*') {
          ++depth;
          end += 2;
        } else if (sql[end] == '*' && end + 1 < len && sql[end + 1] == '/') {
          --depth;
          end += 2;
        } else {
          ++end;
        }
      }
    } else if (c == '$') {
      const size_t tag_len = DollarTagLength(sql, i);
      if (tag_len > 0) {
        const std::string_view tag = sql.substr(i, tag_len);
        const size_t close = sql.find(tag, i + tag_len);
        end = close == std::string_view::npos ? len : close + tag_len;
      }
    }
    end = std::min(end, len);
    out.append(sql.data() + i, end - i);
    i = end;
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& url, const DatabaseOptions& options) {
  if (options.pool_size < 1) {
    return absl::InvalidArgumentError("DatabaseOptions.pool_size must be >= 1");
  }
  if (options.busy_timeout_ms < 0) {
    return absl::InvalidArgumentError(
        "DatabaseOptions.busy_timeout_ms must be >= 0");
  }
  constexpr absl::string_view kSqlite = "sqlite://";
  if (absl::StartsWith(url, kSqlite)) {
    std::string path = url.substr(kSqlite.size());
    if (path.empty() || path == ":memory:") {
      return absl::InvalidArgumentError(
          "sqlite:// URL needs a file path (sqlite:///abs/file.db or "
          "sqlite://relative/file.db)");
    }
    return sql_internal::OpenSqlite(path, options);
  }
  if (absl::StartsWith(url, "postgres://") ||
      absl::StartsWith(url, "postgresql://")) {
    return sql_internal::OpenPostgres(url, options);
  }
  // The URL itself may hold a password: never echo it.
  return absl::InvalidArgumentError(
      "unsupported database URL; want sqlite://, postgres:// or "
      "postgresql://");
}

namespace sql_internal {

DbMetrics DbMetrics::Create(const DatabaseOptions& options) {
  DbMetrics m;
  if (options.metrics == nullptr) return m;
  auto& family = prometheus::BuildHistogram()
                     .Name("eduaid_db_query_seconds")
                     .Help("Latency of database statements and commits.")
                     .Register(*options.metrics);
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
      0.025,  0.05,    0.1,    0.25,  0.5,    1.0};
  m.query =
      &family.Add({{"service", options.service}, {"op", "query"}}, buckets);
  m.execute =
      &family.Add({{"service", options.service}, {"op", "execute"}}, buckets);
  m.commit =
      &family.Add({{"service", options.service}, {"op", "commit"}}, buckets);
  return m;
}

absl::Status ApplyMigrations(Database& db,
                             const std::vector<Migration>& migrations) {
  std::vector<const Migration*> sorted;
  sorted.reserve(migrations.size());
  for (const Migration& m : migrations) sorted.push_back(&m);
  std::sort(sorted.begin(), sorted.end(),
            [](const Migration* a, const Migration* b) {
              return a->version < b->version;
            });
  if (!sorted.empty() && sorted.front()->version <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "migration versions must be positive, got ", sorted.front()->version));
  }
  for (size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i]->version == sorted[i - 1]->version) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate migration version ", sorted[i]->version));
    }
  }

  const SqlDialect dialect = db.dialect();
  // On PostgreSQL concurrent migrators queue on an advisory lock held until
  // their transaction ends; on SQLite BEGIN IMMEDIATE already serialises.
  auto lock = [dialect](SqlConnection& conn) -> absl::Status {
    if (dialect != SqlDialect::kPostgres) return absl::OkStatus();
    return conn.Query(kMigrationLockSql).status();
  };
  // Versions are applied by presence, not by "above the highest applied":
  // a database may hold migrations of more than one list (the audit table's
  // 1000 next to a service's 1..n), and a service's later version 4 must
  // still run on a database that already has 1000.
  auto applied = [](SqlConnection& conn) -> absl::StatusOr<std::set<int64_t>> {
    absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(kAppliedSql);
    if (!rows.ok()) return rows.status();
    std::set<int64_t> out;
    for (const SqlRow& r : *rows) out.insert(r.Int(0));
    return out;
  };

  absl::Status status = db.Transact([&](SqlConnection& conn) -> absl::Status {
    if (absl::Status s = lock(conn); !s.ok()) return s;
    return conn.ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        "version BIGINT PRIMARY KEY, description TEXT, applied_at BIGINT)");
  });
  if (!status.ok()) return status;

  std::set<int64_t> done;
  status = db.Read([&](SqlConnection& conn) -> absl::Status {
    absl::StatusOr<std::set<int64_t>> v = applied(conn);
    if (!v.ok()) return v.status();
    done = std::move(*v);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;

  for (const Migration* m : sorted) {
    if (done.count(m->version)) continue;
    status = db.Transact([&](SqlConnection& conn) -> absl::Status {
      if (absl::Status s = lock(conn); !s.ok()) return s;
      // Another process may have got here first.
      absl::StatusOr<std::set<int64_t>> v = applied(conn);
      if (!v.ok()) return v.status();
      if (v->count(m->version)) return absl::OkStatus();
      absl::Status s = conn.ExecScript(ExpandMigrationTokens(m->sql, dialect));
      if (!s.ok()) {
        return absl::Status(s.code(),
                            absl::StrCat("migration ", m->version, " (",
                                         m->description, "): ", s.message()));
      }
      const SqlValue params[] = {int64_t{m->version}, m->description,
                                 static_cast<int64_t>(std::time(nullptr))};
      return conn
          .Execute(
              "INSERT INTO schema_migrations (version, description, "
              "applied_at) VALUES (?, ?, ?)",
              params)
          .status();
    });
    if (!status.ok()) return status;
    done.insert(m->version);
  }
  return absl::OkStatus();
}

}  // namespace sql_internal
}  // namespace eduaid
