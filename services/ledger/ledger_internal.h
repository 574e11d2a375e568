// Helpers shared by the ledger's implementation files (not a public API).
#ifndef EDUAID_SERVICES_LEDGER_LEDGER_INTERNAL_H_
#define EDUAID_SERVICES_LEDGER_LEDGER_INTERNAL_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "services/common/auth.h"

namespace eduaid::ledger::internal {

// Associated data of the encrypted columns.
inline constexpr char kCtxPayeeName[] = "ledger.payee_name";
inline constexpr char kCtxNote[] = "ledger.note";
// Prefix of the associated data of a cached value; the cache key follows.
inline constexpr char kCtxCachePrefix[] = "ledger.cache|";

// Who the ledger itself acts as (policy loaded at start-up, anchors).
inline constexpr char kSystemActor[] = "system:ledger";
// The audit log's method of a journal anchor (no RPC has this name); its
// records are "journal:<entries>:<head hash>".
inline constexpr char kJournalAnchorMethod[] = "JournalAnchor";

// Province, city or county officer.
bool IsOfficer(const Principal& p);
// Officers, or the school officer of `school_code`.
absl::Status RequireOfficerOrSchool(const Principal& p,
                                    absl::string_view school_code,
                                    absl::string_view action);
// RequireOfficerOrSchool, or a service (the teacher service records what a
// teacher's visit found; the policy opens only such RPCs to services).
absl::Status RequireRecorder(const Principal& p, absl::string_view school_code,
                             absl::string_view action);
// The school filter a list must apply for `p` ("" = none), or
// PERMISSION_DENIED when a school officer asks for another school or its
// token names no school. (Single records: CheckRecordScope.)
absl::StatusOr<std::string> ScopeSchoolFilter(const Principal& p,
                                              absl::string_view requested);

// The cache entities of the ledger (CacheKey("ledger", <entity>, ...)).
inline constexpr char kStandardsCacheEntity[] = "standards";
inline constexpr char kBatchCacheEntity[] = "batch";

}  // namespace eduaid::ledger::internal

#endif  // EDUAID_SERVICES_LEDGER_LEDGER_INTERNAL_H_
