// Which terms of a major carry grants and what a grant says, as pure
// functions (no SQL, no RPC).
#ifndef EDUAID_SERVICES_VOCATIONAL_GRANT_TERMS_H_
#define EDUAID_SERVICES_VOCATIONAL_GRANT_TERMS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "eduaid/common/v1/common.pb.h"

namespace eduaid::vocational {

// The grade (1 in the intake year) of a student of intake `intake` in
// `term`.
int GradeInTerm(const ::eduaid::common::v1::Term& intake,
                const ::eduaid::common::v1::Term& term);
// True when `term` lies within the `duration_years` of study from `intake`.
bool StudiesInTerm(const ::eduaid::common::v1::Term& intake,
                   int64_t duration_years,
                   const ::eduaid::common::v1::Term& term);
// The reason written on a grant (at most 200 code points): "中职<grade>年级
// <term> <course name> (<code>) vocational application <id>".
std::string GrantReason(int grade, const ::eduaid::common::v1::Term& term,
                        const std::string& course_name,
                        const std::string& course_code, int64_t application_id);

// `s` cut to at most `max_chars` code points (valid UTF-8 stays valid).
std::string TruncateUtf8(absl::string_view s, size_t max_chars);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_GRANT_TERMS_H_
