// Internal to the eduaid_sql library; services use services/common/sql.h.
#ifndef EDUAID_COMMON_POSTGRES_BACKEND_H_
#define EDUAID_COMMON_POSTGRES_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "services/common/sql.h"

namespace eduaid::sql_internal {

// Opens a pool of up to options.pool_size libpq connections to `url` (a
// postgres:// or postgresql:// URL, passed to libpq unchanged). One
// connection is made eagerly to check the server; the rest on demand.
// Errors: UNAVAILABLE when the server cannot be reached.
absl::StatusOr<std::unique_ptr<Database>> OpenPostgres(
    const std::string& url, const DatabaseOptions& options);

}  // namespace eduaid::sql_internal

#endif  // EDUAID_COMMON_POSTGRES_BACKEND_H_
