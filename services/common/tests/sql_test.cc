// Tests for the storage layer. Every TEST_P runs on both backends: SQLite
// files in a temporary directory and a real PostgreSQL server started by the
// test harness. The PostgreSQL restart test stops the shared server, so it
// lives in its own suite registered last.
#include "services/common/sql.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <filesystem>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "services/common/testing/harness.h"

namespace eduaid {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

#define EDUAID_EXPECT_OK(expr)                     \
  do {                                             \
    const absl::Status _st = (expr);               \
    EXPECT_TRUE(_st.ok()) << #expr << ": " << _st; \
  } while (0)
#define EDUAID_ASSERT_OK(expr)                     \
  do {                                             \
    const absl::Status _st = (expr);               \
    ASSERT_TRUE(_st.ok()) << #expr << ": " << _st; \
  } while (0)

enum class Backend { kSqlite, kPostgres };

std::string BackendName(const ::testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::kSqlite ? "Sqlite" : "Postgres";
}

const std::vector<Migration>& Schema() {
  static const auto* const kSchema = new std::vector<Migration>{
      {1, "people",
       "CREATE TABLE people (id {ID}, name TEXT NOT NULL UNIQUE, age BIGINT, "
       "score DOUBLE PRECISION, photo {BLOB}, "
       "created_at BIGINT NOT NULL DEFAULT ({NOW}));"
       "CREATE INDEX people_age ON people (age);"},
      {2, "counters and items",
       "CREATE TABLE counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL);"
       "CREATE TABLE items (id BIGINT PRIMARY KEY, writer BIGINT, seq "
       "BIGINT);"},
  };
  return *kSchema;
}

// Runs one query through Read() and returns its rows (empty on error, which
// is reported as a test failure).
std::vector<SqlRow> ReadRows(Database& db, std::string_view sql,
                             std::vector<SqlValue> params = {}) {
  std::vector<SqlRow> out;
  absl::Status st = db.Read([&](SqlConnection& conn) -> absl::Status {
    absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(sql, params);
    if (!rows.ok()) return rows.status();
    out = *std::move(rows);
    return absl::OkStatus();
  });
  EXPECT_TRUE(st.ok()) << sql << ": " << st;
  return out;
}

int64_t Count(Database& db, const std::string& table) {
  std::vector<SqlRow> rows =
      ReadRows(db, absl::StrCat("SELECT COUNT(*) FROM ", table));
  return rows.empty() ? -1 : rows[0].Int(0);
}

absl::Status ExecuteInTx(Database& db, std::string_view sql,
                         std::vector<SqlValue> params = {}) {
  return db.Transact(
      [&](SqlConnection& conn) { return conn.Execute(sql, params).status(); });
}

// Lets `n` threads wait for each other (absl::BlockingCounter allows only
// one waiter).
class Barrier {
 public:
  explicit Barrier(int n) : left_(n) {}
  void ArriveAndWait() {
    absl::MutexLock lock(&mu_);
    --left_;
    mu_.Await(absl::Condition(
        +[](int* left) { return *left <= 0; }, &left_));
  }

 private:
  absl::Mutex mu_;
  int left_ ABSL_GUARDED_BY(mu_);
};

class SqlTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    url_ = NewUrl();
    ASSERT_FALSE(url_.empty());
    db_ = OpenOrDie(url_);
    ASSERT_NE(db_, nullptr);
    EDUAID_ASSERT_OK(db_->Migrate(Schema()));
  }

  bool postgres() const { return GetParam() == Backend::kPostgres; }

  // A fresh database of the backend under test. PostgreSQL must be
  // available: its absence is a failure, not a skip.
  std::string NewUrl() {
    if (GetParam() == Backend::kSqlite) {
      // Nested directories test that Open creates the parent.
      return absl::StrCat("sqlite://", dir_.path(), "/nested/dir/db",
                          next_file_++, ".db");
    }
    testing::TestPostgres* pg = testing::TestPostgres::Get();
    if (pg == nullptr) {
      ADD_FAILURE() << "PostgreSQL is not available (TestPostgres::Get())";
      return "";
    }
    return pg->NewDatabaseUrl();
  }

  std::unique_ptr<Database> OpenOrDie(const std::string& url,
                                      const DatabaseOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(url, options);
    EXPECT_TRUE(db.ok()) << db.status();
    return db.ok() ? *std::move(db) : nullptr;
  }

  testing::TempDir dir_;
  int next_file_ = 0;
  std::string url_;
  std::unique_ptr<Database> db_;
};

TEST_P(SqlTest, DialectMatchesUrl) {
  EXPECT_EQ(db_->dialect(),
            postgres() ? SqlDialect::kPostgres : SqlDialect::kSqlite);
  EDUAID_EXPECT_OK(db_->Read([&](SqlConnection& conn) {
    EXPECT_EQ(conn.dialect(), db_->dialect());
    return absl::OkStatus();
  }));
}

TEST_P(SqlTest, MigrationsApplyOnceAndAreIdempotent) {
  std::vector<SqlRow> rows =
      ReadRows(*db_,
               "SELECT version, description, applied_at FROM schema_migrations "
               "ORDER BY version");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].Int(0), 1);
  EXPECT_EQ(rows[0].Str(1), "people");
  EXPECT_EQ(rows[1].Int(0), 2);
  EXPECT_NEAR(rows[1].Int(2), std::time(nullptr), 60);

  // Version 1 is a plain CREATE TABLE: running it twice would fail.
  EDUAID_EXPECT_OK(db_->Migrate(Schema()));
  EDUAID_EXPECT_OK(db_->Migrate(Schema()));
  EXPECT_EQ(Count(*db_, "schema_migrations"), 2);

  // Reopen and add a migration.
  db_.reset();
  db_ = OpenOrDie(url_);
  ASSERT_NE(db_, nullptr);
  std::vector<Migration> more = Schema();
  more.push_back({3, "nickname", "ALTER TABLE people ADD COLUMN nick TEXT"});
  EDUAID_EXPECT_OK(db_->Migrate(more));
  EDUAID_EXPECT_OK(db_->Migrate(more));
  EDUAID_EXPECT_OK(db_->Migrate(Schema()));
  EXPECT_EQ(Count(*db_, "schema_migrations"), 3);

  // A list of its own with a high version (as the audit table's 1000),
  // then a service's next version below it: that one still runs.
  EDUAID_EXPECT_OK(db_->Migrate(
      {{1000, "other list", "CREATE TABLE other_list (x BIGINT)"}}));
  more.push_back(
      {4, "after 1000", "ALTER TABLE people ADD COLUMN shoe BIGINT"});
  EDUAID_EXPECT_OK(db_->Migrate(more));
  EXPECT_EQ(Count(*db_, "schema_migrations"), 5);
  EDUAID_EXPECT_OK(ExecuteInTx(*db_, "UPDATE people SET shoe = 1", {}));

  // The tokens expanded to something that works: {ID} autoincrements,
  // {NOW} fills the default.
  EDUAID_EXPECT_OK(ExecuteInTx(
      *db_, "INSERT INTO people (name, nick) VALUES (?, ?), (?, ?)",
      {std::string("a"), std::string("x"), std::string("b"), SqlNull()}));
  rows = ReadRows(*db_, "SELECT id, created_at, nick FROM people ORDER BY id");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_GT(rows[0].Int(0), 0);
  EXPECT_GT(rows[1].Int(0), rows[0].Int(0));
  EXPECT_NEAR(rows[0].Int(1), std::time(nullptr), 60);
  EXPECT_EQ(rows[0].Str(2), "x");
  EXPECT_TRUE(rows[1].IsNull(2));
}

TEST_P(SqlTest, FailedMigrationLeavesNothingBehind) {
  std::vector<Migration> bad = Schema();
  bad.push_back({3, "broken",
                 "CREATE TABLE t3 (x BIGINT); INSERT INTO no_such_table "
                 "VALUES (1);"});
  absl::Status st = db_->Migrate(bad);
  EXPECT_FALSE(st.ok());
  EXPECT_THAT(std::string(st.message()), HasSubstr("migration 3"));
  EXPECT_EQ(Count(*db_, "schema_migrations"), 2);
  // t3 was rolled back with the rest of the migration.
  absl::Status probe = db_->Read([](SqlConnection& conn) {
    return conn.Query("SELECT COUNT(*) FROM t3").status();
  });
  EXPECT_FALSE(probe.ok());

  bad.back().sql = "CREATE TABLE t3 (x BIGINT)";
  EDUAID_EXPECT_OK(db_->Migrate(bad));
  EXPECT_EQ(Count(*db_, "t3"), 0);
  EXPECT_EQ(Count(*db_, "schema_migrations"), 3);
}

TEST_P(SqlTest, DuplicateMigrationVersionsAreRejected) {
  std::vector<Migration> dup = Schema();
  dup.push_back({2, "again", "CREATE TABLE t (x BIGINT)"});
  EXPECT_EQ(db_->Migrate(dup).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(db_->Migrate({{0, "zero", "CREATE TABLE t (x BIGINT)"}}).code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(SqlTest, ConcurrentMigratorsApplyEachVersionOnce) {
  const std::string url = NewUrl();
  ASSERT_FALSE(url.empty());
  std::vector<Migration> migrations = Schema();
  migrations.push_back({3, "t3", "CREATE TABLE t3 (x BIGINT)"});
  migrations.push_back({4, "t4", "CREATE TABLE t4 (x BIGINT)"});
  // Separate Database objects stand in for separate processes.
  constexpr int kMigrators = 4;
  std::vector<std::unique_ptr<Database>> dbs;
  for (int i = 0; i < kMigrators; ++i) {
    dbs.push_back(OpenOrDie(url));
    ASSERT_NE(dbs.back(), nullptr);
  }
  std::vector<absl::Status> results(kMigrators);
  std::vector<std::thread> threads;
  for (int i = 0; i < kMigrators; ++i) {
    threads.emplace_back([&, i] { results[i] = dbs[i]->Migrate(migrations); });
  }
  for (auto& t : threads) t.join();
  for (const absl::Status& st : results) EDUAID_EXPECT_OK(st);
  EXPECT_EQ(Count(*dbs[0], "schema_migrations"), 4);
  EXPECT_EQ(Count(*dbs[0], "t4"), 0);
}

TEST_P(SqlTest, TransactCommits) {
  EDUAID_EXPECT_OK(db_->Transact([](SqlConnection& conn) -> absl::Status {
    for (const char* name : {"a", "b", "c"}) {
      const SqlValue params[] = {std::string(name)};
      absl::StatusOr<int64_t> n =
          conn.Execute("INSERT INTO people (name) VALUES (?)", params);
      if (!n.ok()) return n.status();
      EXPECT_EQ(*n, 1);
    }
    // The transaction sees its own writes.
    absl::StatusOr<std::vector<SqlRow>> rows =
        conn.Query("SELECT COUNT(*) FROM people");
    if (!rows.ok()) return rows.status();
    EXPECT_EQ((*rows)[0].Int(0), 3);
    return absl::OkStatus();
  }));
  EXPECT_EQ(Count(*db_, "people"), 3);
}

TEST_P(SqlTest, ErrorFromFnRollsBackAndIsReturnedUnchanged) {
  const absl::Status boom = absl::FailedPreconditionError("boom");
  absl::Status st = db_->Transact([&](SqlConnection& conn) -> absl::Status {
    for (const char* name : {"a", "b"}) {
      const SqlValue params[] = {std::string(name)};
      absl::StatusOr<int64_t> n =
          conn.Execute("INSERT INTO people (name) VALUES (?)", params);
      if (!n.ok()) return n.status();
    }
    return boom;
  });
  EXPECT_EQ(st, boom);
  EXPECT_EQ(Count(*db_, "people"), 0);

  // A failing statement half-way rolls back the earlier ones too.
  st = db_->Transact([](SqlConnection& conn) -> absl::Status {
    const SqlValue params[] = {std::string("a")};
    absl::StatusOr<int64_t> n =
        conn.Execute("INSERT INTO people (name) VALUES (?)", params);
    if (!n.ok()) return n.status();
    return conn.Execute("INSERT INTO nowhere (x) VALUES (1)").status();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
  EXPECT_EQ(Count(*db_, "people"), 0);
}

TEST_P(SqlTest, UniqueViolationIsAlreadyExistsWithoutTheValue) {
  const std::string secret = "secret-河南-4711";
  EDUAID_EXPECT_OK(
      ExecuteInTx(*db_, "INSERT INTO people (name) VALUES (?)", {secret}));
  absl::Status st =
      ExecuteInTx(*db_, "INSERT INTO people (name) VALUES (?)", {secret});
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("4711")));

  // Primary keys too.
  EDUAID_EXPECT_OK(
      ExecuteInTx(*db_, "INSERT INTO items (id) VALUES (?)", {int64_t{4711}}));
  st = ExecuteInTx(*db_, "INSERT INTO items (id) VALUES (?)", {int64_t{4711}});
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EXPECT_THAT(std::string(st.message()), Not(HasSubstr("4711")));
  EXPECT_EQ(Count(*db_, "people"), 1);
}

TEST_P(SqlTest, ReturningWorks) {
  std::vector<int64_t> ids;
  EDUAID_EXPECT_OK(db_->Transact([&](SqlConnection& conn) -> absl::Status {
    for (const char* name : {"a", "b"}) {
      const SqlValue params[] = {std::string(name), int64_t{30}};
      absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(
          "INSERT INTO people (name, age) VALUES (?, ?) RETURNING id, name, "
          "age",
          params);
      if (!rows.ok()) return rows.status();
      EXPECT_EQ(rows->size(), 1u);
      EXPECT_EQ((*rows)[0].Str(1), name);
      EXPECT_EQ((*rows)[0].Int(2), 30);
      ids.push_back((*rows)[0].Int(0));
    }
    return absl::OkStatus();
  }));
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_GT(ids[0], 0);
  EXPECT_GT(ids[1], ids[0]);
}

TEST_P(SqlTest, OnConflictDoUpdateWorks) {
  const char* kUpsert =
      "INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO "
      "UPDATE SET value = counters.value + excluded.value RETURNING value";
  std::vector<int64_t> values;
  for (int i = 0; i < 3; ++i) {
    EDUAID_EXPECT_OK(db_->Transact([&](SqlConnection& conn) -> absl::Status {
      const SqlValue params[] = {std::string("hits"), int64_t{5}};
      absl::StatusOr<std::vector<SqlRow>> rows = conn.Query(kUpsert, params);
      if (!rows.ok()) return rows.status();
      values.push_back((*rows)[0].Int(0));
      return absl::OkStatus();
    }));
  }
  EXPECT_THAT(values, ElementsAre(5, 10, 15));
  EXPECT_EQ(Count(*db_, "counters"), 1);
}

TEST_P(SqlTest, ChineseTextRoundTripsByteExact) {
  const std::vector<std::string> names = {"河南省南阳市内乡县", "王小明",
                                          "Zoë ñ 😀 𠜎", "混合 mixed ?'\" text"};
  for (const std::string& name : names) {
    EDUAID_EXPECT_OK(
        ExecuteInTx(*db_, "INSERT INTO people (name) VALUES (?)", {name}));
  }
  for (const std::string& name : names) {
    std::vector<SqlRow> rows =
        ReadRows(*db_, "SELECT name FROM people WHERE name = ?", {name});
    ASSERT_EQ(rows.size(), 1u) << name;
    EXPECT_EQ(rows[0].Str(0), name);
    EXPECT_EQ(rows[0].Str(0).size(), name.size());
  }
  // Literal text in the SQL itself survives too.
  std::vector<SqlRow> rows = ReadRows(
      *db_, "SELECT name FROM people WHERE name = '河南省南阳市内乡县'");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Str(0), "河南省南阳市内乡县");
}

TEST_P(SqlTest, Int64AndDoubleExtremesRoundTrip) {
  const std::vector<int64_t> ints = {std::numeric_limits<int64_t>::min(),
                                     std::numeric_limits<int64_t>::max(),
                                     0,
                                     -1,
                                     1,
                                     int64_t{1} << 53};
  for (size_t i = 0; i < ints.size(); ++i) {
    EDUAID_EXPECT_OK(ExecuteInTx(*db_,
                                 "INSERT INTO items (id, writer) VALUES (?, ?)",
                                 {ints[i], static_cast<int64_t>(i)}));
  }
  for (size_t i = 0; i < ints.size(); ++i) {
    std::vector<SqlRow> rows =
        ReadRows(*db_, "SELECT id FROM items WHERE writer = ?",
                 {static_cast<int64_t>(i)});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].Int(0), ints[i]);
    EXPECT_TRUE(std::holds_alternative<int64_t>(rows[0].at(0)));
  }

  const std::vector<double> doubles = {0.1, -1e300, 3.141592653589793,
                                       2.2250738585072014e-308, 1.0 / 3};
  for (size_t i = 0; i < doubles.size(); ++i) {
    EDUAID_EXPECT_OK(
        ExecuteInTx(*db_, "INSERT INTO people (name, score) VALUES (?, ?)",
                    {absl::StrCat("d", i), doubles[i]}));
  }
  for (size_t i = 0; i < doubles.size(); ++i) {
    std::vector<SqlRow> rows =
        ReadRows(*db_, "SELECT score FROM people WHERE name = ?",
                 {absl::StrCat("d", i)});
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0].Double(0), doubles[i]);
    EXPECT_TRUE(std::holds_alternative<double>(rows[0].at(0)));
  }
}

TEST_P(SqlTest, NullsRoundTrip) {
  EDUAID_EXPECT_OK(ExecuteInTx(
      *db_, "INSERT INTO people (name, age, score, photo) VALUES (?, ?, ?, ?)",
      {std::string("n"), SqlNull(), SqlNull(), SqlNull()}));
  std::vector<SqlRow> rows =
      ReadRows(*db_, "SELECT age, score, photo, name FROM people");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(rows[0].IsNull(i));
    EXPECT_EQ(rows[0].Int(i), 0);
    EXPECT_EQ(rows[0].Double(i), 0);
    EXPECT_EQ(rows[0].Str(i), "");
  }
  EXPECT_FALSE(rows[0].IsNull(3));
  rows = ReadRows(*db_, "SELECT COUNT(*) FROM people WHERE age IS NULL");
  EXPECT_EQ(rows[0].Int(0), 1);
}

TEST_P(SqlTest, BlobsRoundTripByteExact) {
  std::string blob;
  for (int i = 0; i < 256; ++i) blob.push_back(static_cast<char>(i));
  blob += blob;
  EDUAID_EXPECT_OK(ExecuteInTx(*db_,
                               "INSERT INTO people (name, photo) VALUES (?, ?)",
                               {std::string("p"), blob}));
  std::vector<SqlRow> rows = ReadRows(
      *db_, "SELECT photo FROM people WHERE name = ?", {std::string("p")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Str(0), blob);
}

TEST_P(SqlTest, ExecuteReturnsChangedRows) {
  for (const char* name : {"a", "b", "c"}) {
    EDUAID_EXPECT_OK(ExecuteInTx(*db_,
                                 "INSERT INTO people (name, age) VALUES (?, 1)",
                                 {std::string(name)}));
  }
  int64_t changed = -1;
  EDUAID_EXPECT_OK(db_->Transact([&](SqlConnection& conn) -> absl::Status {
    absl::StatusOr<int64_t> n =
        conn.Execute("UPDATE people SET age = age + 1 WHERE age = ?",
                     {SqlValue(int64_t{1})});
    if (!n.ok()) return n.status();
    changed = *n;
    // DDL and no-op updates report 0, not a stale count.
    absl::StatusOr<int64_t> ddl = conn.Execute("CREATE TABLE z (x BIGINT)");
    if (!ddl.ok()) return ddl.status();
    EXPECT_EQ(*ddl, 0);
    absl::StatusOr<int64_t> none =
        conn.Execute("UPDATE people SET age = 0 WHERE name = 'nobody'");
    if (!none.ok()) return none.status();
    EXPECT_EQ(*none, 0);
    return absl::OkStatus();
  }));
  EXPECT_EQ(changed, 3);
}

TEST_P(SqlTest, QuestionMarksInLiteralsAreNotPlaceholders) {
  std::vector<SqlRow> rows = ReadRows(
      *db_, "SELECT '?' || ? AS x -- trailing ? comment", {std::string("!")});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].Str(0), "?!");
}

TEST_P(SqlTest, ParameterCountMismatchIsAnError) {
  absl::Status st = db_->Read([](SqlConnection& conn) {
    const SqlValue params[] = {int64_t{1}, int64_t{2}};
    return conn.Query("SELECT COUNT(*) FROM people WHERE age = ?", params)
        .status();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
  // The connection is still fine afterwards.
  EXPECT_EQ(Count(*db_, "people"), 0);
}

TEST_P(SqlTest, ConcurrentWritersAllLand) {
  constexpr int kThreads = 8;
  constexpr int kRowsPerThread = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRowsPerThread; ++i) {
        absl::Status st = db_->Transact([&](SqlConnection& conn) {
          const SqlValue params[] = {int64_t{t * 100000 + i}, int64_t{t},
                                     int64_t{i}};
          return conn
              .Execute("INSERT INTO items (id, writer, seq) VALUES (?, ?, ?)",
                       params)
              .status();
        });
        if (!st.ok()) {
          ++failures;
          ADD_FAILURE() << st;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(*db_, "items"), kThreads * kRowsPerThread);
}

TEST_P(SqlTest, ReadersRunWhileAWriteTransactionIsOpen) {
  EDUAID_EXPECT_OK(ExecuteInTx(*db_, "INSERT INTO people (name) VALUES ('a')"));
  EDUAID_EXPECT_OK(db_->Transact([&](SqlConnection& conn) -> absl::Status {
    absl::Status st =
        conn.Execute("INSERT INTO people (name) VALUES ('uncommitted')")
            .status();
    if (!st.ok()) return st;
    // Several readers at once, on other threads, while this transaction
    // holds the write lock; they see only committed data.
    constexpr int kReaders = 3;
    Barrier inside(kReaders);
    std::vector<std::future<int64_t>> readers;
    for (int i = 0; i < kReaders; ++i) {
      readers.push_back(std::async(std::launch::async, [&] {
        int64_t n = -1;
        absl::Status rs = db_->Read([&](SqlConnection& rc) -> absl::Status {
          inside.ArriveAndWait();  // all readers are inside Read() at once
          absl::StatusOr<std::vector<SqlRow>> rows =
              rc.Query("SELECT COUNT(*) FROM people");
          if (!rows.ok()) return rows.status();
          n = (*rows)[0].Int(0);
          return absl::OkStatus();
        });
        EXPECT_TRUE(rs.ok()) << rs;
        return n;
      }));
    }
    for (auto& r : readers) {
      if (r.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
        ADD_FAILURE() << "reader blocked by the open write transaction";
      }
    }
    for (auto& r : readers) EXPECT_EQ(r.get(), 1);
    return absl::OkStatus();
  }));
  EXPECT_EQ(Count(*db_, "people"), 2);
}

TEST_P(SqlTest, WaitingForAConnectionTimesOut) {
  DatabaseOptions options;
  options.pool_size = 1;
  options.busy_timeout_ms = 200;
  std::unique_ptr<Database> db = OpenOrDie(url_, options);
  ASSERT_NE(db, nullptr);
  absl::Notification inside, release;
  std::thread holder([&] {
    EDUAID_EXPECT_OK(db->Read([&](SqlConnection&) {
      inside.Notify();
      release.WaitForNotification();
      return absl::OkStatus();
    }));
  });
  inside.WaitForNotification();
  const absl::Time start = absl::Now();
  absl::Status st = db->Read([](SqlConnection&) { return absl::OkStatus(); });
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));
  release.Notify();
  holder.join();
  EDUAID_EXPECT_OK(db->Read([](SqlConnection&) { return absl::OkStatus(); }));
}

TEST_P(SqlTest, FailedStatementsDoNotPoisonTheConnection) {
  DatabaseOptions options;
  options.pool_size = 1;  // every call below reuses one connection
  std::unique_ptr<Database> db = OpenOrDie(url_, options);
  ASSERT_NE(db, nullptr);

  absl::Status st = db->Transact([](SqlConnection& conn) -> absl::Status {
    absl::Status s =
        conn.Execute("INSERT INTO people (name) VALUES ('x')").status();
    if (!s.ok()) return s;
    return conn.Execute("SELEC nonsense").status();
  });
  EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
  EDUAID_EXPECT_OK(ExecuteInTx(*db, "INSERT INTO people (name) VALUES ('y')"));

  st = db->Read([](SqlConnection& conn) {
    return conn.Query("SELECT * FROM nowhere").status();
  });
  EXPECT_FALSE(st.ok());
  // fn leaving a transaction open inside Read() does not leak either.
  EDUAID_EXPECT_OK(
      db->Read([](SqlConnection& conn) { return conn.ExecScript("BEGIN"); }));
  EXPECT_EQ(Count(*db, "people"), 1);

  // A unique violation in one transaction, then a good one.
  st = ExecuteInTx(*db, "INSERT INTO people (name) VALUES ('y')");
  EXPECT_EQ(st.code(), absl::StatusCode::kAlreadyExists) << st;
  EDUAID_EXPECT_OK(ExecuteInTx(*db, "INSERT INTO people (name) VALUES ('z')"));

  if (postgres()) {
    // fn swallowing a failed statement must not commit a half transaction:
    // PostgreSQL has already aborted it.
    st = db->Transact([](SqlConnection& conn) -> absl::Status {
      (void)conn.Execute("INSERT INTO people (name) VALUES ('w')");
      (void)conn.Execute("INSERT INTO people (name) VALUES ('z')");
      return absl::OkStatus();
    });
    EXPECT_EQ(st.code(), absl::StatusCode::kInternal) << st;
  }
  std::vector<SqlRow> rows =
      ReadRows(*db, "SELECT name FROM people ORDER BY name");
  std::vector<std::string> names;
  for (const SqlRow& r : rows) names.push_back(r.Str(0));
  EXPECT_THAT(names, ElementsAre("y", "z"));
}

TEST_P(SqlTest, SerializableTransactionsRetrySerializationFailures) {
  int attempts = 0;
  EDUAID_EXPECT_OK(db_->Transact(
      [&](SqlConnection& conn) -> absl::Status {
        ++attempts;
        if (postgres() && attempts == 1) {
          absl::Status s = conn.ExecScript(
              "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = "
              "'serialization_failure'; END $$");
          EXPECT_FALSE(s.ok());
          return s;
        }
        return conn.Execute("INSERT INTO people (name) VALUES ('s')").status();
      },
      /*serializable=*/true));
  EXPECT_EQ(attempts, postgres() ? 2 : 1);
  EXPECT_EQ(Count(*db_, "people"), 1);

  if (postgres()) {
    attempts = 0;
    absl::Status st = db_->Transact(
        [&](SqlConnection& conn) {
          ++attempts;
          return conn.ExecScript(
              "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = "
              "'serialization_failure'; END $$");
        },
        /*serializable=*/true);
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(attempts, 4);  // the first try plus three retries
    // Without serializable there is no retry.
    attempts = 0;
    st = db_->Transact([&](SqlConnection& conn) {
      ++attempts;
      return conn.ExecScript(
          "DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = "
          "'serialization_failure'; END $$");
    });
    EXPECT_FALSE(st.ok());
    EXPECT_EQ(attempts, 1);
  }
}

TEST_P(SqlTest, ExportsQueryLatencyMetrics) {
  prometheus::Registry registry;
  DatabaseOptions options;
  options.service = "unit";
  options.metrics = &registry;
  std::unique_ptr<Database> db = OpenOrDie(url_, options);
  ASSERT_NE(db, nullptr);
  // A second Database on the same registry shares the family.
  std::unique_ptr<Database> db2 = OpenOrDie(url_, options);
  ASSERT_NE(db2, nullptr);
  EDUAID_EXPECT_OK(ExecuteInTx(*db, "INSERT INTO people (name) VALUES ('m')"));
  EXPECT_EQ(Count(*db, "people"), 1);

  std::map<std::string, uint64_t> counts;
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != "eduaid_db_query_seconds") continue;
    for (const prometheus::ClientMetric& m : family.metric) {
      std::string op, service;
      for (const prometheus::ClientMetric::Label& l : m.label) {
        if (l.name == "op") op = l.value;
        if (l.name == "service") service = l.value;
      }
      EXPECT_EQ(service, "unit");
      counts[op] += m.histogram.sample_count;
    }
  }
  EXPECT_GE(counts["query"], 1u);
  EXPECT_GE(counts["execute"], 1u);
  EXPECT_GE(counts["commit"], 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, SqlTest,
                         ::testing::Values(Backend::kSqlite,
                                           Backend::kPostgres),
                         BackendName);

// ---------------------------------------------------------------------------
// Backend-independent units.

TEST(RewritePlaceholdersTest, NumbersPlaceholders) {
  EXPECT_EQ(RewritePlaceholdersForPostgres(""), "");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT 1"), "SELECT 1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT ?, ?"), "SELECT $1, $2");
  EXPECT_EQ(RewritePlaceholdersForPostgres("a=?,b=?,c=?,d=?,e=?,f=?,g=?,h=?,"
                                           "i=?,j=?,k=?"),
            "a=$1,b=$2,c=$3,d=$4,e=$5,f=$6,g=$7,h=$8,i=$9,j=$10,k=$11");
  EXPECT_EQ(RewritePlaceholdersForPostgres("WHERE x IN (?,?)"),
            "WHERE x IN ($1,$2)");
}

TEST(RewritePlaceholdersTest, SkipsQuotesAndComments) {
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT '?', ?"), "SELECT '?', $1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT 'it''s ?', ?"),
            "SELECT 'it''s ?', $1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT '', ?"), "SELECT '', $1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT \"we?rd\" FROM t WHERE a=?"),
            "SELECT \"we?rd\" FROM t WHERE a=$1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT \"a\"\"?\" , ?"),
            "SELECT \"a\"\"?\" , $1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT ? -- why?\n, ?"),
            "SELECT $1 -- why?\n, $2");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT ? -- why?"),
            "SELECT $1 -- why?");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT 5-?"), "SELECT 5-$1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT /* ? /* ? */ ? */ ?"),
            "SELECT /* ? /* ? */ ? */ $1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT 4/?"), "SELECT 4/$1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT E'\\'?', ?"),
            "SELECT E'\\'?', $1");
  // Outside E'' a backslash is an ordinary character.
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT '\\', ?"),
            "SELECT '\\', $1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT $$?$$, $t$ ?' $t$, ?"),
            "SELECT $$?$$, $t$ ?' $t$, $1");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT '河南?' || ?"),
            "SELECT '河南?' || $1");
  // Unterminated quotes swallow the rest instead of crashing.
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT '?"), "SELECT '?");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT \"?"), "SELECT \"?");
  EXPECT_EQ(RewritePlaceholdersForPostgres("SELECT /* ?"), "SELECT /* ?");
}

TEST(ExpandMigrationTokensTest, PerDialect) {
  const std::string sql =
      "CREATE TABLE t (id {ID}, b {BLOB}, at BIGINT "
      "DEFAULT ({NOW}))";
  EXPECT_EQ(ExpandMigrationTokens(sql, SqlDialect::kSqlite),
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, b BLOB, at "
            "BIGINT DEFAULT (CAST(strftime('%s','now') AS INTEGER)))");
  EXPECT_EQ(ExpandMigrationTokens(sql, SqlDialect::kPostgres),
            "CREATE TABLE t (id BIGSERIAL PRIMARY KEY, b BYTEA, at BIGINT "
            "DEFAULT (CAST(EXTRACT(EPOCH FROM now()) AS BIGINT)))");
  EXPECT_EQ(ExpandMigrationTokens("SELECT 1", SqlDialect::kPostgres),
            "SELECT 1");
}

TEST(SqlRowTest, AccessorsAreLenient) {
  SqlRow row({SqlValue(int64_t{42}), SqlValue(2.5), SqlValue(std::string("17")),
              SqlValue(), SqlValue(std::string("x")),
              SqlValue(std::string("3.75"))});
  EXPECT_EQ(row.size(), 6u);
  EXPECT_EQ(row.Int(0), 42);
  EXPECT_EQ(row.Str(0), "42");
  EXPECT_EQ(row.Double(0), 42.0);
  EXPECT_EQ(row.Int(1), 2);
  EXPECT_EQ(row.Str(1), "2.5");
  EXPECT_EQ(row.Int(2), 17);
  EXPECT_EQ(row.Double(2), 17.0);
  EXPECT_TRUE(row.IsNull(3));
  EXPECT_FALSE(row.IsNull(0));
  EXPECT_EQ(row.Int(3), 0);
  EXPECT_EQ(row.Str(3), "");
  EXPECT_EQ(row.Int(4), 0);
  EXPECT_EQ(row.Double(5), 3.75);
  EXPECT_EQ(row.Int(5), 3);
  // Past the end reads as NULL.
  EXPECT_TRUE(row.IsNull(6));
  EXPECT_EQ(row.Int(6), 0);
  EXPECT_EQ(row.Str(6), "");
  EXPECT_EQ(SqlRow({SqlValue(0.1)}).Str(0), "0.1");
}

TEST(DatabaseOpenTest, RejectsBadUrlsAndOptions) {
  EXPECT_EQ(Database::Open("mysql://u:pw@host/db").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      std::string(Database::Open("mysql://u:pw@host/db").status().message()),
      Not(HasSubstr("pw")));
  EXPECT_EQ(Database::Open("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Database::Open("sqlite://").status().code(),
            absl::StatusCode::kInvalidArgument);
  testing::TempDir dir;
  DatabaseOptions options;
  options.pool_size = 0;
  EXPECT_EQ(Database::Open("sqlite://" + dir.path() + "/x.db", options)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  options = {};
  options.sqlite_synchronous = "SOMETIMES";
  EXPECT_EQ(Database::Open("sqlite://" + dir.path() + "/x.db", options)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  options.sqlite_synchronous = "full";
  EXPECT_TRUE(Database::Open("sqlite://" + dir.path() + "/x.db", options).ok());
}

TEST(DatabaseOpenTest, UnreachablePostgresIsUnavailable) {
  const int port = testing::FreePort();
  for (const char* scheme : {"postgres", "postgresql"}) {
    absl::StatusOr<std::unique_ptr<Database>> db = Database::Open(
        absl::StrCat(scheme, "://postgres@127.0.0.1:", port, "/nothing"));
    EXPECT_EQ(db.status().code(), absl::StatusCode::kUnavailable)
        << db.status();
  }
}

TEST(DatabaseOpenTest, SqliteRelativePathIsRelativeToTheWorkingDirectory) {
  testing::TempDir dir;
  const std::filesystem::path old_cwd = std::filesystem::current_path();
  std::filesystem::current_path(dir.path());
  {
    absl::StatusOr<std::unique_ptr<Database>> db =
        Database::Open("sqlite://rel/sub/app.db");
    EXPECT_TRUE(db.ok()) << db.status();
    if (db.ok()) EDUAID_EXPECT_OK((*db)->Migrate(Schema()));
  }
  std::filesystem::current_path(old_cwd);
  EXPECT_TRUE(std::filesystem::exists(dir.path() + "/rel/sub/app.db"));
}

TEST(SqliteTest, ReadConnectionsRejectWrites) {
  testing::TempDir dir;
  absl::StatusOr<std::unique_ptr<Database>> db =
      Database::Open("sqlite://" + dir.path() + "/ro.db");
  ASSERT_TRUE(db.ok()) << db.status();
  EDUAID_ASSERT_OK((*db)->Migrate(Schema()));
  absl::Status st = (*db)->Read([](SqlConnection& conn) {
    return conn.Execute("INSERT INTO people (name) VALUES ('r')").status();
  });
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(Count(**db, "people"), 0);
}

// ---------------------------------------------------------------------------
// Stops the shared PostgreSQL server: registered last (its suite is
// instantiated after every other parameterised suite), and always restarts
// the server before returning.

class PostgresRestartTest : public ::testing::TestWithParam<Backend> {};

TEST_P(PostgresRestartTest, DatabaseSurvivesAServerRestart) {
  testing::TestPostgres* pg = testing::TestPostgres::Get();
  ASSERT_NE(pg, nullptr) << "PostgreSQL is not available";
  const std::string url = pg->NewDatabaseUrl();
  DatabaseOptions options;
  options.pool_size = 2;
  absl::StatusOr<std::unique_ptr<Database>> opened =
      Database::Open(url, options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  Database& db = **opened;
  EDUAID_ASSERT_OK(db.Migrate(Schema()));
  EDUAID_ASSERT_OK(ExecuteInTx(db, "INSERT INTO people (name) VALUES ('a')"));

  // Both pooled connections exist (and go stale) across the restart.
  auto two_parallel_reads = [&db] {
    Barrier both(2);
    std::vector<std::future<absl::Status>> reads;
    for (int i = 0; i < 2; ++i) {
      reads.push_back(std::async(std::launch::async, [&] {
        return db.Read([&](SqlConnection& conn) {
          both.ArriveAndWait();
          return conn.Query("SELECT COUNT(*) FROM people").status();
        });
      }));
    }
    std::vector<absl::Status> out;
    for (auto& r : reads) out.push_back(r.get());
    return out;
  };
  for (const absl::Status& st : two_parallel_reads()) EDUAID_EXPECT_OK(st);

  struct Restarter {
    testing::TestPostgres* pg;
    bool stopped = false;
    ~Restarter() {
      if (stopped) pg->Start();
    }
  } restarter{pg};
  pg->Stop();
  restarter.stopped = true;

  absl::Status st = ExecuteInTx(db, "INSERT INTO people (name) VALUES ('b')");
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  st = db.Read(
      [](SqlConnection& conn) { return conn.Query("SELECT 1").status(); });
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_EQ(Database::Open(url).status().code(),
            absl::StatusCode::kUnavailable);

  pg->Start();
  restarter.stopped = false;

  // The very first calls after the restart succeed, on every connection.
  for (const absl::Status& s : two_parallel_reads()) EDUAID_EXPECT_OK(s);
  EDUAID_EXPECT_OK(ExecuteInTx(db, "INSERT INTO people (name) VALUES ('c')"));
  EXPECT_EQ(Count(db, "people"), 2);
  EDUAID_EXPECT_OK(db.Migrate(Schema()));
}

INSTANTIATE_TEST_SUITE_P(Last, PostgresRestartTest,
                         ::testing::Values(Backend::kPostgres), BackendName);

}  // namespace
}  // namespace eduaid
