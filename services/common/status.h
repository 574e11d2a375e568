// Errors below the gRPC edge are absl::Status; ToGrpcStatus() maps them once
// at the edge, carrying google.rpc.BadRequest field violations and
// google.rpc.ErrorInfo reasons as status details.
#ifndef EDUAID_COMMON_STATUS_H_
#define EDUAID_COMMON_STATUS_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "grpcpp/support/status.h"

namespace eduaid {

struct FieldViolation {
  std::string field;  // e.g. "rows[3].id_number"
  std::string rule;   // e.g. "check character does not match (GB 11643)"
};

// INVALID_ARGUMENT naming `field` and the `rule` it broke. The message reads
// "<field>: <rule>"; the violation also travels as google.rpc.BadRequest.
absl::Status InvalidField(absl::string_view field, absl::string_view rule);

// INVALID_ARGUMENT with several violations (message lists the first few).
absl::Status InvalidFields(const std::vector<FieldViolation>& violations);

// `code` with a machine-readable reason (google.rpc.ErrorInfo, domain
// "eduaid"), e.g. FailedPreconditionError with reason "SAME_APPROVER".
absl::Status WithReason(absl::StatusCode code, absl::string_view reason,
                        absl::string_view message);

// The field violations carried by `status` (empty when none).
std::vector<FieldViolation> FieldViolationsOf(const absl::Status& status);

// The ErrorInfo reason carried by `status` ("" when none).
std::string ReasonOf(const absl::Status& status);

// The edge mapping: same code, same message, details as google.rpc.Status.
grpc::Status ToGrpcStatus(const absl::Status& status);

// The reverse, for clients of our services: keeps code, message and details
// so that FieldViolationsOf/ReasonOf work on the result.
absl::Status FromGrpcStatus(const grpc::Status& status);

// CamelCase name of a gRPC code as dashboards expect ("InvalidArgument").
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace eduaid

#endif  // EDUAID_COMMON_STATUS_H_
