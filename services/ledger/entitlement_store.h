// Entitlements (table `entitlements`): the typed record, its columns beside
// its row reader, every statement on the table, and the proto mapping.
// Functions run inside the caller's transaction (or read); not thread-safe
// beyond what one SqlConnection allows.
#ifndef EDUAID_SERVICES_LEDGER_ENTITLEMENT_STORE_H_
#define EDUAID_SERVICES_LEDGER_ENTITLEMENT_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;
namespace cpb = ::eduaid::common::v1;

struct EntitlementRecord {
  int64_t id = 0;
  std::string member_id;
  std::string programme_code;
  std::string term;  // TermKey form
  std::string standard_id;
  std::string region_code;
  std::string school_code;
  std::string school_name;
  cpb::SchoolStage stage = cpb::SCHOOL_STAGE_UNSPECIFIED;
  int32_t grade = 0;
  bool boarder = false;
  int64_t amount_fen = 0;
  pb::EntitlementState state = pb::ENTITLEMENT_STATE_UNSPECIFIED;
  std::string reason;
  std::string payee_name_enc;  // encrypted (kCtxPayeeName)
  std::string due_date;
  int64_t batch_id = 0;
  int64_t payment_id = 0;
  std::string cancel_reason;
  std::string created_by;
  int64_t created_at_ms = 0;
  std::string originator_subject;
};

// Columns (table alias e) in the order EntitlementFromRow() reads them.
inline constexpr char kEntitlementColumns[] =
    "e.id, e.member_id, e.programme_code, e.term, e.standard_id, "
    "e.region_code, e.school_code, e.school_name, e.stage, e.grade, "
    "e.boarder, e.amount_fen, e.state, e.reason, e.payee_name, e.due_date, "
    "e.batch_id, e.payment_id, e.cancel_reason, e.created_by, e.created_at, "
    "e.originator_subject";

EntitlementRecord EntitlementFromRow(const SqlRow& row);

// Every field but programme_name and payee_name, which the caller fills
// (from the standard and the caller's right to see names).
void ToProto(const EntitlementRecord& e, pb::Entitlement* out);

// NOT_FOUND when `id` does not exist.
absl::StatusOr<EntitlementRecord> LoadEntitlementRecord(SqlConnection& c,
                                                        int64_t id);

// The filters of ListEntitlements ("" / 0 = any).
struct EntitlementFilter {
  std::string region_prefix;
  std::string term;
  std::string programme_code;
  int64_t state = 0;
  std::string member_id;
  std::string school_code;
};
// Up to `limit` entitlements with id > `after`, in id order.
absl::StatusOr<std::vector<EntitlementRecord>> ListEntitlementRecords(
    SqlConnection& c, const EntitlementFilter& f, int64_t after, int64_t limit);

// The entitlements of `member_ids` (of `term` unless ""), in id order.
absl::StatusOr<std::vector<EntitlementRecord>> EntitlementsOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids,
    const std::string& term);

// Open or batched entitlements of `term` under `region_prefix` due before
// `as_of` (YYYY-MM-DD), by due date.
absl::StatusOr<std::vector<EntitlementRecord>> ListOverdueEntitlements(
    SqlConnection& c, const std::string& term, const std::string& region_prefix,
    const std::string& as_of);

// True when the member holds a non-cancelled entitlement of another
// programme of `exclusive_group` in `term` (false for an empty group).
absl::StatusOr<bool> HoldsExclusive(SqlConnection& c,
                                    const std::string& member_id,
                                    const std::string& term,
                                    const std::string& exclusive_group,
                                    const std::string& programme_code);

// A new entitlement row (amount and state decided by the caller).
struct NewEntitlement {
  std::string member_id;
  std::string programme_code;
  std::string term;
  std::string standard_id;
  std::string exclusive_group;
  std::string region_code;
  std::string school_code;
  std::string school_name;
  cpb::SchoolStage stage = cpb::SCHOOL_STAGE_UNSPECIFIED;
  int32_t grade = 0;
  bool boarder = false;
  int64_t amount_fen = 0;
  pb::EntitlementState state = pb::ENTITLEMENT_STATE_OPEN;
  std::string reason;
  std::string payee_name_enc;
  std::string due_date;
  std::string created_by;
  int64_t now_ms = 0;
  std::string originator_subject;
};
// The new id, or nullopt when the member already holds the programme for
// the term (nothing written).
absl::StatusOr<std::optional<int64_t>> InsertEntitlement(
    SqlConnection& c, const NewEntitlement& e);

// What generation needs to know of an entitlement already held.
struct HeldEntitlement {
  int64_t id = 0;
  int64_t state = 0;
  std::string school_code;
  std::string school_name;
  std::string reason;
};
// ABORTED when it vanished since the insert found it.
absl::StatusOr<HeldEntitlement> LoadHeldEntitlement(
    SqlConnection& c, const std::string& member_id,
    const std::string& programme_code, const std::string& term);
// Moves an OPEN entitlement to the student's new school (转学).
absl::Status MoveEntitlementToSchool(
    SqlConnection& c, int64_t id, const ::eduaid::registry::v1::Enrolment& en,
    const std::string& reason, int64_t now_ms);

// Cancels entitlement `id` if still in `from_state`; rows changed (0 or 1).
absl::StatusOr<int64_t> CancelEntitlementRow(SqlConnection& c, int64_t id,
                                             pb::EntitlementState from_state,
                                             const std::string& reason,
                                             int64_t now_ms);
// Cancels a paid entitlement whose payment was reversed.
absl::Status CancelReversedEntitlement(SqlConnection& c, int64_t id,
                                       const std::string& reason,
                                       int64_t now_ms);

// What the single-payment path reads of an entitlement.
struct PayableEntitlement {
  int64_t id = 0;
  std::string member_id;
  std::string programme_code;
  std::string term;
  std::string region_code;
  std::string school_code;
  int64_t amount_fen = 0;
  int64_t state = 0;
  std::string originator_subject;
  std::string standard_id;
  int64_t batch_id = 0;
  int64_t payment_id = 0;
  std::string payee_name_enc;
};
// NOT_FOUND when `id` does not exist.
absl::StatusOr<PayableEntitlement> LoadPayableEntitlement(SqlConnection& c,
                                                          int64_t id);
// Marks an OPEN entitlement PAID by `payment_id`; rows changed (0 or 1).
absl::StatusOr<int64_t> MarkEntitlementPaid(SqlConnection& c, int64_t id,
                                            int64_t payment_id, int64_t now_ms);

// The entitlements of `term` under `region_prefix` as reconciliation
// compares them with the registry.
struct HeldForReconcile {
  std::string member_id;
  std::string programme_code;
  std::string exclusive_group;
  int64_t id = 0;
  int64_t state = 0;
  std::string cancel_reason;
};
absl::StatusOr<std::vector<HeldForReconcile>> ListHeldForReconcile(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix);

// Entitlements of a school and term the caller's region covers, as a
// posting lists them (open, batched, paid, waived), in id order.
struct PostableEntitlement {
  int64_t id = 0;
  std::string payee_name_enc;
  std::string programme_code;
  int64_t amount_fen = 0;
  int64_t stage = 0;
  int64_t grade = 0;
  std::string region_code;
  std::string school_name;
};
absl::StatusOr<std::vector<PostableEntitlement>> ListPostableEntitlements(
    SqlConnection& c, const std::string& school_code, const std::string& term,
    const std::string& region_prefix);

// Where a grievance about entitlement `id` belongs: its payment (0 when
// none), region and school. NOT_FOUND when it does not exist.
struct EntitlementPlace {
  int64_t payment_id = 0;
  std::string region_code;
  std::string school_code;
};
absl::StatusOr<EntitlementPlace> LoadEntitlementPlace(SqlConnection& c,
                                                      int64_t id);

// (state, count, sum of amount_fen) of `term` under `region_prefix`.
struct StateSum {
  int64_t state = 0;
  int64_t count = 0;
  int64_t amount_fen = 0;
};
absl::StatusOr<std::vector<StateSum>> EntitlementSumsByState(
    SqlConnection& c, const std::string& term,
    const std::string& region_prefix);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_ENTITLEMENT_STORE_H_
