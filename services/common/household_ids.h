// What the services' GetHouseholds share: the request's household ids
// checked one way everywhere, and the "(?,?,...)" of a set-based read.
// Header-only (no target to link).
#ifndef EDUAID_COMMON_HOUSEHOLD_IDS_H_
#define EDUAID_COMMON_HOUSEHOLD_IDS_H_

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "services/common/status.h"
#include "services/common/validate.h"

namespace eduaid {

// 1..`max` distinct registry household ids (1..32 of [A-Za-z0-9-]): the
// violations, `field` itself for a wrong count, `field[i]` for a bad or
// repeated id (naming the earlier one). Every service's GetHouseholds
// checks its request with this.
inline std::vector<FieldViolation> HouseholdIdsViolations(
    const google::protobuf::RepeatedPtrField<std::string>& ids,
    const std::string& field = "household_ids", int max = 100) {
  if (ids.empty() || ids.size() > max) {
    return {{field, absl::StrCat("must name 1..", max, " households")}};
  }
  std::vector<FieldViolation> out;
  std::map<std::string, int> seen;
  for (int i = 0; i < ids.size(); ++i) {
    const std::string at = absl::StrCat(field, "[", i, "]");
    if (!IsCode(ids[i], 32)) {
      out.push_back({at, "must be 1..32 of A-Z a-z 0-9 -"});
    } else if (auto [it, fresh] = seen.emplace(ids[i], i); !fresh) {
      out.push_back(
          {at, absl::StrCat("repeats ", field, "[", it->second, "]")});
    }
  }
  return out;
}

// The same as INVALID_ARGUMENT (OK when there is nothing to say).
inline absl::Status ValidateHouseholdIds(
    const std::string& field,
    const google::protobuf::RepeatedPtrField<std::string>& ids, int max = 100) {
  std::vector<FieldViolation> v = HouseholdIdsViolations(ids, field, max);
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
