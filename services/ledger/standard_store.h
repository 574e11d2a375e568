// Programme standards (table `standards`): each immutable once loaded,
// stored as its serialized definition. Every statement on the table.
// Functions run inside the caller's transaction (or read).
#ifndef EDUAID_SERVICES_LEDGER_STANDARD_STORE_H_
#define EDUAID_SERVICES_LEDGER_STANDARD_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "services/common/sql.h"

namespace eduaid::ledger {

namespace pb = ::eduaid::ledger::v1;

// Every standard, by programme and effective_from. DATA_LOSS when a stored
// definition cannot be read.
absl::StatusOr<std::vector<pb::ProgrammeStandard>> LoadAllStandards(
    SqlConnection& c);

// The standard `id`; INTERNAL when it is missing, DATA_LOSS when it cannot
// be read.
absl::StatusOr<pb::ProgrammeStandard> LoadStandard(SqlConnection& c,
                                                   const std::string& id);

// Inserts standard `s` (its standard_id set) unless one with its id
// exists: true when inserted.
absl::StatusOr<bool> InsertStandard(SqlConnection& c,
                                    const pb::ProgrammeStandard& s,
                                    const std::string& content_hash,
                                    const std::string& policy_version,
                                    const std::string& loaded_by,
                                    int64_t now_ms);

// The content hash of standard `id` (nullopt when it does not exist).
absl::StatusOr<std::optional<std::string>> StandardHash(SqlConnection& c,
                                                        const std::string& id);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_STANDARD_STORE_H_
