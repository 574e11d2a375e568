// The ledger's points of the privacy and authorization review (issue 12),
// each shown as a hole on the old behaviour and closed now:
//   7  the two-person rule holds for entitlements a service raised on an
//      officer's behalf (single payment and batch approval);
//  12  the journal cannot be emptied or rewound without dropping triggers,
//      and VerifyJournal is not ok after entries vanished even when the
//      head was reset to match (anchors in the audit log, the metrics and
//      the caller's hands);
//  15  the batch cache holds no plaintext and a value swapped between two
//      keys is not served;
//   4  lists that return names are audited with their count;
//   5  a school officer is held to its school (a token without one reaches
//      nothing).
// Real gRPC on loopback, real redis-server, SQLite files and PostgreSQL.
#include <hiredis/hiredis.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/cache.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "services/ledger/journal.h"
#include "services/ledger/ledger_service.h"
#include "services/ledger/tests/ledger_test_env.h"

namespace eduaid::ledger {
namespace {

namespace te = ::eduaid::ledger::testenv;
using ::eduaid::testing::ClientContextWith;
using ::testing::HasSubstr;
using Stub = pb::SubsidyLedgerService::Stub;

using te::Describe;
using te::Reason;

std::string OfficerC() {
  return testing::TestToken(Role::kCountyOfficer, "411325", 3600, "officer-c");
}
std::string VocationalService() {
  return testing::TestToken(Role::kService, "", 3600, "svc-vocational");
}
// A plain hiredis connection for looking at Redis from the side.
class RedisSide {
 public:
  explicit RedisSide(int port) {
    timeval tv{2, 0};
    ctx_ = redisConnectWithTimeout("127.0.0.1", port, tv);
  }
  ~RedisSide() {
    if (ctx_ != nullptr) redisFree(ctx_);
  }
  bool ok() const { return ctx_ != nullptr && ctx_->err == 0; }
  // A string reply (nullopt for nil or errors).
  std::optional<std::string> Command(const std::vector<std::string>& args) {
    auto* r = Raw(args);
    if (r == nullptr) return std::nullopt;
    std::optional<std::string> out;
    if (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) {
      out.emplace(r->str, r->len);
    }
    freeReplyObject(r);
    return out;
  }
  std::vector<std::string> Keys() {
    std::vector<std::string> out;
    auto* r = Raw({"KEYS", "*"});
    if (r == nullptr) return out;
    if (r->type == REDIS_REPLY_ARRAY) {
      for (size_t i = 0; i < r->elements; ++i) {
        out.emplace_back(r->element[i]->str, r->element[i]->len);
      }
    }
    freeReplyObject(r);
    return out;
  }

 private:
  redisReply* Raw(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<size_t> lens;
    for (const auto& a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    return static_cast<redisReply*>(redisCommandArgv(
        ctx_, static_cast<int>(argv.size()), argv.data(), lens.data()));
  }
  redisContext* ctx_ = nullptr;
};

class LedgerSecurityTest : public te::LedgerFixture {
 protected:
  void SetUp() override {
    // Redis alone, so that what a test writes there is what the ledger reads.
    redis_only_ = true;
    LedgerFixture::SetUp();
  }

  // A vocational grant raised by `token`, naming `originator` (may be "").
  grpc::Status RaiseGrant(const std::string& token, const std::string& member,
                          const std::string& originator, pb::Entitlement* out) {
    pb::CreateEntitlementRequest req;
    req.set_request_id(Rid("grant"));
    req.set_member_id(member);
    req.set_programme_code("VOCATIONAL_GRANT");
    *req.mutable_term() = te::Autumn2018();
    req.set_region_code("411325");
    req.set_school_code("S411325V");
    req.set_school_name("内乡县职业教育中心");
    req.set_stage(cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL);
    req.set_grade(1);
    req.set_reason("vocational enrolment");
    req.set_payee_name("赵小燕");
    req.set_originator_subject(originator);
    pb::CreateEntitlementResponse resp;
    grpc::Status st = Call(&Stub::CreateEntitlement, token, req, &resp);
    *out = resp.entitlement();
    return st;
  }

  grpc::Status Disburse(const std::string& token, int64_t entitlement_id) {
    pb::DisburseEntitlementRequest req;
    req.set_request_id(Rid("pay"));
    req.set_entitlement_id(entitlement_id);
    pb::DisburseEntitlementResponse resp;
    return Call(&Stub::DisburseEntitlement, token, req, &resp);
  }

  // Audit events of `method`, newest first.
  std::vector<pb::AuditEvent> AuditOf(const std::string& method) {
    pb::ListAuditEventsRequest req;
    req.set_method(method);
    req.set_page_size(100);
    pb::ListAuditEventsResponse resp;
    grpc::Status st = Call(&Stub::ListAuditEvents, te::Auditor(), req, &resp);
    EXPECT_TRUE(st.ok()) << Describe(st);
    return {resp.events().begin(), resp.events().end()};
  }

  // Waits until the audit log holds an anchor of `entries` entries.
  bool WaitForAnchor(int64_t entries) {
    const std::string want = absl::StrCat("journal:", entries, ":");
    for (int i = 0; i < 200; ++i) {
      for (const auto& e : AuditOf("JournalAnchor")) {
        if (absl::StartsWith(e.records(), want) && e.result() == "OK") {
          return true;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  // Runs `sql` on the database behind the ledger's back (sqlite3 on the
  // file, or a second PostgreSQL connection). OK or the engine's error.
  absl::Status Outsider(const std::string& sql) {
    if (GetParam() == "sqlite") {
      sqlite3* raw = nullptr;
      if (sqlite3_open((dir_.path() + "/ledger.db").c_str(), &raw) !=
          SQLITE_OK) {
        return absl::InternalError("cannot open the file");
      }
      sqlite3_busy_timeout(raw, 5000);
      char* err = nullptr;
      const int rc = sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err);
      const std::string message = err ? err : "";
      sqlite3_free(err);
      sqlite3_close(raw);
      return rc == SQLITE_OK ? absl::OkStatus()
                             : absl::FailedPreconditionError(message);
    }
    auto outsider = Database::Open(url());
    if (!outsider.ok()) return outsider.status();
    return (*outsider)->Transact(
        [&](SqlConnection& c) { return c.ExecScript(sql); });
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, LedgerSecurityTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

// ---------------------------------------------------------------- point 7

TEST_P(LedgerSecurityTest, ServiceRaisedGrantCannotBePaidByItsOriginator) {
  pb::Entitlement grant;
  ASSERT_OK_CALL(
      RaiseGrant(VocationalService(), "m-700001", "officer-a", &grant));
  EXPECT_EQ(grant.created_by(), "svc-vocational");
  EXPECT_EQ(grant.originator_subject(), "officer-a");

  grpc::Status self = Disburse(te::OfficerA(), grant.entitlement_id());
  EXPECT_EQ(self.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(self);
  EXPECT_EQ(Reason(self), "SAME_APPROVER");
  ASSERT_OK_CALL(Disburse(te::OfficerB(), grant.entitlement_id()));
}

TEST_P(LedgerSecurityTest, OnlyAServiceMayNameAnotherOriginator) {
  pb::Entitlement by_officer;
  ASSERT_OK_CALL(
      RaiseGrant(te::OfficerB(), "m-700002", "officer-a", &by_officer));
  EXPECT_EQ(by_officer.originator_subject(), "officer-b")
      << "an officer originates what it raises, whatever the field says";
  EXPECT_EQ(Reason(Disburse(te::OfficerB(), by_officer.entitlement_id())),
            "SAME_APPROVER");

  pb::Entitlement unnamed;
  ASSERT_OK_CALL(RaiseGrant(VocationalService(), "m-700003", "", &unnamed));
  EXPECT_EQ(unnamed.originator_subject(), "svc-vocational");
}

TEST_P(LedgerSecurityTest, OriginatorMayNotApproveTheBatchThatPaysIt) {
  pb::Entitlement grant;
  ASSERT_OK_CALL(
      RaiseGrant(VocationalService(), "m-700004", "officer-a", &grant));
  pb::Batch batch;
  ASSERT_OK_CALL(CreateBatch(te::OfficerB(), &batch));
  ASSERT_EQ(batch.payment_count(), 1);

  grpc::Status self = Approve(te::OfficerA(), batch.batch_id());
  EXPECT_EQ(self.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(self);
  EXPECT_EQ(Reason(self), "SAME_APPROVER");
  EXPECT_THAT(self.error_message(), HasSubstr("holds 1 entitlement"));

  ASSERT_OK_CALL(Approve(OfficerC(), batch.batch_id()));
  ASSERT_OK_CALL(Execute(te::OfficerB(), batch.batch_id()));
  EXPECT_EQ(WaitExecuted(batch.batch_id()).paid_count(), 1);
}

// ---------------------------------------------------------------- point 12

TEST_P(LedgerSecurityTest,
       JournalCannotBeEmptiedOrRewoundWithoutDroppingGuards) {
  PayNeixiang();
  pb::VerifyJournalResponse clean = Verify();
  ASSERT_TRUE(clean.ok()) << clean.problem();
  const int64_t head = clean.head_entry_id();
  ASSERT_GT(head, 6);
  const std::string rewind = absl::StrCat(
      "UPDATE journal_head SET last_id = 2, last_hash = (SELECT hash FROM "
      "journal WHERE id = 2) WHERE id = 1");
  std::vector<std::string> bypasses = {
      rewind,
      absl::StrCat("UPDATE journal_head SET last_hash = '", kGenesisHash,
                   "' WHERE id = 1"),
      "DELETE FROM journal_head",
  };
  if (GetParam() == "sqlite") {
    // REPLACE deletes the row it replaces without firing DELETE triggers.
    bypasses.push_back(absl::StrCat(
        "INSERT OR REPLACE INTO journal (", kJournalColumns,
        ") SELECT id, at_ms, kind, debit_account, credit_account, amount_fen "
        "+ 100, region_code, programme_code, term, member_id, payment_id, "
        "reverses_id, prev_hash, hash FROM journal WHERE id = 3"));
    bypasses.push_back(absl::StrCat(
        "REPLACE INTO journal_head (id, last_id, last_hash) VALUES (1, 0, '",
        kGenesisHash, "')"));
  } else {
    bypasses.push_back("TRUNCATE journal");
    bypasses.push_back("TRUNCATE journal_head");
    bypasses.push_back("TRUNCATE journal, journal_head");
  }
  for (const std::string& sql : bypasses) {
    EXPECT_FALSE(Outsider(sql).ok()) << "accepted: " << sql;
  }
  pb::VerifyJournalResponse after = Verify();
  EXPECT_TRUE(after.ok()) << after.problem();
  EXPECT_EQ(after.head_entry_id(), head);
  EXPECT_EQ(after.entries_checked(), head);

  // The guards leave the ledger's own appends alone.
  pb::Entitlement grant;
  ASSERT_OK_CALL(
      RaiseGrant(VocationalService(), "m-700005", "officer-a", &grant));
  ASSERT_OK_CALL(Disburse(te::OfficerB(), grant.entitlement_id()));
  pb::VerifyJournalResponse extended = Verify();
  EXPECT_TRUE(extended.ok()) << extended.problem();
  EXPECT_GT(extended.head_entry_id(), head);
}

TEST_P(LedgerSecurityTest, VanishedEntriesFailVerificationAgainstTheAnchor) {
  PayNeixiang();
  pb::VerifyJournalResponse clean = Verify();
  ASSERT_TRUE(clean.ok()) << clean.problem();
  const int64_t head = clean.head_entry_id();
  ASSERT_GT(head, 6);
  ASSERT_TRUE(WaitForAnchor(head)) << "the end of the batch is anchored";

  // The anchor outside the database: the metrics a scraper keeps.
  const std::string metrics =
      testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  EXPECT_EQ(testing::MetricValue(metrics, "eduaid_ledger_journal_entries", {}),
            head);
  const double prefix_value = testing::MetricValue(
      metrics, "eduaid_ledger_journal_head_hash_prefix", {});
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%012llx",
                static_cast<unsigned long long>(std::llround(prefix_value)));
  EXPECT_EQ(std::string(prefix), clean.head_hash().substr(0, 12));

  // Someone with the database drops the guards, removes the last three
  // entries and resets the head to match: the chain itself is intact.
  const int64_t kept = head - 3;
  std::string attack;
  if (GetParam() == "sqlite") {
    attack =
        "DROP TRIGGER journal_no_delete; DROP TRIGGER journal_head_forward;";
  } else {
    attack =
        "ALTER TABLE journal DISABLE TRIGGER USER; ALTER TABLE journal_head "
        "DISABLE TRIGGER USER;";
  }
  absl::StrAppend(&attack, "DELETE FROM journal WHERE id > ", kept,
                  "; UPDATE journal_head SET last_id = ", kept,
                  ", last_hash = (SELECT hash FROM journal WHERE id = ", kept,
                  ") WHERE id = 1;");
  ASSERT_TRUE(Outsider(attack).ok());

  // A restarted ledger knows the anchor from its audit log only.
  StopLedger();
  StartLedger();
  pb::VerifyJournalResponse broken = Verify();
  EXPECT_FALSE(broken.ok()) << "ok after entries vanished";
  EXPECT_EQ(broken.head_entry_id(), kept);
  EXPECT_EQ(broken.first_broken_entry_id(), kept + 1);
  EXPECT_THAT(broken.problem(), HasSubstr("vanished"));
  bool from_audit = false;
  for (const auto& a : broken.anchors_checked()) {
    from_audit |= a.source() == "audit_log" && a.entries() == head;
  }
  EXPECT_TRUE(from_audit);

  // And against the caller's anchor (from the metrics), audit log or not.
  pb::VerifyJournalResponse by_caller = Verify(head, prefix);
  EXPECT_FALSE(by_caller.ok());
  EXPECT_THAT(by_caller.problem(), HasSubstr("vanished"));
}

TEST_P(LedgerSecurityTest, VerifyJournalRefusesAMalformedAnchor) {
  pb::VerifyJournalRequest req;
  req.set_expected_entries(5);
  req.set_expected_head_hash("xyz");
  pb::VerifyJournalResponse resp;
  grpc::Status st = Call(&Stub::VerifyJournal, te::Auditor(), req, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

// ---------------------------------------------------------------- point 15

TEST_P(LedgerSecurityTest, SwappedBatchCacheEntryIsNotServed) {
  const pb::Batch neixiang = PayNeixiang("张小明等 2018 autumn");
  Generate(te::XichuanOfficer(), "411326");
  pb::Batch xichuan;
  ASSERT_OK_CALL(CreateBatch(te::XichuanOfficer(), &xichuan, "411326"));
  pb::CancelBatchRequest cancel;
  cancel.set_request_id(Rid("cancel"));
  cancel.set_batch_id(xichuan.batch_id());
  cancel.set_reason("wrong term");
  pb::CancelBatchResponse cancelled;
  ASSERT_OK_CALL(
      Call(&Stub::CancelBatch, te::XichuanOfficer(), cancel, &cancelled));

  // Both final, both read: both cached.
  pb::Batch got;
  ASSERT_OK_CALL(GetBatch(te::OfficerA(), neixiang.batch_id(), &got));
  ASSERT_OK_CALL(GetBatch(te::XichuanOfficer(), xichuan.batch_id(), &got));
  pb::ListProgrammesRequest programmes;
  pb::ListProgrammesResponse listed;
  ASSERT_OK_CALL(
      Call(&Stub::ListProgrammes, te::OfficerA(), programmes, &listed));

  RedisSide redis(redis_->port());
  ASSERT_TRUE(redis.ok());
  const std::string key_a =
      CacheKey("ledger", "batch", absl::StrCat(neixiang.batch_id()));
  const std::string key_b =
      CacheKey("ledger", "batch", absl::StrCat(xichuan.batch_id()));
  std::optional<std::string> value_a = redis.Command({"GET", key_a});
  std::optional<std::string> value_b = redis.Command({"GET", key_b});
  ASSERT_TRUE(value_a && value_b) << "both batches are cached";

  // No name (nor the note that carries one) in any Redis value.
  for (const std::string& key : redis.Keys()) {
    std::optional<std::string> value = redis.Command({"GET", key});
    if (!value) continue;
    for (const char* name : {"张小明", "张小红", "李小华", "王小军"}) {
      EXPECT_FALSE(absl::StrContains(*value, name))
          << key << " holds " << name << " in clear";
    }
  }

  // Swap the two entries: each key now holds the other batch's value.
  ASSERT_TRUE(redis.Command({"SET", key_a, *value_b}));
  ASSERT_TRUE(redis.Command({"SET", key_b, *value_a}));
  grpc::Status foreign =
      GetBatch(te::XichuanOfficer(), neixiang.batch_id(), &got);
  EXPECT_EQ(foreign.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << "Xichuan read Neixiang's batch through a swapped entry: "
      << got.region_prefix();
  ASSERT_OK_CALL(GetBatch(te::OfficerA(), neixiang.batch_id(), &got));
  EXPECT_EQ(got.batch_id(), neixiang.batch_id());
  EXPECT_EQ(got.region_prefix(), "411325");
  EXPECT_EQ(got.state(), pb::BATCH_STATE_EXECUTED);
  ASSERT_OK_CALL(GetBatch(te::XichuanOfficer(), xichuan.batch_id(), &got));
  EXPECT_EQ(got.batch_id(), xichuan.batch_id());
  EXPECT_EQ(got.state(), pb::BATCH_STATE_CANCELLED);
  EXPECT_NE(redis.Command({"GET", key_a}), value_b)
      << "the swapped entry was replaced on reload";
}

// ---------------------------------------------------------------- point 4

TEST_P(LedgerSecurityTest, ListsOfNamesAreAuditedWithTheirCount) {
  const pb::Batch batch = PayNeixiang();
  pb::ListEntitlementsRequest entitlements;
  entitlements.set_region_prefix("411325");
  pb::ListEntitlementsResponse listed;
  ASSERT_OK_CALL(
      Call(&Stub::ListEntitlements, te::Agency(), entitlements, &listed));
  ASSERT_GT(listed.entitlements_size(), 0);
  pb::ListPaymentsRequest payments;
  payments.set_batch_id(batch.batch_id());
  pb::ListPaymentsResponse paid;
  ASSERT_OK_CALL(Call(&Stub::ListPayments, te::Agency(), payments, &paid));
  ASSERT_GT(paid.payments_size(), 0);
  pb::CreatePostingRequest posting;
  posting.set_request_id(Rid("posting"));
  posting.set_school_code("S411325A");
  *posting.mutable_term() = te::Autumn2018();
  pb::CreatePostingResponse posted;
  ASSERT_OK_CALL(Call(&Stub::CreatePosting, te::OfficerA(), posting, &posted));
  pb::GetPostingRequest get_posting;
  get_posting.set_posting_id(posted.posting().posting_id());
  pb::GetPostingResponse shown;
  ASSERT_OK_CALL(Call(&Stub::GetPosting, te::Agency(), get_posting, &shown));

  const std::vector<std::pair<std::string, int>> expected = {
      {"ListEntitlements", listed.entitlements_size()},
      {"ListPayments", paid.payments_size()},
      {"GetPosting", shown.posting().lines_size()}};
  for (const auto& [method, count] : expected) {
    bool found = false;
    for (const auto& e : AuditOf(method)) {
      found |= e.subject() == "agency-1" &&
               absl::StrContains(e.records(), absl::StrCat("listed=", count));
    }
    EXPECT_TRUE(found) << method << " by an agency (masked names) is not "
                       << "audited with listed=" << count;
  }
}

// ---------------------------------------------------------------- point 5

TEST_P(LedgerSecurityTest, SchoolOfficerWithoutSchoolReachesNothing) {
  const pb::Batch batch = PayNeixiang();
  CallContext call;
  call.principal.subject = "school-officer-without-school";
  call.principal.role = Role::kSchoolOfficer;
  call.principal.region = "411325";

  pb::ListEntitlementsRequest entitlements;
  pb::ListEntitlementsResponse listed;
  absl::Status st = logic().ListEntitlements(call, entitlements, &listed);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied)
      << st << "; listed " << listed.entitlements_size();
  pb::ListPaymentsRequest payments;
  pb::ListPaymentsResponse paid;
  st = logic().ListPayments(call, payments, &paid);
  EXPECT_EQ(st.code(), absl::StatusCode::kPermissionDenied)
      << st << "; listed " << paid.payments_size();
  pb::ListGrievancesRequest grievances;
  pb::ListGrievancesResponse open;
  EXPECT_EQ(logic().ListGrievances(call, grievances, &open).code(),
            absl::StatusCode::kPermissionDenied);

  CallContext officer;
  officer.principal.subject = "officer-a";
  officer.principal.role = Role::kCountyOfficer;
  officer.principal.region = "411325";
  ASSERT_TRUE(logic().ListPayments(officer, payments, &paid).ok());
  ASSERT_GT(paid.payments_size(), 0);
  pb::GetNoticeRequest notice;
  notice.set_payment_id(paid.payments(0).payment_id());
  pb::GetNoticeResponse shown;
  EXPECT_EQ(logic().GetNotice(call, notice, &shown).code(),
            absl::StatusCode::kPermissionDenied);
  pb::GetPaymentChainRequest chain;
  chain.set_payment_id(paid.payments(0).payment_id());
  pb::GetPaymentChainResponse chained;
  EXPECT_EQ(logic().GetPaymentChain(call, chain, &chained).code(),
            absl::StatusCode::kPermissionDenied);
  pb::GetBatchRequest get_batch;
  get_batch.set_batch_id(batch.batch_id());
  pb::GetBatchResponse got;
  EXPECT_EQ(logic().GetBatch(call, get_batch, &got).code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_P(LedgerSecurityTest, SchoolOfficerSeesItsOwnSchoolOnly) {
  const pb::Batch batch = PayNeixiang();
  const std::string school_a =
      testing::SchoolOfficerToken("S411325A", "411325");
  pb::ListPaymentsRequest payments;
  pb::ListPaymentsResponse all;
  ASSERT_OK_CALL(Call(&Stub::ListPayments, te::OfficerA(), payments, &all));
  int64_t other_school = 0;
  for (const auto& p : all.payments()) {
    if (p.school_code() != "S411325A") other_school = p.payment_id();
  }
  ASSERT_GT(other_school, 0) << "the seed pays S411325B too";

  pb::GetNoticeRequest notice;
  notice.set_payment_id(other_school);
  pb::GetNoticeResponse shown;
  EXPECT_EQ(Call(&Stub::GetNotice, school_a, notice, &shown).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::Batch got;
  EXPECT_EQ(GetBatch(school_a, batch.batch_id(), &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "a region-wide batch is not the school's";

  // The journal: entries of the school's payments only.
  pb::ListJournalEntriesRequest journal;
  journal.set_page_size(1000);
  pb::ListJournalEntriesResponse entries;
  ASSERT_OK_CALL(Call(&Stub::ListJournalEntries, school_a, journal, &entries));
  ASSERT_GT(entries.entries_size(), 0);
  for (const auto& e : entries.entries()) {
    EXPECT_NE(e.payment_id(), other_school)
        << "entry " << e.entry_id() << " belongs to another school";
  }
}

}  // namespace
}  // namespace eduaid::ledger
