// The household view (GetHouseholds) against a real registry_server, and
// follow-ups recorded by a service (the teacher service's visit) with their
// source: on SQLite files and on PostgreSQL.
#include <map>
#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/testing/service_testing.h"
#include "services/common/validate.h"
#include "services/ledger/tests/ledger_test_env.h"

namespace eduaid::ledger {
namespace {

namespace te = ::eduaid::ledger::testenv;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Stub = pb::SubsidyLedgerService::Stub;

// The teacher service's own token (role service, every region).
std::string TeacherService() {
  return ::eduaid::testing::TestToken(Role::kService, "", 3600, "teacher");
}

class HouseholdTest : public te::LedgerFixture {
 protected:
  grpc::Status Households(const std::string& token,
                          std::vector<std::string> ids,
                          pb::GetHouseholdsResponse* resp,
                          const cpb::Term* term = nullptr) {
    pb::GetHouseholdsRequest req;
    for (auto& id : ids) req.add_household_ids(id);
    if (term != nullptr) *req.mutable_term() = *term;
    return Call(&Stub::GetHouseholds, token, req, resp);
  }

  // A paid payment of the seeded student `name` in `programme`.
  pb::Payment PaymentOf(const std::string& name, const std::string& programme) {
    pb::ListPaymentsRequest req;
    req.set_member_id(registry_->MemberIdOf(name));
    req.set_programme_code(programme);
    pb::ListPaymentsResponse resp;
    EXPECT_OK_CALL(Call(&Stub::ListPayments, te::OfficerA(), req, &resp));
    EXPECT_EQ(resp.payments_size(), 1) << name << " " << programme;
    return resp.payments_size() > 0 ? resp.payments(0) : pb::Payment();
  }

  std::map<std::string, int64_t> Counts() {
    std::map<std::string, int64_t> out;
    for (const char* t : {"grievances", "follow_ups", "request_log"}) {
      out[t] = te::CountRows(db(), t);
    }
    return out;
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, HouseholdTest, testing::Backends(),
                         [](const auto& info) { return info.param; });

TEST_P(HouseholdTest, AHouseholdsPaymentsFollowUpsAndGrievancesAreAllThere) {
  PayNeixiang();
  const pb::Payment boarding = PaymentOf("张小明", "BOARDING_LIVING");
  const pb::Payment grant = PaymentOf("张小刚", "SENIOR_HIGH_GRANT");
  pb::RecordFollowUpRequest visit;
  visit.set_request_id(Rid("visit"));
  visit.set_payment_id(boarding.payment_id());
  visit.set_visitor("王老师");
  visit.set_outcome(pb::FOLLOW_UP_OUTCOME_NOT_RECEIVED);
  visit.set_note("家长说钱没有到卡上");
  pb::RecordFollowUpResponse visited;
  ASSERT_OK_CALL(Call(&Stub::RecordFollowUp, te::OfficerA(), visit, &visited));
  pb::AcknowledgeNoticeRequest ack;
  ack.set_request_id(Rid("ack"));
  ack.set_payment_id(grant.payment_id());
  ack.set_party(pb::ACK_PARTY_STUDENT);
  ack.set_method(pb::ACK_METHOD_SIGNATURE);
  pb::AcknowledgeNoticeResponse acked;
  ASSERT_OK_CALL(Call(&Stub::AcknowledgeNotice, te::OfficerA(), ack, &acked));

  pb::GetHouseholdsResponse resp;
  ASSERT_OK_CALL(Households(te::OfficerA(),
                            {"HH-411325-002", "HH-NOBODY", "HH-411325-001"},
                            &resp));
  ASSERT_EQ(resp.households_size(), 2);
  EXPECT_THAT(resp.not_found(), ElementsAre("HH-NOBODY"));
  const pb::HouseholdLedger& li = resp.households(0);
  const pb::HouseholdLedger& zhang = resp.households(1);
  EXPECT_EQ(li.household_id(), "HH-411325-002");
  EXPECT_EQ(zhang.household_id(), "HH-411325-001");
  EXPECT_EQ(zhang.region_code(), "411325");
  const std::set<std::string> members(zhang.member_ids().begin(),
                                      zhang.member_ids().end());
  EXPECT_EQ(members, (std::set<std::string>{registry_->MemberIdOf("张小明"),
                                            registry_->MemberIdOf("张小红"),
                                            registry_->MemberIdOf("张小刚")}));
  // Boarding + meals (张小明), meals (张小红), grant + fee waiver (张小刚);
  // everything but the waiver paid, each with its notice.
  EXPECT_EQ(zhang.entitlements_size(), 5);
  EXPECT_EQ(zhang.payments_size(), 4);
  EXPECT_EQ(zhang.notices_size(), 4);
  EXPECT_EQ(li.entitlements_size(), 2);
  EXPECT_EQ(li.payments_size(), 2);
  EXPECT_EQ(zhang.payments_size() + li.payments_size(),
            te::kNeixiangEntitlements);
  for (const auto& p : zhang.payments()) {
    EXPECT_TRUE(members.count(p.member_id())) << p.member_id();
    EXPECT_TRUE(p.payee_name() == "张小明" || p.payee_name() == "张小红" ||
                p.payee_name() == "张小刚")
        << "officers read names in full: " << p.payee_name();
  }
  int acknowledged = 0;
  for (const auto& n : zhang.notices()) {
    if (n.has_acknowledgement()) {
      ++acknowledged;
      EXPECT_EQ(n.payment_id(), grant.payment_id());
    }
  }
  EXPECT_EQ(acknowledged, 1);
  ASSERT_EQ(zhang.follow_ups_size(), 1);
  EXPECT_EQ(zhang.follow_ups(0).payment_id(), boarding.payment_id());
  EXPECT_EQ(zhang.follow_ups(0).note(), "家长说钱没有到卡上");
  ASSERT_EQ(zhang.grievances_size(), 1);
  EXPECT_EQ(zhang.grievances(0).payment_id(), boarding.payment_id());
  EXPECT_EQ(zhang.grievances(0).source(), pb::GRIEVANCE_SOURCE_FOLLOW_UP);
  EXPECT_EQ(li.follow_ups_size(), 0);
  EXPECT_EQ(li.grievances_size(), 0);

  // Only the term asked for.
  const cpb::Term spring = te::Term(2019, cpb::SEASON_SPRING);
  pb::GetHouseholdsResponse later;
  ASSERT_OK_CALL(
      Households(te::OfficerA(), {"HH-411325-001"}, &later, &spring));
  ASSERT_EQ(later.households_size(), 1);
  EXPECT_EQ(later.households(0).member_ids_size(), 3);
  EXPECT_EQ(later.households(0).payments_size(), 0);
  EXPECT_EQ(later.households(0).follow_ups_size(), 0);

  // An agency reads masked names and no free text.
  pb::GetHouseholdsResponse agency;
  ASSERT_OK_CALL(Households(te::Agency(), {"HH-411325-001"}, &agency));
  ASSERT_EQ(agency.households_size(), 1);
  for (const auto& p : agency.households(0).payments()) {
    EXPECT_EQ(p.payee_name(), MaskName(p.payee_name())) << p.payee_name();
    EXPECT_NE(p.payee_name(), "张小明");
  }
  ASSERT_EQ(agency.households(0).follow_ups_size(), 1);
  EXPECT_EQ(agency.households(0).follow_ups(0).note(), "(hidden)");
}

TEST_P(HouseholdTest, AnotherCountysOfficerGetsNotFound) {
  PayNeixiang();
  pb::GetHouseholdsResponse resp;
  ASSERT_OK_CALL(Households(te::XichuanOfficer(),
                            {"HH-411325-001", "HH-411326-001"}, &resp));
  ASSERT_EQ(resp.households_size(), 1);
  EXPECT_EQ(resp.households(0).household_id(), "HH-411326-001");
  EXPECT_THAT(resp.not_found(), ElementsAre("HH-411325-001"));
}

TEST_P(HouseholdTest, BadHouseholdIdsAreRejectedWithTheFieldNamed) {
  pb::GetHouseholdsResponse resp;
  grpc::Status none = Households(te::OfficerA(), {}, &resp);
  EXPECT_EQ(none.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(te::Fields(none), ElementsAre("household_ids"));
  grpc::Status twice =
      Households(te::OfficerA(), {"HH-411325-001", "HH-411325-001"}, &resp);
  EXPECT_EQ(twice.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(te::Fields(twice), ElementsAre("household_ids[1]"));
  grpc::Status bad = Households(te::OfficerA(), {"户 1"}, &resp);
  EXPECT_THAT(te::Fields(bad), ElementsAre("household_ids[0]"));
  std::vector<std::string> many;
  for (int i = 0; i < 101; ++i) many.push_back(absl::StrCat("HH-", i));
  grpc::Status too_many = Households(te::OfficerA(), many, &resp);
  EXPECT_THAT(te::Fields(too_many), ElementsAre("household_ids"));
  pb::GetHouseholdsRequest req;
  req.add_household_ids("HH-411325-001");
  req.mutable_term()->set_year(1999);
  req.mutable_term()->set_season(cpb::SEASON_AUTUMN);
  grpc::Status term = Call(&Stub::GetHouseholds, te::OfficerA(), req, &resp);
  EXPECT_EQ(term.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(HouseholdTest, AServicesNotReceivedFollowUpOpensOneGrievanceOnce) {
  PayNeixiang();
  const pb::Payment boarding = PaymentOf("李小华", "BOARDING_LIVING");
  pb::RecordFollowUpRequest visit;
  visit.set_request_id("teacher-visit-12-finding-1");
  visit.set_payment_id(boarding.payment_id());
  visit.set_visitor("t-12");
  visit.set_outcome(pb::FOLLOW_UP_OUTCOME_NOT_RECEIVED);
  visit.set_note("生活补助没有收到");
  visit.set_source_ref("teacher visit 12");
  const auto before = Counts();
  pb::RecordFollowUpResponse first;
  ASSERT_OK_CALL(
      Call(&Stub::RecordFollowUp, TeacherService(), visit, &first));
  EXPECT_EQ(first.follow_up().source_ref(), "teacher visit 12");
  EXPECT_EQ(first.follow_up().recorded_by(), "teacher");
  EXPECT_EQ(first.grievance().payment_id(), boarding.payment_id());
  EXPECT_EQ(first.grievance().source(), pb::GRIEVANCE_SOURCE_FOLLOW_UP);
  EXPECT_EQ(first.follow_up().grievance_id(), first.grievance().grievance_id());
  auto after = Counts();
  EXPECT_EQ(after["grievances"], before.at("grievances") + 1);
  EXPECT_EQ(after["follow_ups"], before.at("follow_ups") + 1);

  // The outbox delivers again with the same request id: the same answer,
  // nothing more stored.
  pb::RecordFollowUpResponse again;
  ASSERT_OK_CALL(
      Call(&Stub::RecordFollowUp, TeacherService(), visit, &again));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(Counts(), after);

  // The chain and the household both show where the follow-up came from.
  pb::GetPaymentChainRequest creq;
  creq.set_payment_id(boarding.payment_id());
  pb::GetPaymentChainResponse chain;
  ASSERT_OK_CALL(Call(&Stub::GetPaymentChain, te::OfficerA(), creq, &chain));
  ASSERT_EQ(chain.follow_ups_size(), 1);
  EXPECT_EQ(chain.follow_ups(0).source_ref(), "teacher visit 12");
  EXPECT_EQ(chain.follow_ups(0).note(), "生活补助没有收到");
  ASSERT_EQ(chain.grievances_size(), 1);
  pb::GetHouseholdsResponse hh;
  ASSERT_OK_CALL(Households(TeacherService(), {"HH-411325-002"}, &hh));
  ASSERT_EQ(hh.households_size(), 1);
  ASSERT_EQ(hh.households(0).follow_ups_size(), 1);
  EXPECT_EQ(hh.households(0).follow_ups(0).source_ref(), "teacher visit 12");
  ASSERT_EQ(hh.households(0).grievances_size(), 1);

  // A service may open a grievance directly too.
  pb::OpenGrievanceRequest open;
  open.set_request_id("teacher-visit-12-finding-2");
  open.set_payment_id(boarding.payment_id());
  open.set_description("家访发现: 银行卡已挂失");
  pb::OpenGrievanceResponse opened;
  ASSERT_OK_CALL(Call(&Stub::OpenGrievance, TeacherService(), open, &opened));
  EXPECT_EQ(opened.grievance().opened_by(), "teacher");
}

TEST_P(HouseholdTest, ABadSourceRefIsRejectedAndNothingStored) {
  PayNeixiang();
  const pb::Payment boarding = PaymentOf("张小明", "BOARDING_LIVING");
  pb::RecordFollowUpRequest visit;
  visit.set_request_id(Rid("visit"));
  visit.set_payment_id(boarding.payment_id());
  visit.set_visitor("t-12");
  visit.set_outcome(pb::FOLLOW_UP_OUTCOME_NOT_RECEIVED);
  visit.set_source_ref(std::string(101, 'x'));
  const auto before = Counts();
  pb::RecordFollowUpResponse resp;
  grpc::Status st = Call(&Stub::RecordFollowUp, TeacherService(), visit, &resp);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(te::Fields(st), ElementsAre("source_ref"));
  // Invalid UTF-8 cannot be decoded as a proto3 message at all: the edge
  // names the request.
  visit.set_source_ref("家访 \xff");
  st = Call(&Stub::RecordFollowUp, TeacherService(), visit, &resp);
  EXPECT_THAT(te::Fields(st), ElementsAre("request"));
  // A control character is refused by the validator.
  visit.set_source_ref("teacher\tvisit");
  st = Call(&Stub::RecordFollowUp, TeacherService(), visit, &resp);
  EXPECT_THAT(te::Fields(st), ElementsAre("source_ref"));
  EXPECT_EQ(Counts(), before);
  // 100 Chinese characters pass intact.
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "访";
  visit.set_source_ref(hundred);
  ASSERT_OK_CALL(Call(&Stub::RecordFollowUp, TeacherService(), visit, &resp));
  EXPECT_EQ(resp.follow_up().source_ref(), hundred);
}

}  // namespace
}  // namespace eduaid::ledger
