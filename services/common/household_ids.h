// What the services' GetHouseholds share: the request's household ids
// checked one way everywhere, and the "(?,?,...)" of a set-based read.
// Header-only (no target to link).
#ifndef EDUAID_COMMON_HOUSEHOLD_IDS_H_
#define EDUAID_COMMON_HOUSEHOLD_IDS_H_

#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "services/common/status.h"
#include "services/common/validate.h"

namespace eduaid {

// 1..`max` distinct registry household ids (1..32 of [A-Za-z0-9-]);
// INVALID_ARGUMENT naming `field` (or `field[i]`) and the rule otherwise.
inline absl::Status ValidateHouseholdIds(
    const std::string& field,
    const google::protobuf::RepeatedPtrField<std::string>& ids,
    int max = 100) {
  if (ids.empty() || ids.size() > max) {
    return InvalidField(field, absl::StrCat("give 1..", max, " household ids"));
  }
  std::vector<FieldViolation> v;
  std::set<std::string> seen;
  for (int i = 0; i < ids.size(); ++i) {
    const std::string at = absl::StrCat(field, "[", i, "]");
    if (!IsCode(ids[i], 32)) {
      v.push_back({at, "must be 1..32 of A-Z a-z 0-9 -"});
    } else if (!seen.insert(ids[i]).second) {
      v.push_back({at, absl::StrCat("repeats household ", ids[i])});
    }
  }
  return v.empty() ? absl::OkStatus() : InvalidFields(v);
}

// "(?,?,...)" with `n` (>= 1) placeholders.
inline std::string SqlInList(size_t n) {
  std::string out = "(?";
  for (size_t j = 1; j < n; ++j) out += ",?";
  out += ")";
  return out;
}

}  // namespace eduaid

#endif  // EDUAID_COMMON_HOUSEHOLD_IDS_H_
