// Schooling arrangements (table schooling_arrangements): a school-age child
// in school by the policy without a roster row, taught at home (送教上门)
// or studying elsewhere (异地就读); at most one running per member. The
// place, the evidence reference and the end reason are stored encrypted.
// The record, its columns and row reader, every statement on the table,
// and the proto mapping.
#ifndef EDUAID_SERVICES_REGISTRY_ARRANGEMENT_STORE_H_
#define EDUAID_SERVICES_REGISTRY_ARRANGEMENT_STORE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "services/common/sql.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// Encryption contexts of the encrypted columns.
inline constexpr char kCtxPlace[] = "registry.schooling_arrangements.place";
inline constexpr char kCtxEvidence[] =
    "registry.schooling_arrangements.evidence_ref";
inline constexpr char kCtxEndReason[] =
    "registry.schooling_arrangements.end_reason";

struct ArrangementRecord {
  int64_t id = 0;
  int64_t member_id = 0;
  int64_t kind = 0;  // ArrangementKind
  std::string school_code;
  std::string school_name;
  std::string place_enc;
  std::string evidence_enc;
  std::string start_date;
  std::string end_date;  // "" while it runs
  std::string end_reason_enc;
  bool running = false;
  std::string region_code;  // the member's county when recorded
  std::string recorded_by;
  int64_t recorded_at = 0;  // seconds
  std::string id_masked;    // the child's (members m)
  std::string name_enc;     // the child's
};
// Columns (of schooling_arrangements `a` JOIN members `m`) in the order
// FromArrangementRow() reads them.
inline constexpr char kArrangementColumns[] =
    "a.id, a.member_id, a.kind, a.school_code, a.school_name, a.place_enc, "
    "a.evidence_enc, a.start_date, a.end_date, a.end_reason_enc, a.running, "
    "a.region_code, a.recorded_by, a.recorded_at, m.id_masked, m.name_enc";
// The join that goes with kArrangementColumns.
inline constexpr char kArrangementFrom[] =
    " FROM schooling_arrangements a JOIN members m ON m.id = a.member_id";
ArrangementRecord FromArrangementRow(const SqlRow& row);

// The clear texts of an arrangement, as the caller decrypted (and, for the
// name, masked) them.
struct ArrangementText {
  std::string place;
  std::string evidence_ref;
  std::string end_reason;
  std::string name;
};
void ToProto(const ArrangementRecord& a, const ArrangementText& text,
             pb::SchoolingArrangement* out);

// Arrangement `id`, or nullopt.
absl::StatusOr<std::optional<ArrangementRecord>> FindArrangement(
    SqlConnection& c, int64_t id);

// The running arrangement of `member_id`, or nullopt.
absl::StatusOr<std::optional<ArrangementRecord>> FindRunningArrangement(
    SqlConnection& c, int64_t member_id);

// Every arrangement of the members of the households `household_ids`
// (chunked IN lists), in id order.
absl::StatusOr<std::vector<ArrangementRecord>> ArrangementsOfHouseholds(
    SqlConnection& c, const std::vector<const std::string*>& household_ids);

// Inserts `a` (running; id and the member's fields ignored); its id.
absl::StatusOr<int64_t> InsertArrangement(SqlConnection& c,
                                          const ArrangementRecord& a);

// Ends arrangement `id` on `end_date` for the (encrypted) reason.
absl::Status EndArrangement(SqlConnection& c, int64_t id,
                            const std::string& end_date,
                            const std::string& end_reason_enc);

// One page of arrangements of the region prefix (children at `school`, a
// HOME_TEACHING school or a current enrolment there, "" = any), of `kind`
// (0 = any), running only when asked, after `after`, in id order.
struct ArrangementListFilter {
  std::string region;
  std::string school;
  int64_t kind = 0;
  bool running_only = false;
  int64_t after = 0;
  int64_t limit = 0;
};
absl::StatusOr<std::vector<ArrangementRecord>> ListArrangementsPage(
    SqlConnection& c, const ArrangementListFilter& f);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_ARRANGEMENT_STORE_H_
