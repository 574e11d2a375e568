// Unit tests of the pure parts: the policy file and its rules, terms,
// amounts and funding splits, money formats, and the journal's hashing.
#include "services/ledger/policy.h"

#include <climits>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"
#include "services/ledger/journal.h"
#include "services/ledger/notice/notice_format.h"

namespace eduaid::ledger {
namespace {

using ::testing::HasSubstr;

cpb::Term T(int year, cpb::Season s) {
  cpb::Term t;
  t.set_year(year);
  t.set_season(s);
  return t;
}

std::vector<std::string> Fields(const absl::Status& s) {
  std::vector<std::string> out;
  for (const auto& v : FieldViolationsOf(s)) out.push_back(v.field);
  return out;
}

TEST(PolicyFile, TheRepositoryPolicyParsesAndValidates) {
  auto policy = ReadPolicyFile(LEDGER_POLICY_FILE);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(ValidatePolicy(*policy).ok()) << ValidatePolicy(*policy);
  EXPECT_EQ(policy->version(), "henan-2018");
  std::vector<pb::ProgrammeStandard> list(policy->standards().begin(),
                                          policy->standards().end());
  // The 2018 figures of DOMAIN.md, per term.
  const auto* boarding =
      StandardFor(list, "BOARDING_LIVING", T(2018, cpb::SEASON_AUTUMN));
  ASSERT_NE(boarding, nullptr);
  EXPECT_EQ(AmountForTerm(*boarding, cpb::SCHOOL_STAGE_PRIMARY, true,
                          T(2018, cpb::SEASON_AUTUMN)),
            50000);
  EXPECT_EQ(AmountForTerm(*boarding, cpb::SCHOOL_STAGE_JUNIOR_HIGH, true,
                          T(2019, cpb::SEASON_SPRING)),
            62500);
  EXPECT_EQ(AmountForTerm(*boarding, cpb::SCHOOL_STAGE_PRIMARY, false,
                          T(2018, cpb::SEASON_AUTUMN)),
            0)
      << "boarders only";
  const auto* meals =
      StandardFor(list, "NUTRITION_MEALS", T(2018, cpb::SEASON_AUTUMN));
  ASSERT_NE(meals, nullptr);
  EXPECT_EQ(AmountForTerm(*meals, cpb::SCHOOL_STAGE_PRIMARY, false,
                          T(2018, cpb::SEASON_AUTUMN)) +
                AmountForTerm(*meals, cpb::SCHOOL_STAGE_PRIMARY, false,
                              T(2019, cpb::SEASON_SPRING)),
            80000)
      << "4 yuan a day for 200 days";
}

TEST(PolicyFile, VersionedStandardsPickTheOneInEffect) {
  auto policy = ReadPolicyFile(LEDGER_POLICY_FILE);
  ASSERT_TRUE(policy.ok());
  std::vector<pb::ProgrammeStandard> list(policy->standards().begin(),
                                          policy->standards().end());
  const auto* y2024 =
      StandardFor(list, "SENIOR_HIGH_GRANT", T(2024, cpb::SEASON_AUTUMN));
  const auto* y2025 =
      StandardFor(list, "SENIOR_HIGH_GRANT", T(2025, cpb::SEASON_SPRING));
  ASSERT_NE(y2024, nullptr);
  ASSERT_NE(y2025, nullptr);
  EXPECT_EQ(StandardId(*y2024), "SENIOR_HIGH_GRANT@2015-09-01");
  EXPECT_EQ(StandardId(*y2025), "SENIOR_HIGH_GRANT@2025-02-01");
  EXPECT_EQ(AmountForTerm(*y2025, cpb::SCHOOL_STAGE_SENIOR_HIGH, false,
                          T(2025, cpb::SEASON_SPRING)),
            115000);
  EXPECT_EQ(StandardFor(list, "SENIOR_HIGH_GRANT", T(2014, cpb::SEASON_AUTUMN)),
            nullptr);
}

TEST(PolicyFile, SyntaxErrorsNameTheLine) {
  auto p = ParsePolicyText("version: \"x\"\nstandards { programme_code: 5 }\n");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("line 2"));
}

TEST(PolicyRules, BadAmountsAndSharesAreNamed) {
  auto policy = ReadPolicyFile(LEDGER_POLICY_FILE);
  ASSERT_TRUE(policy.ok());
  pb::Policy bad = *policy;
  bad.mutable_standards(0)->mutable_rates(0)->set_yearly_fen(-1);
  bad.mutable_standards(1)->mutable_rates(0)->set_yearly_fen(INT64_MAX);
  bad.mutable_standards(2)->mutable_shares()->set_central_bp(1);
  bad.mutable_standards(3)->set_effective_from("2018-02-30");
  bad.mutable_standards(4)->set_name("\xff\xfe");
  *bad.add_standards() = bad.standards(5);  // a duplicate id
  absl::Status st = ValidatePolicy(bad);
  EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument);
  const std::vector<std::string> expected = {
      "policy.standards[0].rates[0].yearly_fen",
      "policy.standards[1].rates[0].yearly_fen",
      "policy.standards[2].shares",
      "policy.standards[3].effective_from",
      "policy.standards[4].name",
      absl::StrCat("policy.standards[", bad.standards_size() - 1, "]")};
  EXPECT_THAT(Fields(st), ::testing::IsSupersetOf(expected));
}

TEST(Terms, KeysDatesAndOrder) {
  EXPECT_EQ(TermKey(T(2018, cpb::SEASON_AUTUMN)), "2018-AUTUMN");
  auto back = ParseTermKey("2019-SPRING");
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->year(), 2019);
  EXPECT_EQ(back->season(), cpb::SEASON_SPRING);
  EXPECT_FALSE(ParseTermKey("2019-WINTER").has_value());
  EXPECT_EQ(TermStart(T(2018, cpb::SEASON_AUTUMN)), "2018-09-01");
  EXPECT_LT(TermOrdinal(T(2018, cpb::SEASON_SPRING)),
            TermOrdinal(T(2018, cpb::SEASON_AUTUMN)));
  EXPECT_LT(TermOrdinal(T(2018, cpb::SEASON_AUTUMN)),
            TermOrdinal(T(2019, cpb::SEASON_SPRING)));
  EXPECT_EQ(AddDays("2018-09-01", 90), "2018-11-30");
  EXPECT_EQ(DaysBetween("2018-11-30", "2019-01-01"), 32);
  EXPECT_EQ(Fields(ValidateTerm("term", T(1999, cpb::SEASON_AUTUMN))),
            std::vector<std::string>{"term.year"});
  EXPECT_EQ(Fields(ValidateTerm("term", T(2018, cpb::SEASON_UNSPECIFIED))),
            std::vector<std::string>{"term.season"});
  EXPECT_EQ(Fields(ValidateTerm("term", T(2099, cpb::SEASON_AUTUMN), 1)),
            std::vector<std::string>{"term.year"});
}

TEST(Money, SplitsAreExactAndNeverLoseAFen) {
  pb::FundingShares shares;
  shares.set_central_bp(3333);
  shares.set_provincial_bp(3333);
  shares.set_county_bp(3334);
  for (int64_t amount : {1, 2, 3, 99, 100, 62500, 99999999}) {
    int64_t sum = 0;
    for (const auto& [source, part] : SplitByShares(amount, shares)) {
      EXPECT_GT(part, 0) << source;
      sum += part;
    }
    EXPECT_EQ(sum, amount);
  }
  auto parts = SplitByShares(50000, shares);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0], std::make_pair(std::string("central"), int64_t{16665}));
  EXPECT_EQ(parts[2], std::make_pair(std::string("county"), int64_t{16670}));
  int64_t out = 0;
  EXPECT_FALSE(CheckedAdd(INT64_MAX, 1, &out));
  EXPECT_TRUE(CheckedAdd(INT64_MAX - 1, 1, &out));
  EXPECT_EQ(out, INT64_MAX);
}

TEST(Money, YuanFormatsAreExact) {
  EXPECT_EQ(FormatYuan(50000), "500.00");
  EXPECT_EQ(FormatYuan(62505), "625.05");
  EXPECT_EQ(FormatYuan(7), "0.07");
  EXPECT_EQ(FormatYuan(-5), "-0.05");
  EXPECT_EQ(FormatYuan(INT64_MAX), "92233720368547758.07");
  EXPECT_EQ(FormatYuan(INT64_MIN), "-92233720368547758.08");
  EXPECT_EQ(ChineseAmountInWords(50000), "伍佰元整");
  EXPECT_EQ(ChineseAmountInWords(62500), "陆佰贰拾伍元整");
  EXPECT_EQ(ChineseAmountInWords(125000), "壹仟贰佰伍拾元整");
  EXPECT_EQ(ChineseAmountInWords(100005), "壹仟元零伍分");
  EXPECT_EQ(ChineseAmountInWords(1000500), "壹万零伍元整");
  EXPECT_EQ(ChineseAmountInWords(1000000000), "壹仟万元整");
  EXPECT_EQ(ChineseAmountInWords(10000100000), "壹亿零壹仟元整");
  EXPECT_EQ(ChineseAmountInWords(150), "壹元伍角整");
  EXPECT_EQ(ChineseAmountInWords(5), "伍分");
  EXPECT_EQ(ChineseAmountInWords(0), "零元整");
}

TEST(Notice, TextAndHtmlCarryTheFactsAndEscape) {
  pb::Notice n;
  n.set_notice_no("411325-2018A-00000001");
  n.set_programme_name("义务教育家庭经济困难寄宿生生活补助");
  n.set_amount_fen(50000);
  n.set_amount_yuan(FormatYuan(50000));
  n.set_paid_on("2018-10-15");
  n.set_issued_on("2018-10-15");
  n.set_payee_name("张<小>明");
  n.set_school_name("内乡县城关小学");
  n.mutable_term()->set_year(2018);
  n.mutable_term()->set_season(cpb::SEASON_AUTUMN);
  n.set_region_code("411325");
  const std::string text = RenderNoticeText(n);
  EXPECT_THAT(text, HasSubstr("资助告知书"));
  EXPECT_THAT(text, HasSubstr("500.00 元（大写：伍佰元整）"));
  EXPECT_THAT(text, HasSubstr("2018年秋季学期"));
  EXPECT_THAT(text, HasSubstr("内乡县教育局"));
  EXPECT_THAT(text, HasSubstr("2018-10-15"));
  const std::string html = RenderNoticeHtml(n);
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\">"));
  EXPECT_THAT(html, HasSubstr("张&lt;小&gt;明"));
  EXPECT_THAT(html, ::testing::Not(HasSubstr("张<小>明")));
  n.mutable_acknowledgement()->set_acknowledged_on("2018-10-20");
  n.mutable_acknowledgement()->set_party(pb::ACK_PARTY_GUARDIAN);
  n.mutable_acknowledgement()->set_method(pb::ACK_METHOD_SIGNATURE);
  EXPECT_THAT(RenderNoticeText(n),
              HasSubstr("已确认：2018-10-20，家长签字确认"));
}

TEST(Journal, HashCoversEveryFieldAndTheChain) {
  JournalRecord e;
  e.id = 7;
  e.at_ms = 1539590400000;
  e.kind = pb::ENTRY_KIND_DISBURSEMENT;
  e.debit_account = kPayableStudent;
  e.credit_account = kBankPaidOut;
  e.amount_fen = 50000;
  e.region_code = "411325";
  e.programme_code = "BOARDING_LIVING";
  e.term = "2018-AUTUMN";
  e.member_id = "m-1";
  e.payment_id = 3;
  e.prev_hash = kGenesisHash;
  const std::string h = JournalEntryHash(e);
  EXPECT_EQ(h.size(), 64u);
  // The canonical form and its hash are a stored format: a faster hasher
  // must give the same bytes (SHA-256 of the form, computed elsewhere).
  EXPECT_EQ(h,
            "709e04b57ccb0c2bb19865dd2927b85afa758e08b6cdc632125fb07a8bb81074");
  EXPECT_EQ(CanonicalJournalEntry(e),
            "eduaid.ledger.journal.v1\n1:7\n13:1539590400000\n1:2\n"
            "15:payable.student\n13:bank.paid_out\n5:50000\n6:411325\n"
            "15:BOARDING_LIVING\n11:2018-AUTUMN\n3:m-1\n1:3\n1:0\n64:" +
                std::string(kGenesisHash) + "\n");
  auto changed = [&](auto mutate) {
    JournalRecord c = e;
    mutate(c);
    return JournalEntryHash(c) != h;
  };
  EXPECT_TRUE(changed([](JournalRecord& c) { c.amount_fen += 1; }));
  EXPECT_TRUE(changed([](JournalRecord& c) { c.id += 1; }));
  EXPECT_TRUE(changed([](JournalRecord& c) { c.credit_account = "x"; }));
  EXPECT_TRUE(changed([](JournalRecord& c) { c.prev_hash[0] = '1'; }));
  EXPECT_TRUE(changed([](JournalRecord& c) { c.reverses_id = 1; }));
  // Length prefixes keep field boundaries: moving a character from one
  // field to the next changes the hash.
  EXPECT_TRUE(changed([](JournalRecord& c) {
    c.region_code = "41132";
    c.programme_code = "5BOARDING_LIVING";
  }));
}

}  // namespace
}  // namespace eduaid::ledger
