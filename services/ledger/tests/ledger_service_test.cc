// Ledger service tests over real gRPC on loopback, with a real redis-server
// and a real registry_server process, on SQLite files and on PostgreSQL.
#include "services/ledger/ledger_service.h"

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/common/testing/harness.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/ledger/notice/notice_format.h"
#include "services/ledger/tests/ledger_test_env.h"

namespace eduaid::ledger {
namespace {

namespace te = ::eduaid::ledger::testenv;
using ::eduaid::testing::ClientContextWith;
using ::testing::HasSubstr;
using Stub = pb::SubsidyLedgerService::Stub;

using te::Describe;
using te::Fields;
using te::Reason;

class LedgerTest : public te::LedgerFixture {
 protected:
  std::vector<pb::Payment> Payments(
      const std::string& token = te::OfficerA(),
      pb::PaymentState state = pb::PAYMENT_STATE_UNSPECIFIED) {
    std::vector<pb::Payment> out;
    pb::ListPaymentsRequest req;
    req.set_state(state);
    req.set_page_size(2);  // walks the page tokens too
    while (true) {
      pb::ListPaymentsResponse resp;
      grpc::Status st = Call(&Stub::ListPayments, token, req, &resp);
      EXPECT_TRUE(st.ok()) << Describe(st);
      for (const auto& p : resp.payments()) out.push_back(p);
      if (resp.next_page_token().empty() || !st.ok()) break;
      req.set_page_token(resp.next_page_token());
    }
    return out;
  }

  pb::Entitlement RaiseEntitlement(
      const std::string& member_id, const std::string& token = te::OfficerA(),
      const std::string& programme = "NUTRITION_MEALS") {
    pb::CreateEntitlementRequest req;
    req.set_request_id(Rid("ent"));
    req.set_member_id(member_id);
    req.set_programme_code(programme);
    *req.mutable_term() = te::Autumn2018();
    req.set_region_code("411325");
    req.set_school_code("S411325A");
    req.set_school_name("内乡县城关小学");
    req.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
    req.set_grade(2);
    req.set_boarder(true);
    req.set_reason("late roster entry, checked by hand");
    req.set_payee_name("赵小燕");
    pb::CreateEntitlementResponse resp;
    grpc::Status st = Call(&Stub::CreateEntitlement, token, req, &resp);
    EXPECT_TRUE(st.ok()) << Describe(st);
    return resp.entitlement();
  }

  pb::GetTrialBalanceResponse TrialBalance(
      const std::string& token = te::Auditor()) {
    pb::GetTrialBalanceRequest req;
    pb::GetTrialBalanceResponse resp;
    grpc::Status st = Call(&Stub::GetTrialBalance, token, req, &resp);
    EXPECT_TRUE(st.ok()) << Describe(st);
    return resp;
  }

  std::map<std::string, int64_t> Counts() {
    std::map<std::string, int64_t> out;
    for (const char* t : {"standards", "entitlements", "batches", "payments",
                          "journal", "request_log", "grievances", "notice_acks",
                          "follow_ups", "postings"}) {
      out[t] = te::CountRows(db(), t);
    }
    return out;
  }

  int64_t BalanceOf(const pb::GetTrialBalanceResponse& tb,
                    const std::string& account) {
    int64_t sum = 0;
    for (const auto& a : tb.accounts()) {
      if (a.account() == account) sum += a.balance_fen();
    }
    return sum;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, LedgerTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

TEST_P(LedgerTest, GeneratesEntitlementsFromTheRegistryOncePerTerm) {
  pb::GenerateEntitlementsResponse first = Generate();
  EXPECT_EQ(first.students_seen(), te::kNeixiangStudents);
  EXPECT_EQ(first.entitlements_created(), te::kNeixiangEntitlements);
  EXPECT_EQ(first.waivers_recorded(), te::kNeixiangWaivers);
  EXPECT_EQ(first.total_fen(), te::kNeixiangTotalFen);
  std::map<std::string, int64_t> by_programme;
  for (const auto& pc : first.by_programme()) {
    by_programme[pc.programme_code()] = pc.amount_fen();
  }
  EXPECT_EQ(by_programme["BOARDING_LIVING"], 100000);
  EXPECT_EQ(by_programme["NUTRITION_MEALS"], 120000);
  EXPECT_EQ(by_programme["SENIOR_HIGH_GRANT"], 100000);

  // Each entitlement names its standard and why it exists; the officer
  // sees the payee's name, an agency a mask.
  pb::ListEntitlementsRequest list;
  list.set_programme_code("BOARDING_LIVING");
  pb::ListEntitlementsResponse listed;
  ASSERT_OK_CALL(Call(&Stub::ListEntitlements, te::OfficerA(), list, &listed));
  ASSERT_EQ(listed.entitlements_size(), 2);
  const pb::Entitlement& e = listed.entitlements(0);
  EXPECT_EQ(e.standard_id(), "BOARDING_LIVING@2018-01-01");
  EXPECT_EQ(e.programme_name(), "义务教育家庭经济困难寄宿生生活补助");
  EXPECT_EQ(e.amount_fen(), 50000);
  EXPECT_EQ(e.state(), pb::ENTITLEMENT_STATE_OPEN);
  EXPECT_THAT(e.reason(), HasSubstr("boarder"));
  EXPECT_THAT(e.reason(), HasSubstr("BOARDING_LIVING@2018-01-01"));
  EXPECT_EQ(e.due_date(), "2018-11-30");
  EXPECT_TRUE(e.payee_name() == "张小明" || e.payee_name() == "李小华")
      << e.payee_name();
  pb::ListEntitlementsResponse masked;
  ASSERT_OK_CALL(Call(&Stub::ListEntitlements, te::Agency(), list, &masked));
  ASSERT_EQ(masked.entitlements_size(), 2);
  EXPECT_NE(masked.entitlements(0).payee_name(), e.payee_name());
  EXPECT_EQ(masked.entitlements(0).payee_name(), MaskName(e.payee_name()));

  // A second generation for the term creates nothing new.
  pb::GenerateEntitlementsResponse again = Generate(te::OfficerB());
  EXPECT_EQ(again.entitlements_created(), 0);
  EXPECT_EQ(again.already_entitled(),
            te::kNeixiangEntitlements + te::kNeixiangWaivers);
  EXPECT_EQ(te::CountRows(db(), "entitlements"),
            te::kNeixiangEntitlements + te::kNeixiangWaivers);
}

TEST_P(LedgerTest, RegistryDownIsUnavailableAndStoresNothing) {
  LedgerOptions options;
  options.registry_target = "127.0.0.1:" + std::to_string(testing::FreePort());
  options.registry_deadline = std::chrono::milliseconds(500);
  Ledger offline(*host_, options);
  CallContext call;
  call.principal.subject = "officer-a";
  call.principal.role = Role::kCountyOfficer;
  call.principal.region = "411325";
  call.mutating = true;
  pb::GenerateEntitlementsRequest req;
  req.set_request_id("gen-offline");
  *req.mutable_term() = te::Autumn2018();
  pb::GenerateEntitlementsResponse resp;
  const auto before = Counts();
  absl::Status st = offline.GenerateEntitlements(call, req, &resp);
  EXPECT_EQ(st.code(), absl::StatusCode::kUnavailable) << st;
  EXPECT_THAT(std::string(st.message()), HasSubstr("registry"));
  EXPECT_THAT(std::string(st.message()), HasSubstr("nothing was stored"));
  EXPECT_EQ(Counts(), before);

  pb::ReconcileRequest rec;
  *rec.mutable_term() = te::Autumn2018();
  pb::ReconcileResponse rec_resp;
  call.mutating = false;
  EXPECT_EQ(offline.Reconcile(call, rec, &rec_resp).code(),
            absl::StatusCode::kUnavailable);
}

TEST_P(LedgerTest, PaysATermEndToEndWithTwoPersonApproval) {
  Generate();
  pb::Batch batch;
  ASSERT_TRUE(CreateBatch(te::OfficerA(), &batch).ok());
  EXPECT_EQ(batch.state(), pb::BATCH_STATE_CREATED);
  EXPECT_EQ(batch.payment_count(), te::kNeixiangEntitlements);
  EXPECT_EQ(batch.total_fen(), te::kNeixiangTotalFen);
  EXPECT_EQ(batch.created_by(), "officer-a");

  // The creator cannot approve; nor can the batch run unapproved.
  grpc::Status same = Approve(te::OfficerA(), batch.batch_id());
  EXPECT_EQ(same.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(same), "SAME_APPROVER");
  grpc::Status early = Execute(te::OfficerA(), batch.batch_id());
  EXPECT_EQ(early.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(early), "BATCH_STATE");
  ASSERT_TRUE(Approve(te::OfficerB(), batch.batch_id()).ok());
  ASSERT_TRUE(Execute(te::OfficerA(), batch.batch_id()).ok());
  pb::Batch done = WaitExecuted(batch.batch_id());
  EXPECT_EQ(done.approved_by(), "officer-b");
  EXPECT_EQ(done.paid_count(), te::kNeixiangEntitlements);
  EXPECT_EQ(done.paid_fen(), te::kNeixiangTotalFen);
  EXPECT_EQ(done.pending_count(), 0);
  EXPECT_EQ(done.failed_count(), 0);

  std::vector<pb::Payment> paid = Payments();
  ASSERT_EQ(paid.size(), static_cast<size_t>(te::kNeixiangEntitlements));
  int64_t sum = 0;
  for (const auto& p : paid) {
    EXPECT_EQ(p.state(), pb::PAYMENT_STATE_PAID);
    EXPECT_EQ(p.paid_by(), "officer-a");
    sum += p.amount_fen();
  }
  EXPECT_EQ(sum, te::kNeixiangTotalFen);

  // Double entry: the bank paid out exactly the total, every region
  // balances, and the chain verifies.
  pb::GetTrialBalanceResponse tb = TrialBalance();
  EXPECT_TRUE(tb.balanced());
  EXPECT_EQ(tb.total_debit_fen(), tb.total_credit_fen());
  EXPECT_EQ(BalanceOf(tb, kBankPaidOut), -te::kNeixiangTotalFen);
  EXPECT_EQ(BalanceOf(tb, kPayableStudent), 0);
  EXPECT_EQ(BalanceOf(tb, "fund.central") + BalanceOf(tb, "fund.provincial") +
                BalanceOf(tb, "fund.county"),
            te::kNeixiangTotalFen);
  EXPECT_EQ(BalanceOf(tb, "fund.central"), 50000 + 120000 + 60000)
      << "boarding 50%, meals 100%, senior high grant 60%";
  pb::VerifyJournalResponse v = Verify();
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_EQ(v.entries_checked(), v.head_entry_id());
  EXPECT_GT(v.entries_checked(), te::kNeixiangEntitlements * 2);

  // An executed batch cannot run again.
  pb::ExecuteBatchRequest rerun;
  rerun.set_request_id("exec-again");
  rerun.set_batch_id(batch.batch_id());
  pb::ExecuteBatchResponse rerun_resp;
  grpc::Status again =
      Call(&Stub::ExecuteBatch, te::OfficerA(), rerun, &rerun_resp);
  EXPECT_EQ(Reason(again), "BATCH_STATE");

  // Metrics: amounts by programme and county, batch duration.
  const std::string metrics =
      testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  EXPECT_EQ(testing::MetricValue(
                metrics, "eduaid_ledger_disbursed_fen_total",
                {"programme=\"NUTRITION_MEALS\"", "region=\"411325\""}),
            120000);
  EXPECT_EQ(testing::MetricValue(
                metrics, "eduaid_ledger_batch_duration_seconds_count", {}),
            1);

  // Nothing left to pay: a second batch is refused.
  pb::Batch none;
  grpc::Status empty = CreateBatch(te::OfficerA(), &none);
  EXPECT_EQ(empty.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(empty), "NOTHING_TO_PAY");
}

TEST_P(LedgerTest, NoticeAcknowledgementFollowUpAndGrievanceFormOneChain) {
  PayNeixiang();
  std::vector<pb::Payment> paid = Payments();
  ASSERT_FALSE(paid.empty());
  const pb::Payment* boarding = nullptr;
  for (const auto& p : paid) {
    if (p.programme_code() == "BOARDING_LIVING") boarding = &p;
  }
  ASSERT_NE(boarding, nullptr);

  pb::GetNoticeRequest nreq;
  nreq.set_payment_id(boarding->payment_id());
  pb::GetNoticeResponse notice;
  ASSERT_OK_CALL(Call(&Stub::GetNotice, te::OfficerA(), nreq, &notice));
  const pb::Notice& n = notice.notice();
  EXPECT_EQ(n.programme_name(), "义务教育家庭经济困难寄宿生生活补助");
  EXPECT_EQ(n.amount_fen(), 50000);
  EXPECT_EQ(n.amount_yuan(), "500.00");
  EXPECT_EQ(n.paid_on(), TodayCst());
  EXPECT_TRUE(n.payee_name() == "张小明" || n.payee_name() == "李小华");
  EXPECT_EQ(n.school_name(), "内乡县城关小学");
  EXPECT_THAT(n.notice_no(), ::testing::StartsWith("411325-2018A-"));
  EXPECT_FALSE(n.has_acknowledgement());
  const std::string letter = RenderNoticeText(n);
  EXPECT_THAT(letter, HasSubstr(n.payee_name()));
  EXPECT_THAT(letter, HasSubstr("伍佰元整"));
  pb::GetNoticeResponse agency_view;
  ASSERT_OK_CALL(Call(&Stub::GetNotice, te::Agency(), nreq, &agency_view));
  EXPECT_EQ(agency_view.notice().payee_name(), MaskName(n.payee_name()));

  // Reconciliation before: every paid notice is unacknowledged, no visit.
  pb::ReconcileRequest rreq;
  *rreq.mutable_term() = te::Autumn2018();
  rreq.set_region_prefix("411325");
  pb::ReconcileResponse before;
  ASSERT_OK_CALL(Call(&Stub::Reconcile, te::OfficerA(), rreq, &before));
  EXPECT_EQ(before.unacknowledged_notices().total(), te::kNeixiangEntitlements);
  EXPECT_EQ(before.without_follow_up().total(), te::kNeixiangEntitlements);
  EXPECT_EQ(before.paid_fen(), te::kNeixiangTotalFen);
  EXPECT_EQ(before.journal_paid_fen(), te::kNeixiangTotalFen);
  EXPECT_EQ(before.missing_entitlements().total(), 0);
  EXPECT_EQ(before.paid_not_eligible().total(), 0);

  pb::AcknowledgeNoticeRequest ack;
  ack.set_request_id(Rid("ack"));
  ack.set_payment_id(boarding->payment_id());
  ack.set_party(pb::ACK_PARTY_GUARDIAN);
  ack.set_method(pb::ACK_METHOD_SIGNATURE);
  ack.set_note("父亲签字");
  pb::AcknowledgeNoticeResponse acked;
  ASSERT_OK_CALL(Call(&Stub::AcknowledgeNotice, te::OfficerB(), ack, &acked));
  EXPECT_EQ(acked.notice().acknowledgement().acknowledged_on(), TodayCst());
  ack.set_request_id(Rid("ack"));
  grpc::Status twice =
      Call(&Stub::AcknowledgeNotice, te::OfficerB(), ack, &acked);
  EXPECT_EQ(Reason(twice), "ALREADY_ACKNOWLEDGED");
  ack.set_request_id(Rid("ack"));
  ack.set_acknowledged_on("2099-01-01");
  grpc::Status future =
      Call(&Stub::AcknowledgeNotice, te::OfficerB(), ack, &acked);
  EXPECT_EQ(future.error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  pb::RecordFollowUpRequest visit;
  visit.set_request_id(Rid("visit"));
  visit.set_payment_id(boarding->payment_id());
  visit.set_visitor("王老师");
  visit.set_outcome(pb::FOLLOW_UP_OUTCOME_NOT_RECEIVED);
  visit.set_note("家长说钱没有到卡上");
  pb::RecordFollowUpResponse visited;
  ASSERT_OK_CALL(Call(&Stub::RecordFollowUp, te::OfficerA(), visit, &visited));
  EXPECT_GT(visited.follow_up().grievance_id(), 0)
      << "money not received opens a grievance";
  EXPECT_EQ(visited.grievance().source(), pb::GRIEVANCE_SOURCE_FOLLOW_UP);

  pb::GetPaymentChainRequest creq;
  creq.set_payment_id(boarding->payment_id());
  pb::GetPaymentChainResponse chain;
  ASSERT_OK_CALL(Call(&Stub::GetPaymentChain, te::OfficerA(), creq, &chain));
  EXPECT_EQ(chain.payment().payment_id(), boarding->payment_id());
  EXPECT_EQ(chain.entitlement().payment_id(), boarding->payment_id());
  EXPECT_EQ(chain.notice().acknowledgement().note(), "父亲签字");
  ASSERT_EQ(chain.follow_ups_size(), 1);
  EXPECT_EQ(chain.follow_ups(0).note(), "家长说钱没有到卡上");
  ASSERT_EQ(chain.grievances_size(), 1);
  EXPECT_EQ(chain.grievances(0).state(), pb::GRIEVANCE_STATE_OPEN);
  EXPECT_THAT(chain.grievances(0).description(), HasSubstr("NOT_RECEIVED"));
  // Boarding is 50/25/25: three accruals and one disbursement.
  ASSERT_EQ(chain.journal_entries_size(), 4);
  EXPECT_EQ(chain.journal_entries(3).kind(), pb::ENTRY_KIND_DISBURSEMENT);
  EXPECT_EQ(chain.journal_entries(3).credit_account(), kBankPaidOut);

  pb::ResolveGrievanceRequest resolve;
  resolve.set_request_id(Rid("resolve"));
  resolve.set_grievance_id(chain.grievances(0).grievance_id());
  resolve.set_outcome(pb::GRIEVANCE_OUTCOME_UPHELD);
  resolve.set_resolution("银行卡号有误，已更正并补发");
  pb::ResolveGrievanceResponse resolved;
  ASSERT_OK_CALL(
      Call(&Stub::ResolveGrievance, te::OfficerB(), resolve, &resolved));
  EXPECT_EQ(resolved.grievance().state(), pb::GRIEVANCE_STATE_RESOLVED);
  resolve.set_request_id(Rid("resolve"));
  EXPECT_EQ(
      Reason(Call(&Stub::ResolveGrievance, te::OfficerB(), resolve, &resolved)),
      "GRIEVANCE_STATE");

  pb::ReconcileResponse after;
  ASSERT_OK_CALL(Call(&Stub::Reconcile, te::OfficerA(), rreq, &after));
  EXPECT_EQ(after.unacknowledged_notices().total(),
            te::kNeixiangEntitlements - 1);
  EXPECT_EQ(after.without_follow_up().total(), te::kNeixiangEntitlements - 1);
  for (const auto& item : after.unacknowledged_notices().items()) {
    EXPECT_NE(item.payment_id(), boarding->payment_id());
    EXPECT_EQ(item.days_open(), 0);
  }
}

TEST_P(LedgerTest, ReconciliationFindsTheGaps) {
  // Only boarding generated: the meals and senior high grants are missing.
  Generate(te::OfficerA(), "411325", {"BOARDING_LIVING"});
  // Paid to someone the registry does not list.
  pb::Entitlement stray = RaiseEntitlement("m-999999");
  pb::DisburseEntitlementRequest pay;
  pay.set_request_id(Rid("pay"));
  pay.set_entitlement_id(stray.entitlement_id());
  pb::DisburseEntitlementResponse paid;
  ASSERT_OK_CALL(Call(&Stub::DisburseEntitlement, te::OfficerB(), pay, &paid));

  pb::ReconcileRequest req;
  *req.mutable_term() = te::Autumn2018();
  req.set_as_of("2019-01-15");
  pb::ReconcileResponse r;
  grpc::Status st = Call(&Stub::Reconcile, te::OfficerA(), req, &r);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(r.region_prefix(), "411325");
  // 3 meals + 1 senior high grant + 1 senior high waiver.
  EXPECT_EQ(r.missing_entitlements().total(), 5);
  std::set<std::string> missing;
  for (const auto& item : r.missing_entitlements().items()) {
    missing.insert(item.programme_code());
    EXPECT_THAT(item.name(), ::testing::EndsWith("*"));
    EXPECT_FALSE(item.member_id().empty());
  }
  EXPECT_EQ(missing,
            (std::set<std::string>{"NUTRITION_MEALS", "SENIOR_HIGH_GRANT",
                                   "SENIOR_HIGH_FEE_WAIVER"}));
  ASSERT_EQ(r.paid_not_eligible().total(), 1);
  EXPECT_EQ(r.paid_not_eligible().items(0).payment_id(),
            paid.payment().payment_id());
  EXPECT_THAT(r.paid_not_eligible().items(0).detail(),
              HasSubstr("no longer listed"));
  // The two boarding entitlements are open past their due date 2018-11-30.
  ASSERT_EQ(r.unpaid_overdue().total(), 2);
  EXPECT_EQ(r.unpaid_overdue().items(0).since(), "2018-11-30");
  EXPECT_EQ(r.unpaid_overdue().items(0).days_open(), 46);
  EXPECT_EQ(r.paid_fen(), r.journal_paid_fen());
}

TEST_P(LedgerTest, AidFollowsAStudentWhoTransfers) {
  Generate();
  // The registry moves 李小华 to another primary school of the county.
  rpb::TransferStudentRequest move;
  move.set_request_id(
      absl::StrCat("transfer-", GetParam(), "-", time(nullptr)));
  move.set_id_number(registry_->IdOf("李小华"));
  rpb::GetStudentRequest get;
  get.set_id_number(registry_->IdOf("李小华"));
  rpb::GetStudentResponse current;
  {
    auto ctx = ClientContextWith(te::ProvinceOfficer());
    ASSERT_TRUE(registry_->stub().GetStudent(ctx.get(), get, &current).ok());
  }
  const std::string from = current.student().current_enrolment().school_code();
  const std::string to = from == "S411325A" ? "S411325C" : "S411325A";
  move.set_to_school_code(to);
  move.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
  move.set_grade(5);
  *move.mutable_term() = te::Autumn2018();
  move.set_reason("family moved");
  rpb::TransferStudentResponse moved;
  {
    auto ctx = ClientContextWith(te::ProvinceOfficer());
    grpc::Status st =
        registry_->stub().TransferStudent(ctx.get(), move, &moved);
    ASSERT_TRUE(st.ok()) << Describe(st);
  }
  const int64_t before = te::CountRows(db(), "entitlements");
  pb::GenerateEntitlementsResponse again = Generate(te::OfficerB());
  EXPECT_EQ(again.entitlements_created(), 0) << "no double entitlement";
  EXPECT_GE(again.carried_over(), 1);
  EXPECT_EQ(te::CountRows(db(), "entitlements"), before);
  pb::ListEntitlementsRequest list;
  list.set_member_id(registry_->MemberIdOf("李小华"));
  pb::ListEntitlementsResponse listed;
  ASSERT_OK_CALL(Call(&Stub::ListEntitlements, te::OfficerA(), list, &listed));
  ASSERT_FALSE(listed.entitlements().empty());
  for (const auto& e : listed.entitlements()) {
    EXPECT_EQ(e.school_code(), to) << "the unpaid aid moved with the student";
    EXPECT_THAT(e.reason(), HasSubstr("carried over from"));
    EXPECT_EQ(e.state(), pb::ENTITLEMENT_STATE_OPEN);
  }
  // Registry state is shared by the tests: move the student back.
  move.set_request_id(move.request_id() + "-back");
  move.set_to_school_code(from);
  auto ctx = ClientContextWith(te::ProvinceOfficer());
  ASSERT_TRUE(registry_->stub().TransferStudent(ctx.get(), move, &moved).ok());
}

TEST_P(LedgerTest, BadInputsAreRejectedWithTheFieldNamedAndNothingStored) {
  Generate();
  const auto before = Counts();
  struct Case {
    std::string name;
    std::function<void(pb::CreateEntitlementRequest&)> mutate;
    std::string field;
  };
  const int next_year = std::stoi(TodayCst().substr(0, 4)) + 3;
  std::vector<Case> cases = {
      {"negative amount", [](auto& r) { r.set_amount_fen(-1); }, "amount_fen"},
      {"overflowing amount", [](auto& r) { r.set_amount_fen(INT64_MAX); },
       "amount_fen"},
      {"above the standard", [](auto& r) { r.set_amount_fen(40001); },
       "amount_fen"},
      {"unknown programme",
       [](auto& r) { r.set_programme_code("NO_SUCH_PROGRAMME"); },
       "programme_code"},
      {"programme code syntax",
       [](auto& r) { r.set_programme_code("meals; DROP TABLE"); },
       "programme_code"},
      {"term before 2000", [](auto& r) { r.mutable_term()->set_year(1999); },
       "term.year"},
      {"term too far ahead",
       [next_year](auto& r) { r.mutable_term()->set_year(next_year); },
       "term.year"},
      {"term without season",
       [](auto& r) { r.mutable_term()->set_season(cpb::SEASON_UNSPECIFIED); },
       "term.season"},
      // Invalid UTF-8 cannot even be decoded as a proto3 message: the edge
      // names the request (the validator's own field names are checked
      // in-process below).
      {"invalid UTF-8 name",
       [](auto& r) { r.set_payee_name("\xe5\xbc\xa0\xff"); }, "request"},
      {"invalid UTF-8 reason",
       [](auto& r) { r.set_reason(std::string("ok\xc0\xaf", 4)); }, "request"},
      {"empty request id", [](auto& r) { r.set_request_id(""); }, "request_id"},
      {"bad request id", [](auto& r) { r.set_request_id("has space"); },
       "request_id"},
      {"long request id",
       [](auto& r) { r.set_request_id(std::string(65, 'a')); }, "request_id"},
      {"bad region", [](auto& r) { r.set_region_code("99132X"); },
       "region_code"},
      {"stage the programme lacks",
       [](auto& r) { r.set_stage(cpb::SCHOOL_STAGE_HIGHER); }, "stage"},
  };
  for (const Case& c : cases) {
    pb::CreateEntitlementRequest req;
    req.set_request_id(Rid("bad"));
    req.set_member_id("m-424242");
    req.set_programme_code("NUTRITION_MEALS");
    *req.mutable_term() = te::Autumn2018();
    req.set_region_code("411325");
    req.set_school_code("S411325A");
    req.set_school_name("内乡县城关小学");
    req.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
    req.set_grade(3);
    req.set_reason("manual");
    req.set_payee_name("赵小燕");
    c.mutate(req);
    pb::CreateEntitlementResponse resp;
    grpc::Status st =
        Call(&Stub::CreateEntitlement, te::OfficerA(), req, &resp);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << c.name << ": " << Describe(st);
    EXPECT_THAT(Fields(st), ::testing::Contains(c.field)) << c.name;
  }

  // In-process, past the wire: the validator names the text fields.
  {
    CallContext call;
    call.principal.subject = "officer-a";
    call.principal.role = Role::kCountyOfficer;
    call.principal.region = "411325";
    call.mutating = true;
    pb::CreateEntitlementRequest req;
    req.set_request_id("utf8-in-process");
    req.set_member_id("m-424242");
    req.set_programme_code("NUTRITION_MEALS");
    *req.mutable_term() = te::Autumn2018();
    req.set_region_code("411325");
    req.set_school_code("S411325A");
    req.set_school_name("内乡县\xff");
    req.set_stage(cpb::SCHOOL_STAGE_PRIMARY);
    req.set_reason(std::string("ok\xc0\xaf", 4));
    req.set_payee_name("\xe5\xbc\xa0\xff");
    pb::CreateEntitlementResponse resp;
    absl::Status st = logic().CreateEntitlement(call, req, &resp);
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
    std::vector<std::string> fields;
    for (const auto& v : FieldViolationsOf(st)) fields.push_back(v.field);
    const std::vector<std::string> utf8_fields = {"school_name", "reason",
                                                  "payee_name"};
    EXPECT_THAT(fields, ::testing::IsSupersetOf(utf8_fields));
  }

  // A policy with a negative or overflowing amount names the field.
  pb::LoadPolicyRequest policy;
  policy.set_request_id(Rid("policy"));
  policy.mutable_policy()->set_version("bad-1");
  auto* s = policy.mutable_policy()->add_standards();
  s->set_programme_code("NEW_GRANT");
  s->set_name("新补助");
  s->set_kind(pb::PROGRAMME_KIND_GRANT);
  s->set_schedule(pb::PAYMENT_SCHEDULE_PER_TERM);
  s->mutable_shares()->set_county_bp(10000);
  s->set_effective_from("2018-09-01");
  auto* rate = s->add_rates();
  rate->set_stage(cpb::SCHOOL_STAGE_PRIMARY);
  rate->set_yearly_fen(-100);
  auto* rate2 = s->add_rates();
  rate2->set_stage(cpb::SCHOOL_STAGE_JUNIOR_HIGH);
  rate2->set_yearly_fen(INT64_MAX);
  pb::LoadPolicyResponse loaded;
  grpc::Status bad_policy =
      Call(&Stub::LoadPolicy, te::ProvinceOfficer(), policy, &loaded);
  EXPECT_EQ(bad_policy.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const std::vector<std::string> policy_fields = {
      "policy.standards[0].rates[0].yearly_fen",
      "policy.standards[0].rates[1].yearly_fen"};
  EXPECT_THAT(Fields(bad_policy), ::testing::IsSupersetOf(policy_fields));

  // Batches: a bad term, a region outside the caller's scope.
  pb::CreateBatchRequest batch;
  batch.set_request_id(Rid("batch"));
  batch.mutable_term()->set_year(2018);
  batch.set_region_prefix("411325");
  pb::CreateBatchResponse created;
  grpc::Status no_season =
      Call(&Stub::CreateBatch, te::OfficerA(), batch, &created);
  EXPECT_THAT(Fields(no_season), ::testing::Contains("term.season"));
  *batch.mutable_term() = te::Autumn2018();
  batch.set_max_payments(-5);
  EXPECT_THAT(Fields(Call(&Stub::CreateBatch, te::OfficerA(), batch, &created)),
              ::testing::Contains("max_payments"));

  EXPECT_EQ(Counts(), before) << "a refused call stores nothing";

  // Same approver as creator: refused by principal, and the batch stays.
  pb::Batch b;
  ASSERT_TRUE(CreateBatch(te::OfficerA(), &b).ok());
  const auto with_batch = Counts();
  grpc::Status same = Approve(te::OfficerA(), b.batch_id());
  EXPECT_EQ(same.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(same), "SAME_APPROVER");
  EXPECT_EQ(Counts(), with_batch);
  pb::GetBatchRequest get;
  get.set_batch_id(b.batch_id());
  pb::GetBatchResponse got;
  ASSERT_OK_CALL(Call(&Stub::GetBatch, te::OfficerA(), get, &got));
  EXPECT_EQ(got.batch().state(), pb::BATCH_STATE_CREATED);
  EXPECT_TRUE(got.batch().approved_by().empty());
}

TEST_P(LedgerTest, AThousandConcurrentRetriesPayExactlyOnce) {
  pb::Entitlement e = RaiseEntitlement("m-500001");
  ASSERT_GT(e.entitlement_id(), 0);
  ASSERT_EQ(e.amount_fen(), 40000);

  // The raiser may not pay it (two-person rule on the single path).
  pb::DisburseEntitlementRequest mine;
  mine.set_request_id("pay-by-raiser");
  mine.set_entitlement_id(e.entitlement_id());
  pb::DisburseEntitlementResponse refused;
  grpc::Status self =
      Call(&Stub::DisburseEntitlement, te::OfficerA(), mine, &refused);
  EXPECT_EQ(Reason(self), "SAME_APPROVER");

  constexpr int kCalls = 1000;
  pb::DisburseEntitlementRequest req;
  req.set_request_id("pay-once-" + GetParam());
  req.set_entitlement_id(e.entitlement_id());
  struct Slot {
    grpc::ClientContext ctx;
    pb::DisburseEntitlementResponse resp;
    grpc::Status status;
  };
  std::vector<std::unique_ptr<Slot>> slots;
  const std::string token = te::OfficerB();
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto slot = std::make_unique<Slot>();
    slot->ctx.AddMetadata("authorization", "Bearer " + token);
    slot->ctx.set_deadline(std::chrono::system_clock::now() +
                           std::chrono::seconds(60));
    Slot* s = slot.get();
    slots.push_back(std::move(slot));
    stub_->async()->DisburseEntitlement(&s->ctx, &req, &s->resp,
                                        [s, &mu, &cv, &done](grpc::Status st) {
                                          s->status = std::move(st);
                                          std::lock_guard<std::mutex> l(mu);
                                          ++done;
                                          cv.notify_all();
                                        });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(90),
                            [&] { return done == kCalls; }));
  }
  std::set<int64_t> payment_ids;
  int ok = 0;
  for (const auto& s : slots) {
    if (s->status.ok()) {
      ++ok;
      payment_ids.insert(s->resp.payment().payment_id());
      EXPECT_EQ(s->resp.payment().amount_fen(), 40000);
    } else {
      ADD_FAILURE() << Describe(s->status);
    }
  }
  EXPECT_EQ(ok, kCalls);
  ASSERT_EQ(payment_ids.size(), 1u) << "every retry got the first answer";
  EXPECT_EQ(te::CountRows(db(), "payments"), 1);
  pb::ListJournalEntriesRequest jreq;
  jreq.set_payment_id(*payment_ids.begin());
  pb::ListJournalEntriesResponse entries;
  ASSERT_OK_CALL(
      Call(&Stub::ListJournalEntries, te::Auditor(), jreq, &entries));
  int disbursements = 0;
  for (const auto& j : entries.entries()) {
    if (j.kind() == pb::ENTRY_KIND_DISBURSEMENT) ++disbursements;
  }
  EXPECT_EQ(disbursements, 1);
  EXPECT_EQ(BalanceOf(TrialBalance(), kBankPaidOut), -40000);

  // A new request id for the same entitlement: already paid.
  req.set_request_id("pay-again-" + GetParam());
  pb::DisburseEntitlementResponse again;
  grpc::Status st =
      Call(&Stub::DisburseEntitlement, te::OfficerB(), req, &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(st), "ALREADY_PAID");
  // The first request id with a different payload: rejected.
  pb::Entitlement other = RaiseEntitlement("m-500002");
  req.set_request_id("pay-once-" + GetParam());
  req.set_entitlement_id(other.entitlement_id());
  st = Call(&Stub::DisburseEntitlement, te::OfficerB(), req, &again);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(st), "REQUEST_ID_REUSED");
  EXPECT_EQ(te::CountRows(db(), "payments"), 1);
  EXPECT_TRUE(Verify().ok());
}

TEST_P(LedgerTest, ConcurrentSinglePaymentsShareTransactions) {
  constexpr int kStudents = 40;
  std::vector<int64_t> ids;
  for (int i = 0; i < kStudents; ++i) {
    ids.push_back(RaiseEntitlement(absl::StrCat("m-6000", i)).entitlement_id());
  }
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kStudents; i += 8) {
        pb::DisburseEntitlementRequest req;
        req.set_request_id(absl::StrCat("single-", ids[i]));
        req.set_entitlement_id(ids[i]);
        pb::DisburseEntitlementResponse resp;
        if (Call(&Stub::DisburseEntitlement, te::OfficerB(), req, &resp).ok()) {
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kStudents);
  EXPECT_EQ(te::CountRows(db(), "payments"), kStudents);
  pb::VerifyJournalResponse v = Verify();
  EXPECT_TRUE(v.ok()) << v.problem();
  EXPECT_EQ(BalanceOf(TrialBalance(), kBankPaidOut), -40000 * kStudents);
  const std::string metrics =
      testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  EXPECT_EQ(
      testing::MetricValue(metrics, "eduaid_ledger_group_commit_size_sum", {}),
      kStudents)
      << "each payment went through the group committer once";
}

TEST_P(LedgerTest, TamperedJournalRowIsDetectedAtItsEntry) {
  PayNeixiang();
  pb::VerifyJournalResponse clean = Verify();
  ASSERT_TRUE(clean.ok()) << clean.problem();
  ASSERT_GT(clean.head_entry_id(), 6);
  const int64_t victim = clean.head_entry_id() / 2;
  const std::string tamper = absl::StrCat(
      "UPDATE journal SET amount_fen = amount_fen + 100 WHERE id = ", victim);
  if (GetParam() == "sqlite") {
    // Someone with the database file edits it with sqlite3 directly.
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open((dir_.path() + "/ledger.db").c_str(), &raw),
              SQLITE_OK);
    sqlite3_busy_timeout(raw, 5000);
    char* err = nullptr;
    EXPECT_NE(sqlite3_exec(raw, tamper.c_str(), nullptr, nullptr, &err),
              SQLITE_OK)
        << "the append-only trigger refuses updates";
    EXPECT_THAT(std::string(err ? err : ""), HasSubstr("append-only"));
    sqlite3_free(err);
    const std::string attack =
        "DROP TRIGGER journal_no_update; " + tamper + ";";
    ASSERT_EQ(sqlite3_exec(raw, attack.c_str(), nullptr, nullptr, nullptr),
              SQLITE_OK);
    sqlite3_close(raw);
  } else {
    auto outsider = Database::Open(url());
    ASSERT_TRUE(outsider.ok());
    absl::Status refused = (*outsider)->Transact(
        [&](SqlConnection& c) { return c.Execute(tamper).status(); });
    EXPECT_FALSE(refused.ok()) << "the append-only trigger refuses updates";
    ASSERT_TRUE((*outsider)
                    ->Transact([&](SqlConnection& c) {
                      absl::Status s = c.ExecScript(
                          "ALTER TABLE journal DISABLE TRIGGER "
                          "journal_append_only");
                      if (!s.ok()) return s;
                      return c.Execute(tamper).status();
                    })
                    .ok());
  }
  pb::VerifyJournalResponse broken = Verify();
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(broken.first_broken_entry_id(), victim);
  EXPECT_THAT(broken.problem(), HasSubstr("hash does not match"));
  EXPECT_EQ(broken.entries_checked(), victim - 1);
  const std::string metrics =
      testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  EXPECT_EQ(testing::MetricValue(
                metrics, "eduaid_ledger_journal_verify_failures_total", {}),
            1);
}

TEST_P(LedgerTest, ACountyOfficerCannotReachAnotherCounty) {
  pb::Batch paid = PayNeixiang();
  const std::string other = te::XichuanOfficer();
  pb::GetBatchRequest get;
  get.set_batch_id(paid.batch_id());
  pb::GetBatchResponse got;
  EXPECT_EQ(Call(&Stub::GetBatch, other, get, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::ApproveBatchRequest approve;
  approve.set_request_id(Rid("x"));
  approve.set_batch_id(paid.batch_id());
  pb::ApproveBatchResponse approved;
  EXPECT_EQ(Call(&Stub::ApproveBatch, other, approve, &approved).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  pb::ListEntitlementsRequest list;
  list.set_region_prefix("411325");
  pb::ListEntitlementsResponse listed;
  EXPECT_EQ(Call(&Stub::ListEntitlements, other, list, &listed).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "a list filter outside the scope is refused";
  list.set_region_prefix("");
  ASSERT_OK_CALL(Call(&Stub::ListEntitlements, other, list, &listed));
  EXPECT_EQ(listed.entitlements_size(), 0) << "the scope filters lists";
  pb::ListPaymentsRequest pay_list;
  pb::ListPaymentsResponse pay_listed;
  ASSERT_OK_CALL(Call(&Stub::ListPayments, other, pay_list, &pay_listed));
  EXPECT_EQ(pay_listed.payments_size(), 0);

  const std::vector<pb::Payment> payments = Payments();
  ASSERT_FALSE(payments.empty());
  pb::GetNoticeRequest notice;
  notice.set_payment_id(payments[0].payment_id());
  pb::GetNoticeResponse n;
  EXPECT_EQ(Call(&Stub::GetNotice, other, notice, &n).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::GetPaymentChainRequest chain;
  chain.set_payment_id(payments[0].payment_id());
  pb::GetPaymentChainResponse c;
  EXPECT_EQ(Call(&Stub::GetPaymentChain, other, chain, &c).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::Entitlement raised = RaiseEntitlement("m-700001");
  pb::DisburseEntitlementRequest pay;
  pay.set_request_id(Rid("x"));
  pay.set_entitlement_id(raised.entitlement_id());
  pb::DisburseEntitlementResponse p;
  EXPECT_EQ(Call(&Stub::DisburseEntitlement, other, pay, &p).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::GetTrialBalanceRequest tb;
  tb.set_region_prefix("411325");
  pb::GetTrialBalanceResponse tbr;
  EXPECT_EQ(Call(&Stub::GetTrialBalance, other, tb, &tbr).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // Xichuan pays its own student, and sees only that.
  Generate(other, "411326");
  pb::Batch theirs;
  ASSERT_TRUE(CreateBatch(other, &theirs, "411326").ok());
  EXPECT_EQ(theirs.payment_count(), 2);
  EXPECT_EQ(Approve(te::OfficerB(), theirs.batch_id()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  pb::ListBatchesRequest batches;
  pb::ListBatchesResponse bl;
  ASSERT_OK_CALL(Call(&Stub::ListBatches, other, batches, &bl));
  ASSERT_EQ(bl.batches_size(), 1);
  EXPECT_EQ(bl.batches(0).batch_id(), theirs.batch_id());
  // Read-only roles cannot write at all.
  EXPECT_EQ(Approve(te::Auditor(), theirs.batch_id()).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_P(LedgerTest, StandardsAreVersionedAndNeverRewritten) {
  auto policy = ReadPolicyFile(LEDGER_POLICY_FILE);
  ASSERT_TRUE(policy.ok());
  pb::LoadPolicyRequest req;
  req.set_request_id(Rid("policy"));
  *req.mutable_policy() = *policy;
  pb::LoadPolicyResponse resp;
  EXPECT_EQ(Call(&Stub::LoadPolicy, te::OfficerA(), req, &resp).error_code(),
            grpc::StatusCode::PERMISSION_DENIED)
      << "standards are provincial";
  ASSERT_OK_CALL(Call(&Stub::LoadPolicy, te::ProvinceOfficer(), req, &resp));
  EXPECT_EQ(resp.standards_created(), 0);
  EXPECT_EQ(resp.standards_unchanged(), 13);

  // An entitlement of 2024 is computed from the 2015 standard.
  pb::CreateEntitlementRequest ent;
  ent.set_request_id(Rid("ent"));
  ent.set_member_id("m-800001");
  ent.set_programme_code("SENIOR_HIGH_GRANT");
  *ent.mutable_term() = te::Term(2024, cpb::SEASON_AUTUMN);
  ent.set_region_code("411325");
  ent.set_school_code("S411325B");
  ent.set_school_name("内乡县高级中学");
  ent.set_stage(cpb::SCHOOL_STAGE_SENIOR_HIGH);
  ent.set_grade(2);
  ent.set_reason("manual");
  ent.set_payee_name("孙小丽");
  pb::CreateEntitlementResponse old_one;
  ASSERT_OK_CALL(Call(&Stub::CreateEntitlement, te::OfficerA(), ent, &old_one));
  EXPECT_EQ(old_one.entitlement().standard_id(),
            "SENIOR_HIGH_GRANT@2015-09-01");
  EXPECT_EQ(old_one.entitlement().amount_fen(), 100000);

  // Changing a loaded standard is refused; a new version is accepted.
  pb::LoadPolicyRequest change;
  change.set_request_id(Rid("policy"));
  change.mutable_policy()->set_version("henan-2018-edit");
  for (const auto& s : policy->standards()) {
    if (StandardId(s) == "SENIOR_HIGH_GRANT@2015-09-01") {
      pb::ProgrammeStandard edited = s;
      edited.mutable_rates(0)->set_yearly_fen(250000);
      *change.mutable_policy()->add_standards() = edited;
    }
  }
  grpc::Status refused =
      Call(&Stub::LoadPolicy, te::ProvinceOfficer(), change, &resp);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(refused), "STANDARD_IMMUTABLE");
  change.set_request_id(Rid("policy"));
  change.mutable_policy()->mutable_standards(0)->set_effective_from(
      "2026-02-01");
  change.mutable_policy()->mutable_standards(0)->clear_effective_to();
  ASSERT_OK_CALL(Call(&Stub::LoadPolicy, te::ProvinceOfficer(), change, &resp));
  EXPECT_EQ(resp.created_standard_ids(0), "SENIOR_HIGH_GRANT@2026-02-01");

  pb::ListProgrammesRequest in_2025;
  *in_2025.mutable_term() = te::Term(2025, cpb::SEASON_AUTUMN);
  pb::ListProgrammesResponse programmes;
  ASSERT_OK_CALL(
      Call(&Stub::ListProgrammes, te::Agency(), in_2025, &programmes));
  int senior = 0;
  for (const auto& s : programmes.standards()) {
    if (s.programme_code() == "SENIOR_HIGH_GRANT") {
      ++senior;
      EXPECT_EQ(s.standard_id(), "SENIOR_HIGH_GRANT@2025-02-01");
      EXPECT_EQ(s.rates(0).yearly_fen(), 230000);
    }
  }
  EXPECT_EQ(senior, 1) << "one standard in effect per programme and term";
  pb::ListProgrammesResponse everything;
  ASSERT_OK_CALL(Call(&Stub::ListProgrammes, te::Agency(),
                      pb::ListProgrammesRequest(), &everything));
  EXPECT_EQ(everything.standards_size(), 14);

  // The old entitlement kept its standard and amount.
  pb::ListEntitlementsRequest list;
  list.set_member_id("m-800001");
  pb::ListEntitlementsResponse listed;
  ASSERT_OK_CALL(Call(&Stub::ListEntitlements, te::OfficerA(), list, &listed));
  ASSERT_EQ(listed.entitlements_size(), 1);
  EXPECT_EQ(listed.entitlements(0).amount_fen(), 100000);
  EXPECT_EQ(listed.entitlements(0).standard_id(),
            "SENIOR_HIGH_GRANT@2015-09-01");

  // Exclusive programmes: a second higher-education grant is refused.
  ent.set_request_id(Rid("ent"));
  ent.set_member_id("m-800002");
  ent.set_programme_code("HIGHER_GRANT_UNDERGRADUATE");
  *ent.mutable_term() = te::Autumn2018();
  ent.set_stage(cpb::SCHOOL_STAGE_HIGHER);
  ASSERT_OK_CALL(Call(&Stub::CreateEntitlement, te::OfficerA(), ent, &old_one));
  EXPECT_EQ(old_one.entitlement().amount_fen(), 200000);
  ent.set_request_id(Rid("ent"));
  ent.set_programme_code("HIGHER_GRANT_MASTER");
  grpc::Status exclusive =
      Call(&Stub::CreateEntitlement, te::OfficerA(), ent, &old_one);
  EXPECT_EQ(Reason(exclusive), "EXCLUSIVE_PROGRAMME");
}

TEST_P(LedgerTest, PublicPostingMasksNamesAndTurnsObjectionsIntoGrievances) {
  Generate();
  pb::CreatePostingRequest req;
  req.set_request_id(Rid("post"));
  req.set_school_code("S411325A");
  *req.mutable_term() = te::Autumn2018();
  pb::CreatePostingResponse posted;
  grpc::Status st = Call(&Stub::CreatePosting, te::OfficerA(), req, &posted);
  ASSERT_TRUE(st.ok()) << Describe(st);
  const pb::Posting& p = posted.posting();
  // 张小明 (boarding + meals), 张小红 (meals), 李小华 (boarding + meals).
  ASSERT_EQ(p.lines_size(), 5);
  EXPECT_EQ(p.total_fen(), 2 * 50000 + 3 * 40000);
  EXPECT_EQ(p.region_code(), "411325");
  EXPECT_EQ(p.school_name(), "内乡县城关小学");
  EXPECT_EQ(p.published_on(), TodayCst());
  EXPECT_EQ(p.objection_until(), AddDays(TodayCst(), 7));
  std::set<std::string> names;
  for (const auto& line : p.lines()) names.insert(line.name());
  EXPECT_EQ(names, (std::set<std::string>{"张**", "李**"}));
  const std::string wire = p.SerializeAsString();
  for (const char* student : {"张小明", "张小红", "李小华"}) {
    EXPECT_EQ(wire.find(student), std::string::npos) << "full name posted";
    EXPECT_EQ(wire.find(registry_->IdOf(student)), std::string::npos)
        << "ID number posted";
    EXPECT_EQ(wire.find(registry_->IdOf(student).substr(6, 8)),
              std::string::npos)
        << "birth date posted";
  }

  pb::FileObjectionRequest objection;
  objection.set_request_id(Rid("obj"));
  objection.set_posting_id(p.posting_id());
  objection.set_line_no(2);
  objection.set_description("该生家庭已脱贫，不应享受");
  pb::FileObjectionResponse filed;
  st = Call(&Stub::FileObjection, te::OfficerB(), objection, &filed);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(filed.grievance().source(), pb::GRIEVANCE_SOURCE_POSTING_OBJECTION);
  EXPECT_EQ(filed.grievance().posting_id(), p.posting_id());
  EXPECT_EQ(filed.grievance().posting_line(), 2);
  EXPECT_GT(filed.grievance().entitlement_id(), 0);
  objection.set_request_id(Rid("obj"));
  objection.set_line_no(99);
  EXPECT_THAT(
      Fields(Call(&Stub::FileObjection, te::OfficerB(), objection, &filed)),
      ::testing::Contains("line_no"));

  pb::GetPostingRequest get;
  get.set_posting_id(p.posting_id());
  pb::GetPostingResponse again;
  ASSERT_OK_CALL(Call(&Stub::GetPosting, te::Agency(), get, &again));
  EXPECT_EQ(again.posting().objections(), 1);
  EXPECT_EQ(
      Call(&Stub::GetPosting, te::XichuanOfficer(), get, &again).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);

  pb::ListGrievancesRequest list;
  list.set_state(pb::GRIEVANCE_STATE_OPEN);
  pb::ListGrievancesResponse listed;
  ASSERT_OK_CALL(Call(&Stub::ListGrievances, te::OfficerA(), list, &listed));
  ASSERT_EQ(listed.grievances_size(), 1);
  EXPECT_EQ(listed.grievances(0).description(), "该生家庭已脱贫，不应享受");
  ASSERT_OK_CALL(Call(&Stub::ListGrievances, te::Agency(), list, &listed));
  EXPECT_EQ(listed.grievances(0).description(), "(hidden)");
}

TEST_P(LedgerTest, CorrectionsAreReversalsAndCancelledEntitlementsFail) {
  pb::Entitlement e = RaiseEntitlement("m-900001");
  pb::DisburseEntitlementRequest pay;
  pay.set_request_id(Rid("pay"));
  pay.set_entitlement_id(e.entitlement_id());
  pb::DisburseEntitlementResponse paid;
  ASSERT_OK_CALL(Call(&Stub::DisburseEntitlement, te::OfficerB(), pay, &paid));
  const int64_t journal_before = te::CountRows(db(), "journal");

  pb::ReversePaymentRequest rev;
  rev.set_request_id(Rid("rev"));
  rev.set_payment_id(paid.payment().payment_id());
  rev.set_reason("not a registered student: found in reconciliation");
  pb::ReversePaymentResponse reversed;
  grpc::Status st = Call(&Stub::ReversePayment, te::OfficerA(), rev, &reversed);
  ASSERT_TRUE(st.ok()) << Describe(st);
  EXPECT_EQ(reversed.payment().state(), pb::PAYMENT_STATE_REVERSED);
  // Meals are 100% central: one accrual and one disbursement, mirrored.
  ASSERT_EQ(reversed.reversal_entries_size(), 2);
  for (const auto& r : reversed.reversal_entries()) {
    EXPECT_EQ(r.kind(), pb::ENTRY_KIND_REVERSAL);
    EXPECT_GT(r.reverses_entry_id(), 0);
    EXPECT_LE(r.reverses_entry_id(), journal_before);
  }
  EXPECT_EQ(reversed.reversal_entries(1).debit_account(), kBankPaidOut);
  EXPECT_EQ(te::CountRows(db(), "journal"), journal_before + 2)
      << "corrections append, never edit";
  pb::GetTrialBalanceResponse tb = TrialBalance();
  EXPECT_TRUE(tb.balanced());
  EXPECT_EQ(BalanceOf(tb, kBankPaidOut), 0);
  EXPECT_EQ(BalanceOf(tb, "fund.central"), 0);
  EXPECT_TRUE(Verify().ok());
  rev.set_request_id(Rid("rev"));
  EXPECT_EQ(Reason(Call(&Stub::ReversePayment, te::OfficerA(), rev, &reversed)),
            "PAYMENT_STATE");
  pb::DisburseEntitlementRequest repay;
  repay.set_request_id(Rid("pay"));
  repay.set_entitlement_id(e.entitlement_id());
  EXPECT_EQ(
      Reason(Call(&Stub::DisburseEntitlement, te::OfficerB(), repay, &paid)),
      "ENTITLEMENT_STATE")
      << "the reversed entitlement is cancelled";

  // An entitlement cancelled after batching fails at execution.
  Generate();
  pb::Batch batch;
  ASSERT_TRUE(CreateBatch(te::OfficerA(), &batch).ok());
  pb::ListEntitlementsRequest list;
  list.set_state(pb::ENTITLEMENT_STATE_BATCHED);
  pb::ListEntitlementsResponse batched;
  ASSERT_OK_CALL(Call(&Stub::ListEntitlements, te::OfficerA(), list, &batched));
  ASSERT_EQ(batched.entitlements_size(), te::kNeixiangEntitlements);
  pb::CancelEntitlementRequest cancel;
  cancel.set_request_id(Rid("cancel"));
  cancel.set_entitlement_id(batched.entitlements(0).entitlement_id());
  cancel.set_reason("家庭已脱贫且不在过渡期");
  pb::CancelEntitlementResponse cancelled;
  ASSERT_OK_CALL(
      Call(&Stub::CancelEntitlement, te::OfficerA(), cancel, &cancelled));
  ASSERT_TRUE(Approve(te::OfficerB(), batch.batch_id()).ok());
  ASSERT_TRUE(Execute(te::OfficerB(), batch.batch_id()).ok());
  pb::Batch done = WaitExecuted(batch.batch_id());
  EXPECT_EQ(done.failed_count(), 1);
  EXPECT_EQ(done.paid_count(), te::kNeixiangEntitlements - 1);
  EXPECT_EQ(done.paid_fen(),
            te::kNeixiangTotalFen - batched.entitlements(0).amount_fen());
  std::vector<pb::Payment> failed =
      Payments(te::OfficerA(), pb::PAYMENT_STATE_FAILED);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_THAT(failed[0].failure_reason(), HasSubstr("cancelled"));
  const std::string metrics =
      testing::HttpGet(host_->runner().metrics_port(), "/metrics");
  EXPECT_EQ(
      testing::MetricValue(metrics, "eduaid_ledger_payment_failures_total",
                           {"reason=\"entitlement_cancelled\""}),
      1);

  // A cancelled batch gives its entitlements back.
  pb::Entitlement late = RaiseEntitlement("m-900002");
  pb::Batch second;
  ASSERT_TRUE(CreateBatch(te::OfficerA(), &second).ok());
  EXPECT_EQ(second.payment_count(), 1);
  pb::CancelBatchRequest drop;
  drop.set_request_id(Rid("drop"));
  drop.set_batch_id(second.batch_id());
  drop.set_reason("wrong bank file");
  pb::CancelBatchResponse dropped;
  ASSERT_OK_CALL(Call(&Stub::CancelBatch, te::OfficerB(), drop, &dropped));
  EXPECT_EQ(dropped.batch().state(), pb::BATCH_STATE_CANCELLED);
  pb::DisburseEntitlementRequest single;
  single.set_request_id(Rid("pay"));
  single.set_entitlement_id(late.entitlement_id());
  EXPECT_OK_CALL(
      Call(&Stub::DisburseEntitlement, te::OfficerB(), single, &paid));
}

TEST_P(LedgerTest, TheAuditLogRecordsChangesAndIsForAuditors) {
  PayNeixiang();
  pb::ListAuditEventsRequest req;
  req.set_method("ApproveBatch");
  pb::ListAuditEventsResponse resp;
  EXPECT_EQ(
      Call(&Stub::ListAuditEvents, te::OfficerA(), req, &resp).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  ASSERT_OK_CALL(Call(&Stub::ListAuditEvents, te::Auditor(), req, &resp));
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).subject(), "officer-b");
  EXPECT_EQ(resp.events(0).result(), "OK");
  EXPECT_THAT(resp.events(0).records(), HasSubstr("batch:"));
}

}  // namespace
}  // namespace eduaid::ledger
