#include "services/vocational/grant_terms.h"

#include "absl/strings/str_cat.h"
#include "services/common/term.h"

namespace eduaid::vocational {

namespace cpb = ::eduaid::common::v1;

int GradeInTerm(const cpb::Term& intake, const cpb::Term& term) {
  return 1 + (TermOrdinal(term) - TermOrdinal(intake)) / 2;
}

bool StudiesInTerm(const cpb::Term& intake, int64_t duration_years,
                   const cpb::Term& term) {
  const int first = TermOrdinal(intake);
  const int ordinal = TermOrdinal(term);
  return ordinal >= first && ordinal < first + 2 * duration_years;
}

std::string GrantReason(int grade, const cpb::Term& term,
                        const std::string& course_name,
                        const std::string& course_code,
                        int64_t application_id) {
  return TruncateUtf8(absl::StrCat("中职", grade, "年级 ", TermLabel(term), " ",
                                   course_name, " (", course_code,
                                   ") vocational application ", application_id),
                      200);
}

std::string TruncateUtf8(absl::string_view s, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (chars == max_chars) return std::string(s.substr(0, i));
      ++chars;
    }
  }
  return std::string(s);
}

}  // namespace eduaid::vocational
