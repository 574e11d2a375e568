#include "services/vocational/grant_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/household_ids.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"

namespace eduaid::vocational {

namespace cpb = ::eduaid::common::v1;

namespace {

// A school officer sees the grants of its own school's majors.
std::string GrantSchoolClause() {
  return absl::StrCat(
      "(? = 0 OR EXISTS (SELECT 1 FROM applications a JOIN courses c ON "
      "c.code = a.course_code WHERE a.id = grant_outbox.application_id AND ",
      SchoolClause("c.school_code"), "))");
}

}  // namespace

GrantRecord GrantFromRow(const SqlRow& r) {
  GrantRecord g;
  g.id = r.Int(0);
  g.application_id = r.Int(1);
  g.member_id = r.Str(2);
  g.programme_code = r.Str(3);
  g.term = r.Str(4);
  g.state = r.Int(5);
  g.request_id = r.Str(6);
  g.attempts = r.Int(7);
  g.last_error = r.Str(8);
  g.entitlement_id = r.Int(9);
  g.outcome = r.Str(10);
  g.created_at = r.Int(11);
  g.delivered_at = r.Int(12);
  g.next_attempt_ms = r.Int(13);
  g.member_region = r.Str(14);
  g.originator_subject = r.Str(15);
  return g;
}

pb::Grant ToProto(const GrantRecord& r) {
  pb::Grant g;
  g.set_grant_id(r.id);
  g.set_application_id(r.application_id);
  g.set_member_id(r.member_id);
  g.set_programme_code(r.programme_code);
  *g.mutable_term() = ParseTermKey(r.term).value_or(cpb::Term());
  g.set_state(static_cast<pb::GrantState>(r.state));
  g.set_request_id(r.request_id);
  g.set_attempts(static_cast<int32_t>(r.attempts));
  g.set_last_error(r.last_error);
  g.set_entitlement_id(r.entitlement_id);
  g.set_outcome(r.outcome);
  g.set_queued_at(FormatTimestamp(r.created_at));
  g.set_delivered_at(FormatTimestamp(r.delivered_at));
  if (g.state() == pb::GRANT_STATE_PENDING) {
    g.set_next_attempt_at(FormatTimestamp(r.next_attempt_ms));
  }
  g.set_region_code(r.member_region);
  g.set_originator_subject(r.originator_subject);
  return g;
}

absl::StatusOr<std::string> LoadInstanceId(SqlConnection& c,
                                           const std::string& fresh_id) {
  RETURN_IF_ERROR(c.Execute("INSERT INTO meta(key, value) VALUES("
                            "'instance_id', ?) ON CONFLICT(key) DO NOTHING",
                            {fresh_id})
                      .status());
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT value FROM meta WHERE key = 'instance_id'"));
  if (rows.empty()) return absl::InternalError("meta: instance_id missing");
  return rows.front().Str(0);
}

absl::StatusOr<bool> InsertGrant(SqlConnection& c, const NewGrant& g) {
  ASSIGN_OR_RETURN(
      const int64_t n,
      c.Execute(
          "INSERT INTO grant_outbox(application_id, programme_code, term, "
          "member_id, member_region, request_id, payload, state, attempts, "
          "next_attempt_ms, last_error, entitlement_id, outcome, created_at, "
          "delivered_at, originator_subject) "
          "VALUES(?,?,?,?,?,?,?,?,0,?,'',0,'',?,0,?) "
          "ON CONFLICT(application_id, programme_code, term) DO NOTHING",
          {g.application_id, g.programme_code, g.term, g.member_id,
           g.member_region, g.request_id, g.payload, kGrantPending, g.now_ms,
           g.now_ms, g.originator_subject}));
  return n == 1;
}

absl::StatusOr<std::vector<DueGrant>> DueGrants(SqlConnection& c,
                                                int64_t now_ms, int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, request_id, payload, attempts, originator_subject "
              "FROM grant_outbox "
              "WHERE state = ? AND next_attempt_ms <= ? ORDER BY id LIMIT ?",
              {kGrantPending, now_ms, limit}));
  std::vector<DueGrant> out;
  for (const auto& r : rows) {
    out.push_back({r.Int(0), r.Str(1), r.Str(2), r.Int(3), r.Str(4)});
  }
  return out;
}

absl::StatusOr<GrantCounts> CountOpenGrants(SqlConnection& c) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT state, COUNT(*) FROM grant_outbox WHERE state IN (?, ?) "
              "GROUP BY state",
              {kGrantPending, kGrantRejected}));
  GrantCounts n;
  for (const auto& row : rows) {
    (row.Int(0) == kGrantPending ? n.pending : n.rejected) = row.Int(1);
  }
  return n;
}

absl::Status MarkDelivered(SqlConnection& c, int64_t id, int64_t entitlement_id,
                           int64_t now_ms) {
  return c
      .Execute(
          "UPDATE grant_outbox SET state = ?, entitlement_id = ?, "
          "outcome = ?, delivered_at = ?, attempts = attempts + 1, "
          "last_error = '' WHERE id = ?",
          {kGrantDelivered, entitlement_id, std::string("created"), now_ms, id})
      .status();
}

absl::Status MarkAlreadyEntitled(SqlConnection& c, int64_t id, int64_t now_ms) {
  return c
      .Execute(
          "UPDATE grant_outbox SET state = ?, outcome = ?, "
          "delivered_at = ?, attempts = attempts + 1, last_error = '' "
          "WHERE id = ?",
          {kGrantDelivered, std::string("already entitled in the ledger"),
           now_ms, id})
      .status();
}

absl::Status MarkUnreadable(SqlConnection& c, int64_t id) {
  return c
      .Execute(
          "UPDATE grant_outbox SET state = ?, last_error = ?, outcome = ? "
          "WHERE id = ? AND state = ?",
          {kGrantRejected, std::string("payload cannot be read (key?)"),
           std::string("not sent"), id, kGrantPending})
      .status();
}

absl::Status MarkRefused(SqlConnection& c, int64_t id,
                         const std::string& last_error,
                         const std::string& outcome) {
  return c
      .Execute(
          "UPDATE grant_outbox SET state = ?, attempts = attempts + 1, "
          "last_error = ?, outcome = ? WHERE id = ? AND state = ?",
          {kGrantRejected, last_error, outcome, id, kGrantPending})
      .status();
}

absl::Status MarkRetry(SqlConnection& c, int64_t id, int64_t attempts,
                       const std::string& last_error, int64_t next_attempt_ms) {
  return c
      .Execute(
          "UPDATE grant_outbox SET attempts = ?, last_error = ?, "
          "next_attempt_ms = ? WHERE id = ? AND state = ?",
          {attempts, last_error, next_attempt_ms, id, kGrantPending})
      .status();
}

absl::StatusOr<std::vector<GrantRecord>> GrantsOfApplication(
    SqlConnection& c, int64_t application_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kGrantColumns,
                           " FROM grant_outbox WHERE application_id = ? "
                           "ORDER BY id"),
              {application_id}));
  std::vector<GrantRecord> out;
  for (const auto& r : rows) out.push_back(GrantFromRow(r));
  return out;
}

absl::StatusOr<std::vector<GrantRecord>> GrantsOfApplications(
    SqlConnection& c, const std::vector<int64_t>& application_ids) {
  std::vector<GrantRecord> out;
  if (application_ids.empty()) return out;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kGrantColumns,
                           " FROM grant_outbox WHERE application_id IN ",
                           SqlInList(application_ids.size()), " ORDER BY id"),
              std::vector<SqlValue>(application_ids.begin(),
                                    application_ids.end())));
  for (const auto& r : rows) out.push_back(GrantFromRow(r));
  return out;
}

absl::StatusOr<std::vector<GrantRecord>> ListGrantPage(SqlConnection& c,
                                                       const GrantFilter& f,
                                                       int64_t after,
                                                       int64_t limit) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          absl::StrCat("SELECT ", kGrantColumns,
                       " FROM grant_outbox WHERE member_region LIKE ? AND "
                       "(? = 0 OR application_id = ?) AND (? = 0 OR "
                       "state = ?) AND ",
                       GrantSchoolClause(), " AND id > ? ORDER BY id LIMIT ?"),
          {f.region_prefix + "%", f.application_id, f.application_id, f.state,
           f.state, f.school.only, f.school.only, f.school.school, after,
           limit}));
  std::vector<GrantRecord> out;
  for (const auto& r : rows) out.push_back(GrantFromRow(r));
  return out;
}

absl::StatusOr<int64_t> CountBacklog(SqlConnection& c,
                                     const std::string& region_prefix,
                                     const SchoolScope& school) {
  ASSIGN_OR_RETURN(
      auto rows, c.Query(absl::StrCat("SELECT COUNT(*) FROM grant_outbox WHERE "
                                      "member_region LIKE ? AND state = ? AND ",
                                      GrantSchoolClause()),
                         {region_prefix + "%", kGrantPending, school.only,
                          school.only, school.school}));
  return rows.front().Int(0);
}

absl::Status CancelPendingGrants(SqlConnection& c, int64_t application_id) {
  return c
      .Execute(
          "UPDATE grant_outbox SET state = ?, outcome = ? WHERE "
          "application_id = ? AND state = ?",
          {kGrantCancelled,
           std::string("withdrawn before delivery: never sent"), application_id,
           kGrantPending})
      .status();
}

absl::StatusOr<std::optional<GrantScope>> ReadGrantScope(SqlConnection& c,
                                                         int64_t id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT state, member_region FROM grant_outbox WHERE id = ?",
              {id}));
  if (rows.empty()) return std::nullopt;
  return GrantScope{rows.front().Int(0), rows.front().Str(1)};
}

absl::StatusOr<int64_t> RequeueRejected(SqlConnection& c, int64_t id,
                                        int64_t now_ms) {
  return c.Execute(
      "UPDATE grant_outbox SET state = ?, next_attempt_ms = ?, "
      "last_error = '', outcome = '' WHERE id = ? AND state = ?",
      {kGrantPending, now_ms, id, kGrantRejected});
}

}  // namespace eduaid::vocational
