#include "services/teacher/visit_store.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/common/status_macros.h"

namespace eduaid::teacher {
namespace {

// "?, ?, ?" and the ids as parameters.
std::string Marks(size_t n) {
  std::vector<std::string> q(n, "?");
  return absl::StrJoin(q, ", ");
}
std::vector<SqlValue> Params(const std::vector<int64_t>& ids) {
  std::vector<SqlValue> out;
  out.reserve(ids.size());
  for (int64_t id : ids) out.emplace_back(id);
  return out;
}

}  // namespace

// ---------------------------------------------------------------- findings

FindingRecord FromFindingRow(const SqlRow& row) {
  FindingRecord f;
  f.visit_id = row.Int(0);
  f.idx = static_cast<int>(row.Int(1));
  f.kind = static_cast<int>(row.Int(2));
  f.member_id = row.Str(3);
  f.programme_code = row.Str(4);
  f.payment_id = row.Int(5);
  f.risk = static_cast<int>(row.Int(6));
  f.detail_enc = row.Str(7);
  f.state = static_cast<int>(row.Int(8));
  f.target = row.Str(9);
  f.error = row.Str(10);
  f.result_id = row.Int(11);
  return f;
}

void ToProto(const FindingRecord& f, pb::VisitFinding* out) {
  out->set_kind(static_cast<pb::FindingKind>(f.kind));
  out->set_member_id(f.member_id);
  out->set_programme_code(f.programme_code);
  out->set_payment_id(f.payment_id);
  out->set_risk(static_cast<pb::DropoutRisk>(f.risk));
  out->set_delivery(f.state == 0 ? pb::DELIVERY_STATE_NOT_ROUTED
                                 : static_cast<pb::DeliveryState>(f.state));
  out->set_target(f.target);
  out->set_delivery_error(f.error);
}

absl::Status InsertFinding(SqlConnection& c, const FindingRecord& f) {
  return c
      .Execute(
          "INSERT INTO visit_findings(visit_id, idx, kind, member_id, "
          "programme_code, payment_id, risk, detail_enc) "
          "VALUES(?,?,?,?,?,?,?,?)",
          {f.visit_id, int64_t{f.idx}, int64_t{f.kind}, f.member_id,
           f.programme_code, f.payment_id, int64_t{f.risk}, f.detail_enc})
      .status();
}

absl::StatusOr<std::vector<FindingRecord>> LoadFindings(
    SqlConnection& c, const std::vector<int64_t>& visit_ids) {
  std::vector<FindingRecord> out;
  if (visit_ids.empty()) return out;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kFindingColumns,
                           " FROM visit_findings f LEFT JOIN visit_outbox o "
                           "ON o.visit_id = f.visit_id AND o.idx = f.idx "
                           "WHERE f.visit_id IN (",
                           Marks(visit_ids.size()),
                           ") ORDER BY f.visit_id, f.idx"),
              Params(visit_ids)));
  for (const auto& r : rows) out.push_back(FromFindingRow(r));
  return out;
}

absl::StatusOr<std::vector<int64_t>> FindingPaymentIds(SqlConnection& c,
                                                       int64_t visit_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT payment_id FROM visit_findings WHERE "
                           "visit_id = ? AND payment_id > 0",
                           {visit_id}));
  std::vector<int64_t> out;
  for (const auto& r : rows) out.push_back(r.Int(0));
  return out;
}

// ---------------------------------------------------------------- follow-ups

FollowUpRecord FromFollowUpRow(const SqlRow& row) {
  FollowUpRecord f;
  f.visit_id = row.Int(0);
  f.payment_id = row.Int(1);
  f.member_id = row.Str(2);
  f.programme_code = row.Str(3);
  f.follow_up_id = row.Int(4);
  return f;
}

absl::Status InsertFollowUp(SqlConnection& c, const FollowUpRecord& f) {
  return c
      .Execute(absl::StrCat("INSERT INTO visit_follow_ups(", kFollowUpColumns,
                            ") VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING"),
               {f.visit_id, f.payment_id, f.member_id, f.programme_code,
                f.follow_up_id})
      .status();
}

absl::StatusOr<std::vector<FollowUpRecord>> LoadFollowUps(
    SqlConnection& c, const std::vector<int64_t>& visit_ids) {
  std::vector<FollowUpRecord> out;
  if (visit_ids.empty()) return out;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kFollowUpColumns,
                           " FROM visit_follow_ups WHERE visit_id IN (",
                           Marks(visit_ids.size()),
                           ") ORDER BY visit_id, payment_id"),
              Params(visit_ids)));
  for (const auto& r : rows) out.push_back(FromFollowUpRow(r));
  return out;
}

// ---------------------------------------------------------------- outbox

DeliveryRecord FromDeliveryRow(const SqlRow& row) {
  DeliveryRecord d;
  d.id = row.Int(0);
  d.visit_id = row.Int(1);
  d.idx = static_cast<int>(row.Int(2));
  d.route = static_cast<int>(row.Int(3));
  d.request_id = row.Str(4);
  d.payload_enc = row.Str(5);
  d.household_id = row.Str(6);
  d.region_code = row.Str(7);
  d.term_key = row.Str(8);
  d.attempts = row.Int(9);
  return d;
}

absl::Status InsertDelivery(SqlConnection& c, const DeliveryRecord& d,
                            int64_t now_ms) {
  return c
      .Execute(
          "INSERT INTO visit_outbox(visit_id, idx, route, request_id, "
          "payload_enc, household_id, region_code, term_key, state, target, "
          "result_id, last_error, attempts, next_attempt_ms, updated_ms) "
          "VALUES(?,?,?,?,?,?,?,?,?,'',0,'',0,?,?)",
          {d.visit_id, int64_t{d.idx}, int64_t{d.route}, d.request_id,
           d.payload_enc, d.household_id, d.region_code, d.term_key,
           int64_t{pb::DELIVERY_STATE_PENDING}, now_ms, now_ms})
      .status();
}

absl::StatusOr<std::vector<DeliveryRecord>> DueDeliveries(SqlConnection& c,
                                                          int64_t now_ms,
                                                          int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kDeliveryColumns,
                           " FROM visit_outbox WHERE state = ? AND "
                           "next_attempt_ms <= ? ORDER BY next_attempt_ms, id "
                           "LIMIT ?"),
              {int64_t{pb::DELIVERY_STATE_PENDING}, now_ms, limit}));
  std::vector<DeliveryRecord> out;
  for (const auto& r : rows) out.push_back(FromDeliveryRow(r));
  return out;
}

absl::Status MarkDeliveryDone(SqlConnection& c, int64_t id,
                              const std::string& target, int64_t result_id,
                              int64_t now_ms) {
  return c
      .Execute(
          "UPDATE visit_outbox SET state = ?, target = ?, result_id = ?, "
          "last_error = '', updated_ms = ? WHERE id = ?",
          {int64_t{pb::DELIVERY_STATE_DELIVERED}, target, result_id, now_ms,
           id})
      .status();
}

absl::Status MarkDeliveryFailed(SqlConnection& c, int64_t id,
                                const std::string& error, int64_t now_ms) {
  return c
      .Execute(
          "UPDATE visit_outbox SET state = ?, last_error = ?, "
          "attempts = attempts + 1, updated_ms = ? WHERE id = ?",
          {int64_t{pb::DELIVERY_STATE_FAILED}, error, now_ms, id})
      .status();
}

absl::Status MarkDeliveryRetry(SqlConnection& c, int64_t id, int64_t attempts,
                               const std::string& error, int64_t next_ms) {
  return c
      .Execute(
          "UPDATE visit_outbox SET attempts = ?, last_error = ?, "
          "next_attempt_ms = ? WHERE id = ? AND state = ?",
          {attempts, error, next_ms, id, int64_t{pb::DELIVERY_STATE_PENDING}})
      .status();
}

absl::StatusOr<int> FollowUpDeliveryState(SqlConnection& c, int64_t visit_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT state FROM visit_outbox WHERE visit_id = ? "
                           "AND idx = ?",
                           {visit_id, int64_t{kFollowUpIdx}}));
  if (rows.empty()) return 0;
  return static_cast<int>(rows.front().Int(0));
}

absl::StatusOr<int64_t> RequeueFailed(SqlConnection& c, int64_t visit_id,
                                      const std::string& region,
                                      int64_t now_ms) {
  std::vector<SqlValue> params = {int64_t{pb::DELIVERY_STATE_PENDING}, now_ms,
                                  now_ms, int64_t{pb::DELIVERY_STATE_FAILED},
                                  absl::StrCat(region, "%")};
  std::string sql =
      "UPDATE visit_outbox SET state = ?, attempts = 0, next_attempt_ms = ?, "
      "updated_ms = ? WHERE state = ? AND region_code LIKE ?";
  if (visit_id != 0) {
    sql += " AND visit_id = ?";
    params.emplace_back(visit_id);
  }
  return c.Execute(sql, params);
}

absl::StatusOr<DeliveryCounts> CountOpenDeliveries(SqlConnection& c) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT state, COUNT(*) FROM visit_outbox WHERE "
                           "state IN (?, ?) GROUP BY state",
                           {int64_t{pb::DELIVERY_STATE_PENDING},
                            int64_t{pb::DELIVERY_STATE_FAILED}}));
  DeliveryCounts n;
  for (const auto& r : rows) {
    (r.Int(0) == pb::DELIVERY_STATE_PENDING ? n.pending : n.failed) = r.Int(1);
  }
  return n;
}

// ---------------------------------------------------------------- visits

VisitRecord FromVisitRow(const SqlRow& row) {
  VisitRecord v;
  v.id = row.Int(0);
  v.campaign_id = row.Int(1);
  v.household_id = row.Str(2);
  v.detail_enc = row.Str(3);
  return v;
}

absl::StatusOr<std::vector<VisitRecord>> LoadHouseholdVisits(
    SqlConnection& c, const std::string& household_id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kVisitColumns,
                                        " FROM visits WHERE household_id = ? "
                                        "ORDER BY visit_date DESC, id DESC"),
                           {household_id}));
  std::vector<VisitRecord> out;
  for (const auto& r : rows) out.push_back(FromVisitRow(r));
  return out;
}

absl::StatusOr<std::vector<VisitRecord>> LoadVisit(SqlConnection& c,
                                                   int64_t visit_id) {
  ASSIGN_OR_RETURN(auto rows, c.Query(absl::StrCat("SELECT ", kVisitColumns,
                                                   " FROM visits WHERE id = ?"),
                                      {visit_id}));
  std::vector<VisitRecord> out;
  for (const auto& r : rows) out.push_back(FromVisitRow(r));
  return out;
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
CampaignsOfHousehold(SqlConnection& c, const std::string& household_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT h.campaign_id, c.due_date FROM campaign_households h "
              "JOIN campaigns c ON c.id = h.campaign_id WHERE "
              "h.household_id = ? ORDER BY h.campaign_id",
              {household_id}));
  std::vector<std::pair<int64_t, std::string>> out;
  for (const auto& r : rows) out.emplace_back(r.Int(0), r.Str(1));
  return out;
}

}  // namespace eduaid::teacher
