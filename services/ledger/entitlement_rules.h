// Who is entitled to what: eligibility of a registry student under a
// standard, the amount of a manually raised entitlement, which standards a
// generation applies, and the texts an entitlement records. Pure functions
// (no storage, no RPC); thread-safe. Tested by entitlement_rules_test.cc.
#ifndef EDUAID_SERVICES_LEDGER_ENTITLEMENT_RULES_H_
#define EDUAID_SERVICES_LEDGER_ENTITLEMENT_RULES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/ledger/policy.h"

namespace eduaid::ledger {

namespace rpb = ::eduaid::registry::v1;

// 学前, 小学, ... ("" for an unknown stage).
const char* StageLabel(cpb::SchoolStage stage);

// Why a student qualifies (or not) for a standard in a term.
struct Eligibility {
  bool eligible = false;
  int64_t amount_fen = 0;
  bool waiver = false;
  std::string why_not;
};
Eligibility Evaluate(const rpb::Student& s, const pb::ProgrammeStandard& std_,
                     const cpb::Term& term);

// The reason a generated entitlement records.
std::string GeneratedReason(const rpb::Student& s,
                            const pb::ProgrammeStandard& std_);

// The date an entitlement of `s` for `term` is due (term start plus the
// standard's pay_within_days, 90 by default).
std::string DueDate(const pb::ProgrammeStandard& s, const cpb::Term& term);

// The reason of an entitlement carried over to a new school (转学) on
// `date` from `old_school_name` (`old_school_code`), at most 2000 bytes.
std::string CarriedOverReason(const std::string& reason,
                              const std::string& old_school_name,
                              const std::string& old_school_code,
                              const std::string& date);

// The generated (auto_generate) standards in effect for `term`, one per
// programme, in programme order.
std::vector<const pb::ProgrammeStandard*> GeneratedStandards(
    const std::vector<pb::ProgrammeStandard>& standards, const cpb::Term& term);

// The standards a generation applies: `codes` (each a known programme with
// a generated standard in effect: INVALID_ARGUMENT naming
// programme_codes[i], or FAILED_PRECONDITION NO_STANDARD), or every
// generated one when `codes` is empty. FAILED_PRECONDITION NO_STANDARD when
// none is left.
absl::StatusOr<std::vector<const pb::ProgrammeStandard*>> StandardsToGenerate(
    const std::vector<pb::ProgrammeStandard>& standards,
    const std::vector<std::string>& codes, const cpb::Term& term);

// The standard of `programme_code` in effect for `term`: INVALID_ARGUMENT
// naming programme_code for an unknown programme, FAILED_PRECONDITION
// NO_STANDARD when none is in effect.
absl::StatusOr<const pb::ProgrammeStandard*> StandardInEffect(
    const std::vector<pb::ProgrammeStandard>& standards,
    const std::string& programme_code, const cpb::Term& term);

// The amount of a manually raised entitlement: `requested` (0 = the
// standard's amount) checked against the standard; 0 for a fee waiver.
// INVALID_ARGUMENT naming stage, boarder, term or amount_fen.
absl::StatusOr<int64_t> ManualAmount(const pb::ProgrammeStandard& s,
                                     cpb::SchoolStage stage, bool boarder,
                                     const cpb::Term& term, int64_t requested);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_ENTITLEMENT_RULES_H_
