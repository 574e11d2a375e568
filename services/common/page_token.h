// Opaque page tokens (AIP-158). A token carries the last key returned and a
// fingerprint of the request's filters, authenticated with a process key so
// a client cannot forge or edit one, nor reuse it with other filters.
#ifndef EDUAID_COMMON_PAGE_TOKEN_H_
#define EDUAID_COMMON_PAGE_TOKEN_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace eduaid {

// `filters`: any string that changes when the request's filters change.
std::string EncodePageToken(absl::string_view last_key,
                            absl::string_view filters);

// The last key, or INVALID_ARGUMENT naming `page_token` when the token is
// malformed, forged, or was issued for different filters. "" decodes to "".
absl::StatusOr<std::string> DecodePageToken(absl::string_view token,
                                            absl::string_view filters);

// Sets the key used to sign tokens (all replicas of a service must share
// it for tokens to survive load balancing; default: derived from the data
// key by the server bootstrap, else random per process).
void SetPageTokenKey(absl::string_view key);

}  // namespace eduaid

#endif  // EDUAID_COMMON_PAGE_TOKEN_H_
