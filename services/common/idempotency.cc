#include "services/common/idempotency.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "services/common/crypto.h"
#include "services/common/status.h"

namespace eduaid {

Migration RequestLogMigration(int version) {
  return {version, "request log (idempotency)",
          "CREATE TABLE IF NOT EXISTS request_log ("
          " request_id TEXT PRIMARY KEY,"
          " method TEXT NOT NULL,"
          " request_hash TEXT NOT NULL,"
          " response TEXT NOT NULL,"
          " created_at BIGINT NOT NULL);"};
}

Migration RequestLogRetentionMigration(int version) {
  Migration m = RequestLogMigration(version);
  m.description = "request log: index on age (retention)";
  m.sql +=
      "CREATE INDEX IF NOT EXISTS request_log_created ON "
      "request_log(created_at);";
  return m;
}

absl::StatusOr<int64_t> PruneRequestLog(Database& db, int64_t before_unix) {
  constexpr int64_t kChunk = 5000;
  int64_t total = 0;
  for (;;) {
    int64_t n = 0;
    absl::Status st = db.Transact([&](SqlConnection& c) -> absl::Status {
      auto r = c.Execute(
          "DELETE FROM request_log WHERE request_id IN (SELECT request_id "
          "FROM request_log WHERE created_at < ? LIMIT ?)",
          {before_unix, kChunk});
      if (!r.ok()) return r.status();
      n = *r;
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
    total += n;
    if (n < kChunk) return total;
  }
}

std::string MessageHash(const google::protobuf::Message& message) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return Sha256Hex(bytes);
}

Migration RequestLogSealMigration(int version) {
  return {version, "request log: records keyed by caller, answers encrypted",
          "DELETE FROM request_log;"};
}

RequestLog::RequestLog(Database* db, const FieldCrypto* crypto)
    : db_(db), crypto_(crypto) {}

std::string RequestLog::Key(const Principal& caller,
                            absl::string_view request_id) {
  const std::string who =
      absl::StrCat(caller.subject, "\x1f", RoleName(caller.role), "\x1f",
                   caller.region, "\x1f", caller.school);
  return absl::StrCat(Sha256Hex(who).substr(0, 24), ":", request_id);
}

absl::StatusOr<bool> RequestLog::Replay(
    SqlConnection& c, absl::string_view key, absl::string_view method,
    absl::string_view request_hash, google::protobuf::Message* response) const {
  auto prior = c.Query(
      "SELECT method, request_hash, response FROM request_log "
      "WHERE request_id = ?",
      {std::string(key)});
  if (!prior.ok()) return prior.status();
  if (prior->empty()) return false;
  const SqlRow& row = prior->front();
  if (row.Str(0) != method || row.Str(1) != request_hash) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "REQUEST_ID_REUSED",
                      absl::StrCat("request_id: was already used for a "
                                   "different request (",
                                   row.Str(0), ")"));
  }
  auto bytes = crypto_->Decrypt(row.Str(2), absl::StrCat("request_log|", key));
  if (!bytes.ok() || !response->ParseFromString(*bytes)) {
    return absl::DataLossError("stored response cannot be read");
  }
  return true;
}

absl::Status RequestLog::Store(
    SqlConnection& c, absl::string_view key, absl::string_view method,
    absl::string_view request_hash,
    const google::protobuf::Message& response) const {
  return c
      .Execute(
          "INSERT INTO request_log(request_id, method, request_hash, "
          "response, created_at) VALUES(?,?,?,?,?)",
          {std::string(key), std::string(method), std::string(request_hash),
           crypto_->Encrypt(response.SerializeAsString(),
                            absl::StrCat("request_log|", key)),
           static_cast<int64_t>(time(nullptr))})
      .status();
}

absl::StatusOr<bool> RequestLog::Seen(const Principal& caller,
                                      absl::string_view request_id) const {
  bool seen = false;
  const std::string key = Key(caller, request_id);
  absl::Status st = db_->Read([&](SqlConnection& c) -> absl::Status {
    auto r = c.Query("SELECT 1 FROM request_log WHERE request_id = ?", {key});
    if (!r.ok()) return r.status();
    seen = !r->empty();
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return seen;
}

absl::Status RequestLog::Run(
    const Principal& caller, absl::string_view method,
    absl::string_view request_id, const google::protobuf::Message& request,
    google::protobuf::Message* response,
    const std::function<absl::Status(SqlConnection&)>& mutate) const {
  const std::string hash = MessageHash(request);
  const std::string key = Key(caller, request_id);
  auto attempt = [&]() {
    return db_->Transact([&](SqlConnection& c) -> absl::Status {
      auto replayed = Replay(c, key, method, hash, response);
      if (!replayed.ok()) return replayed.status();
      if (*replayed) return absl::OkStatus();
      response->Clear();
      absl::Status st = mutate(c);
      if (!st.ok()) return st;
      return Store(c, key, method, hash, *response);
    });
  };
  absl::Status st = attempt();
  // Two concurrent first calls: the loser's insert conflicts; its transaction
  // rolled back, so run again and find the winner's answer.
  if (st.code() == absl::StatusCode::kAlreadyExists && ReasonOf(st).empty()) {
    st = attempt();
  }
  return st;
}

}  // namespace eduaid
