#include "services/ledger/policy.h"

#include <algorithm>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "services/common/idempotency.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"

namespace eduaid::ledger {
namespace {

class CollectFirstError : public google::protobuf::io::ErrorCollector {
 public:
  void AddError(int line, google::protobuf::io::ColumnNumber column,
                const std::string& message) override {
    if (first_.empty()) {
      first_ = absl::StrCat("line ", line + 1, " column ", column + 1, ": ",
                            message);
    }
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

bool IsToken(absl::string_view s, size_t max, bool lower_ok) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    const bool ok =
        (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
        (lower_ok && ((c >= 'a' && c <= 'z') || c == '.' || c == '-'));
    if (!ok) return false;
  }
  return true;
}

int CurrentYearCst() {
  const std::string today = TodayCst();
  int y = 0;
  (void)absl::SimpleAtoi(today.substr(0, 4), &y);
  return y;
}

}  // namespace

absl::StatusOr<pb::Policy> ParsePolicyText(const std::string& text) {
  google::protobuf::TextFormat::Parser parser;
  CollectFirstError errors;
  parser.RecordErrorsTo(&errors);
  pb::Policy policy;
  if (!parser.ParseFromString(text, &policy)) {
    return InvalidField("policy", errors.first().empty()
                                      ? "is not a valid text-format Policy"
                                      : errors.first());
  }
  return policy;
}

absl::StatusOr<pb::Policy> ReadPolicyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("policy file ", path, " cannot be read"));
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto policy = ParsePolicyText(ss.str());
  if (!policy.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy file ", path, ": ", policy.status().message()));
  }
  return policy;
}

namespace {

// Collects the violations of a policy, one per broken rule.
class Violations {
 public:
  void Add(std::string field, absl::string_view rule) {
    v_.push_back({std::move(field), std::string(rule)});
  }
  const std::vector<FieldViolation>& list() const { return v_; }

 private:
  std::vector<FieldViolation> v_;
};

// The rates of standard `s` (field prefix `f`).
void CheckRates(const pb::ProgrammeStandard& s, const std::string& f,
                Violations& out) {
  auto add = [&out](std::string field, absl::string_view rule) {
    out.Add(std::move(field), rule);
  };
  if (s.rates().empty()) add(f + ".rates", "must name at least one stage");
  std::set<int> stages;
  for (int j = 0; j < s.rates_size(); ++j) {
    const pb::StageRate& r = s.rates(j);
    const std::string rf = absl::StrCat(f, ".rates[", j, "]");
    if (!cpb::SchoolStage_IsValid(r.stage()) ||
        r.stage() == cpb::SCHOOL_STAGE_UNSPECIFIED) {
      add(rf + ".stage", "must be a known school stage");
    } else if (!stages.insert(r.stage()).second) {
      add(rf + ".stage", "appears twice in this standard");
    }
    if (r.yearly_fen() < 0) {
      add(rf + ".yearly_fen", "must not be negative");
    } else if (r.yearly_fen() > kMaxAmountFen) {
      add(rf + ".yearly_fen",
          absl::StrCat("must not exceed ", kMaxAmountFen, " fen"));
    } else if (s.kind() == pb::PROGRAMME_KIND_GRANT && r.yearly_fen() == 0) {
      add(rf + ".yearly_fen", "must be positive for a grant");
    } else if (s.kind() == pb::PROGRAMME_KIND_FEE_WAIVER &&
               r.yearly_fen() != 0) {
      add(rf + ".yearly_fen", "must be 0 for a fee waiver (never disbursed)");
    }
  }
}

// The funding shares of standard `s`.
void CheckShares(const pb::ProgrammeStandard& s, const std::string& f,
                 Violations& out) {
  auto add = [&out](std::string field, absl::string_view rule) {
    out.Add(std::move(field), rule);
  };
  const pb::FundingShares& sh = s.shares();
  bool share_ok = true;
  for (int bp :
       {sh.central_bp(), sh.provincial_bp(), sh.city_bp(), sh.county_bp()}) {
    if (bp < 0 || bp > 10000) share_ok = false;
  }
  if (!share_ok) {
    add(f + ".shares", "each share must be 0..10000 basis points");
  } else if (sh.central_bp() + sh.provincial_bp() + sh.city_bp() +
                 sh.county_bp() !=
             10000) {
    add(f + ".shares", "shares must sum to 10000 basis points");
  }
}

// Every rule of one standard but uniqueness across the policy.
void CheckStandard(const pb::ProgrammeStandard& s, const std::string& f,
                   Violations& out) {
  auto add = [&out](std::string field, absl::string_view rule) {
    out.Add(std::move(field), rule);
  };
  if (!IsProgrammeCode(s.programme_code())) {
    add(f + ".programme_code", "must be 1..40 of A-Z 0-9 _");
  }
  if (!ValidateText(f + ".name", s.name(), 60).ok()) {
    add(f + ".name", "must be valid UTF-8 text of 1..60 characters");
  }
  if (!ValidateText(f + ".name_en", s.name_en(), 100, false).ok()) {
    add(f + ".name_en", "must be valid UTF-8 text of at most 100 characters");
  }
  if (!ValidateText(f + ".basis", s.basis(), 200, false).ok()) {
    add(f + ".basis", "must be valid UTF-8 text of at most 200 characters");
  }
  if (!pb::ProgrammeKind_IsValid(s.kind()) ||
      s.kind() == pb::PROGRAMME_KIND_UNSPECIFIED) {
    add(f + ".kind",
        "must be PROGRAMME_KIND_GRANT or PROGRAMME_KIND_FEE_WAIVER");
  }
  if (!pb::PaymentSchedule_IsValid(s.schedule()) ||
      s.schedule() == pb::PAYMENT_SCHEDULE_UNSPECIFIED) {
    add(f + ".schedule", "must be a known payment schedule");
  }
  CheckRates(s, f, out);
  CheckShares(s, f, out);
  if (!ValidateDate(f + ".effective_from", s.effective_from()).ok()) {
    add(f + ".effective_from", "must be a date YYYY-MM-DD");
  }
  if (!s.effective_to().empty()) {
    if (!ValidateDate(f + ".effective_to", s.effective_to()).ok()) {
      add(f + ".effective_to", "must be a date YYYY-MM-DD or empty");
    } else if (s.effective_to() < s.effective_from()) {
      add(f + ".effective_to", "must not be before effective_from");
    }
  }
  for (int j = 0; j < s.household_statuses_size(); ++j) {
    const int hs = s.household_statuses(j);
    if (!cpb::HouseholdStatus_IsValid(hs) ||
        hs == cpb::HOUSEHOLD_STATUS_UNSPECIFIED) {
      add(absl::StrCat(f, ".household_statuses[", j, "]"),
          "must be a known household status");
    }
  }
  if (s.pay_within_days() < 0 || s.pay_within_days() > 366) {
    add(f + ".pay_within_days", "must be 0..366");
  }
  if (!s.exclusive_group().empty() && !IsProgrammeCode(s.exclusive_group())) {
    add(f + ".exclusive_group", "must be empty or 1..40 of A-Z 0-9 _");
  }
  if (!s.standard_id().empty() && s.standard_id() != StandardId(s)) {
    add(f + ".standard_id", "is output only (leave it empty)");
  }
}

}  // namespace

absl::Status ValidatePolicy(const pb::Policy& policy) {
  Violations out;
  auto add = [&out](std::string field, absl::string_view rule) {
    out.Add(std::move(field), rule);
  };
  if (!IsToken(policy.version(), 40, /*lower_ok=*/true)) {
    add("policy.version", "must be 1..40 of A-Z a-z 0-9 . _ -");
  }
  if (absl::Status s = ValidateText("policy.title", policy.title(), 200,
                                    /*required=*/false);
      !s.ok()) {
    add("policy.title", "must be valid UTF-8 text of at most 200 characters");
  }
  if (absl::Status s = ValidateText("policy.source", policy.source(), 500,
                                    /*required=*/false);
      !s.ok()) {
    add("policy.source", "must be valid UTF-8 text of at most 500 characters");
  }
  if (policy.standards().empty()) add("policy.standards", "must not be empty");
  std::set<std::string> ids;
  for (int i = 0; i < policy.standards_size(); ++i) {
    const pb::ProgrammeStandard& s = policy.standards(i);
    const std::string f = absl::StrCat("policy.standards[", i, "]");
    CheckStandard(s, f, out);
    if (!ids.insert(StandardId(s)).second) {
      add(f,
          "repeats programme_code and effective_from of an earlier standard");
    }
  }
  if (out.list().empty()) return absl::OkStatus();
  return InvalidFields(out.list());
}

std::string StandardId(const pb::ProgrammeStandard& s) {
  return absl::StrCat(s.programme_code(), "@", s.effective_from());
}

std::string StandardContentHash(const pb::ProgrammeStandard& s) {
  pb::ProgrammeStandard copy = s;
  copy.clear_standard_id();
  copy.clear_policy_version();
  return MessageHash(copy);
}

bool IsProgrammeCode(absl::string_view code) {
  return IsToken(code, 40, /*lower_ok=*/false);
}

bool IsSchoolCode(absl::string_view code) {
  if (code.empty() || code.size() > 20) return false;
  for (char c : code) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                    (c >= '0' && c <= '9') || c == '-';
    if (!ok) return false;
  }
  return true;
}

absl::Status ValidateTerm(absl::string_view field, const cpb::Term& term,
                          int max_year_ahead) {
  RETURN_IF_ERROR(::eduaid::ValidateTerm(field, term));
  if (max_year_ahead >= 0 && term.year() > CurrentYearCst() + max_year_ahead) {
    return InvalidField(absl::StrCat(field, ".year"),
                        absl::StrCat("must not be more than ", max_year_ahead,
                                     " year(s) after the current year"));
  }
  return absl::OkStatus();
}

bool InEffect(const pb::ProgrammeStandard& s, absl::string_view term_start) {
  if (s.effective_from() > term_start) return false;
  return s.effective_to().empty() || term_start <= s.effective_to();
}

const pb::ProgrammeStandard* StandardFor(
    const std::vector<pb::ProgrammeStandard>& standards, absl::string_view code,
    const cpb::Term& term) {
  const std::string start = TermStart(term);
  const pb::ProgrammeStandard* best = nullptr;
  for (const auto& s : standards) {
    if (s.programme_code() != code || !InEffect(s, start)) continue;
    if (best == nullptr || s.effective_from() > best->effective_from()) {
      best = &s;
    }
  }
  return best;
}

const pb::StageRate* RateFor(const pb::ProgrammeStandard& s,
                             cpb::SchoolStage stage) {
  for (const auto& r : s.rates()) {
    if (r.stage() == stage) return &r;
  }
  return nullptr;
}

int64_t AmountForTerm(const pb::ProgrammeStandard& s, cpb::SchoolStage stage,
                      bool boarder, const cpb::Term& term) {
  const pb::StageRate* rate = RateFor(s, stage);
  if (rate == nullptr) return 0;
  if (rate->boarders_only() && !boarder) return 0;
  const int64_t yearly = rate->yearly_fen();
  const bool autumn = term.season() == cpb::SEASON_AUTUMN;
  switch (s.schedule()) {
    case pb::PAYMENT_SCHEDULE_PER_TERM:
      return autumn ? yearly - yearly / 2 : yearly / 2;
    case pb::PAYMENT_SCHEDULE_YEARLY_IN_AUTUMN:
      return autumn ? yearly : 0;
    default:
      return 0;
  }
}

bool AdmitsHousehold(const pb::ProgrammeStandard& s,
                     cpb::HouseholdStatus status) {
  if (s.household_statuses().empty()) {
    return status == cpb::HOUSEHOLD_STATUS_POOR ||
           status == cpb::HOUSEHOLD_STATUS_LIFTED;
  }
  return std::find(s.household_statuses().begin(), s.household_statuses().end(),
                   status) != s.household_statuses().end();
}

std::vector<std::pair<std::string, int64_t>> SplitByShares(
    int64_t amount_fen, const pb::FundingShares& shares) {
  const std::pair<const char*, int32_t> sources[] = {
      {"central", shares.central_bp()},
      {"provincial", shares.provincial_bp()},
      {"city", shares.city_bp()},
      {"county", shares.county_bp()}};
  int last = -1;
  for (int i = 0; i < 4; ++i) {
    if (sources[i].second > 0) last = i;
  }
  std::vector<std::pair<std::string, int64_t>> parts;
  if (last < 0) {
    // No shares at all: the county bears everything.
    if (amount_fen > 0) parts.emplace_back("county", amount_fen);
    return parts;
  }
  int64_t assigned = 0;
  for (int i = 0; i <= last; ++i) {
    if (sources[i].second <= 0) continue;
    // amount <= 10^8 and bp <= 10^4: the product fits comfortably.
    const int64_t part = i == last ? amount_fen - assigned
                                   : amount_fen * sources[i].second / 10000;
    assigned += part;
    if (part > 0) parts.emplace_back(sources[i].first, part);
  }
  return parts;
}

bool CheckedAdd(int64_t a, int64_t b, int64_t* out) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return false;
  *out = r;
  return true;
}

}  // namespace eduaid::ledger
