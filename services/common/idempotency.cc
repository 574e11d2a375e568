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

absl::Status RunIdempotent(
    Database& db, absl::string_view method, absl::string_view request_id,
    const google::protobuf::Message& request,
    google::protobuf::Message* response,
    const std::function<absl::Status(SqlConnection&)>& mutate) {
  const std::string hash = MessageHash(request);
  const std::string rid(request_id);
  auto attempt = [&]() {
    return db.Transact([&](SqlConnection& c) -> absl::Status {
      auto prior = c.Query(
          "SELECT method, request_hash, response FROM request_log "
          "WHERE request_id = ?",
          {rid});
      if (!prior.ok()) return prior.status();
      if (!prior->empty()) {
        const SqlRow& row = prior->front();
        if (row.Str(0) != method || row.Str(1) != hash) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "REQUEST_ID_REUSED",
              absl::StrCat("request_id: was already used for a different "
                           "request (",
                           row.Str(0), ")"));
        }
        auto bytes = Base64Decode(row.Str(2));
        if (!bytes.ok() || !response->ParseFromString(*bytes)) {
          return absl::DataLossError("stored response cannot be read");
        }
        return absl::OkStatus();
      }
      response->Clear();
      absl::Status st = mutate(c);
      if (!st.ok()) return st;
      auto ins = c.Execute(
          "INSERT INTO request_log(request_id, method, request_hash, "
          "response, created_at) VALUES(?,?,?,?,?)",
          {rid, std::string(method), hash,
           Base64Encode(response->SerializeAsString()),
           static_cast<int64_t>(time(nullptr))});
      return ins.status();
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
