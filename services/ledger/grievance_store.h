// Grievances (table `grievances`): the typed record, its columns beside
// its row reader, every statement on the table, and the proto mapping.
// Functions run inside the caller's transaction (or read).
#ifndef EDUAID_SERVICES_LEDGER_GRIEVANCE_STORE_H_
#define EDUAID_SERVICES_LEDGER_GRIEVANCE_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;

struct GrievanceRecord {
  int64_t id = 0;
  int64_t entitlement_id = 0;
  int64_t payment_id = 0;
  int64_t posting_id = 0;
  int32_t posting_line = 0;
  std::string region_code;
  std::string school_code;
  pb::GrievanceSource source = pb::GRIEVANCE_SOURCE_UNSPECIFIED;
  pb::GrievanceState state = pb::GRIEVANCE_STATE_UNSPECIFIED;
  std::string description_enc;  // encrypted (kCtxNote)
  std::string opened_by;
  int64_t opened_at_ms = 0;
  pb::GrievanceOutcome outcome = pb::GRIEVANCE_OUTCOME_UNSPECIFIED;
  std::string resolution_enc;  // encrypted (kCtxNote)
  std::string resolved_by;
  int64_t resolved_at_ms = 0;
};

// Columns in the order GrievanceFromRow() reads them.
inline constexpr char kGrievanceColumns[] =
    "id, entitlement_id, payment_id, posting_id, posting_line, region_code, "
    "school_code, source, state, description, opened_by, opened_at, "
    "outcome, resolution, resolved_by, resolved_at";

GrievanceRecord GrievanceFromRow(const SqlRow& row);

// Every field but description and resolution (free text the caller shows
// or hides).
void ToProto(const GrievanceRecord& g, pb::Grievance* out);

// NOT_FOUND when `id` does not exist.
absl::StatusOr<GrievanceRecord> LoadGrievanceRecord(SqlConnection& c,
                                                    int64_t id);

// Inserts an OPEN grievance (`g`'s id, state and resolution ignored);
// returns its id.
absl::StatusOr<int64_t> InsertGrievance(SqlConnection& c,
                                        const GrievanceRecord& g);

// OPEN -> RESOLVED; rows changed (0 or 1).
absl::StatusOr<int64_t> ResolveGrievanceRow(SqlConnection& c, int64_t id,
                                            pb::GrievanceOutcome outcome,
                                            const std::string& resolution_enc,
                                            const std::string& resolved_by,
                                            int64_t now_ms);

// Up to `limit` grievances with id > `after` under `region_prefix`, of
// `state` (0 = any) and `school_code` ("" = any), in id order.
absl::StatusOr<std::vector<GrievanceRecord>> ListGrievanceRecords(
    SqlConnection& c, const std::string& region_prefix, int64_t state,
    const std::string& school_code, int64_t after, int64_t limit);

// The grievances of an entitlement, in id order.
absl::StatusOr<std::vector<GrievanceRecord>> GrievancesOfEntitlement(
    SqlConnection& c, int64_t entitlement_id);

// The grievances of any of `entitlement_ids`, in id order.
absl::StatusOr<std::vector<GrievanceRecord>> GrievancesOfEntitlements(
    SqlConnection& c, const std::vector<int64_t>& entitlement_ids);

// How many grievances object to posting `posting_id`.
absl::StatusOr<int64_t> CountObjections(SqlConnection& c, int64_t posting_id);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_GRIEVANCE_STORE_H_
