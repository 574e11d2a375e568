#include "services/common/audit.h"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "absl/strings/str_cat.h"

#include "services/common/log.h"

namespace eduaid {

Migration AuditLog::TableMigration(int version) {
  return {version, "audit log",
          "CREATE TABLE IF NOT EXISTS audit_log ("
          " id {ID},"
          " ts_ms BIGINT NOT NULL,"
          " subject TEXT NOT NULL,"
          " role TEXT NOT NULL,"
          " region TEXT NOT NULL,"
          " method TEXT NOT NULL,"
          " records TEXT NOT NULL,"
          " result TEXT NOT NULL,"
          " personal_data INTEGER NOT NULL);"
          "CREATE INDEX IF NOT EXISTS audit_log_method ON audit_log(method);"};
}

AuditLog::AuditLog(Database* db) : db_(db), thread_([this] { Loop(); }) {}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void AuditLog::Record(AuditEvent event) {
  if (event.ts_ms == 0) {
    event.ts_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      ++dropped_;
      if (drop_counter_) drop_counter_->Increment();
      return;
    }
    queue_.push_back(std::move(event));
    ++queued_seq_;
  }
  cv_.notify_all();
}

namespace {
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

void AuditLog::RecordDenial(absl::string_view peer, absl::string_view method,
                            absl::string_view result) {
  std::lock_guard<std::mutex> lock(mu_);
  DenialKey key{std::string(peer), std::string(method), std::string(result)};
  auto it = denials_.find(key);
  if (it == denials_.end() && denials_.size() >= kMaxDenialKeys) {
    key.peer = "(other)";
    it = denials_.find(key);
    if (it == denials_.end() && denials_.size() >= kMaxDenialKeys + 64) {
      ++dropped_;
      if (drop_counter_) drop_counter_->Increment();
      return;
    }
  }
  if (it == denials_.end()) {
    denials_.emplace(std::move(key), 1);
    ++queued_seq_;  // one event to come
  } else {
    ++it->second;
  }
}

void AuditLog::DrainAggregates(std::vector<AuditEvent>& batch) {
  const int64_t now = NowMs();
  for (auto& [key, calls] : denials_) {
    AuditEvent e;
    e.ts_ms = now;
    e.subject = "(unauthenticated)";
    e.role = "";
    e.region = "";
    e.method = key.method;
    e.records = absl::StrCat("peer=", key.peer, ",calls=", calls);
    e.result = key.result;
    batch.push_back(std::move(e));
  }
  denials_.clear();
  if (dropped_ > 0) {
    AuditEvent e;
    e.ts_ms = now;
    e.subject = "(audit)";
    e.method = "audit-overflow";
    e.records = absl::StrCat("dropped=", dropped_);
    e.result = "ResourceExhausted";
    batch.push_back(std::move(e));
    ++queued_seq_;  // counted like every event in a batch
    dropped_ = 0;
  }
}

void AuditLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t target = queued_seq_;
  cv_.notify_all();
  cv_.wait(lock, [&] { return flushed_seq_ >= target || stopping_; });
}

void AuditLog::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait_for(lock, std::chrono::milliseconds(200), [&] {
      return stopping_ || queue_.size() >= 256 || flushed_seq_ < queued_seq_;
    });
    if (queue_.empty() && denials_.empty() && dropped_ == 0) {
      if (stopping_) return;
      continue;
    }
    // At most kMaxBatch events a transaction: what waits stays in the
    // bounded queue, so memory is the queue's bound plus one batch.
    std::vector<AuditEvent> batch;
    const size_t n = std::min(queue_.size(), kMaxBatch);
    batch.reserve(n + denials_.size() + 1);
    std::move(queue_.begin(), queue_.begin() + n, std::back_inserter(batch));
    queue_.erase(queue_.begin(), queue_.begin() + n);
    if (queue_.empty()) DrainAggregates(batch);
    lock.unlock();
    absl::Status st = Write(batch);
    lock.lock();
    if (!st.ok()) {
      lock.unlock();
      Log(LogLevel::kError, "audit write failed; retrying",
          {{"error", std::string(st.message())}});
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      lock.lock();
      // Keep what fits under the bound; count the rest as dropped (and as
      // done, so Flush() does not wait for it).
      const size_t room =
          kMaxQueued > queue_.size() ? kMaxQueued - queue_.size() : 0;
      const size_t keep = std::min(room, batch.size());
      const size_t lost = batch.size() - keep;
      dropped_ += static_cast<int64_t>(lost);
      flushed_seq_ += static_cast<int64_t>(lost);
      if (drop_counter_ && lost > 0) {
        drop_counter_->Increment(static_cast<double>(lost));
      }
      queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                    std::make_move_iterator(batch.begin() + keep));
      if (stopping_) return;
      continue;
    }
    flushed_seq_ += static_cast<int64_t>(batch.size());
    cv_.notify_all();
  }
}

absl::Status AuditLog::Write(std::vector<AuditEvent>& batch) {
  return db_->Transact([&](SqlConnection& c) -> absl::Status {
    for (const auto& e : batch) {
      auto r = c.Execute(
          "INSERT INTO audit_log(ts_ms, subject, role, region, method, "
          "records, result, personal_data) VALUES(?,?,?,?,?,?,?,?)",
          {e.ts_ms, e.subject, e.role, e.region, e.method, e.records, e.result,
           int64_t{e.personal_data}});
      if (!r.ok()) return r.status();
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<std::pair<int64_t, AuditEvent>>> AuditLog::Query(
    const std::string& region_prefix, const std::string& method,
    int64_t before_id, int limit) {
  std::vector<std::pair<int64_t, AuditEvent>> out;
  absl::Status st = db_->Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        "SELECT id, ts_ms, subject, role, region, method, records, result, "
        "personal_data FROM audit_log WHERE region LIKE ? AND (? = '' OR "
        "method = ?) AND (? <= 0 OR id < ?) ORDER BY id DESC LIMIT ?",
        {region_prefix + "%", method, method, before_id, before_id,
         int64_t{limit}});
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      AuditEvent e;
      e.ts_ms = r.Int(1);
      e.subject = r.Str(2);
      e.role = r.Str(3);
      e.region = r.Str(4);
      e.method = r.Str(5);
      e.records = r.Str(6);
      e.result = r.Str(7);
      e.personal_data = r.Int(8) != 0;
      out.emplace_back(r.Int(0), std::move(e));
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace eduaid
