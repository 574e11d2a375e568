// The two status macros of the project (one copy, used by every service).
//
//   RETURN_IF_ERROR(expr);          // expr is an absl::Status
//   ASSIGN_OR_RETURN(auto rows, c.Query(...));   // expr is an absl::StatusOr<T>
//
// Both return the error unchanged (code, message and payloads such as
// google.rpc.BadRequest violations), so callers keep each error's meaning.
#ifndef EDUAID_COMMON_STATUS_MACROS_H_
#define EDUAID_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define EDUAID_STATUS_CONCAT_INNER_(a, b) a##b
#define EDUAID_STATUS_CONCAT_(a, b) EDUAID_STATUS_CONCAT_INNER_(a, b)

// Returns from the enclosing function when `expr` (an absl::Status) fails.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status eduaid_status_ = (expr);          \
    if (!eduaid_status_.ok()) return eduaid_status_; \
  } while (0)

// Evaluates `rexpr` (an absl::StatusOr<T>); on failure returns its status,
// else moves the value into `lhs`, which may be a declaration
// (`auto rows`, `const int64_t id`) or an existing variable.
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  EDUAID_ASSIGN_OR_RETURN_IMPL_(     \
      EDUAID_STATUS_CONCAT_(eduaid_statusor_, __LINE__), lhs, rexpr)

#define EDUAID_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                  \
  if (!statusor.ok()) return std::move(statusor).status();  \
  lhs = std::move(statusor).value()

#endif  // EDUAID_COMMON_STATUS_MACROS_H_
