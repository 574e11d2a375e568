// Collects the field violations of a request so that one INVALID_ARGUMENT
// names every bad field at once.
#ifndef EDUAID_SERVICES_VOCATIONAL_FIELD_VIOLATIONS_H_
#define EDUAID_SERVICES_VOCATIONAL_FIELD_VIOLATIONS_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "services/common/status.h"

namespace eduaid::vocational {

// The rule of a course code (IsCode(code, 32)).
inline constexpr char kCourseCodeRule[] = "must be 1..32 of A-Z a-z 0-9 -";

class Violations {
 public:
  // Adds the violations `st` carries (none when OK); returns `st`.
  const absl::Status& Check(const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st)) v_.push_back(std::move(f));
    return st;
  }
  void Add(std::string field, std::string rule) {
    v_.push_back({std::move(field), std::move(rule)});
  }
  // OK when nothing was added, else INVALID_ARGUMENT naming every field.
  absl::Status ToStatus() const {
    return v_.empty() ? absl::OkStatus() : InvalidFields(v_);
  }
  std::vector<FieldViolation>& list() { return v_; }

 private:
  std::vector<FieldViolation> v_;
};

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_FIELD_VIOLATIONS_H_
