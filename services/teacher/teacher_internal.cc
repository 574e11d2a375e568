// The helpers of teacher_internal.h, and teacher ids and term arithmetic
// of teacher.h.
#include "services/teacher/teacher_internal.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/teacher.h"

namespace eduaid::teacher {

namespace internal {

absl::Status ValidateLabel(absl::string_view field, absl::string_view value,
                           size_t max_chars) {
  RETURN_IF_ERROR(ValidateText(field, value, max_chars));
  if (absl::StrContains(value, "|") || absl::StrContains(value, ",")) {
    return InvalidField(field, "must not contain '|' or ','");
  }
  return absl::OkStatus();
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out = "|";
  for (const auto& i : items) absl::StrAppend(&out, i, "|");
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  return absl::StrSplit(text, '|', absl::SkipEmpty());
}

std::string EscapeLike(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void AddRowError(int64_t rn, absl::string_view field, absl::string_view rule,
                 std::vector<cpb::RowError>* errors) {
  cpb::RowError e;
  e.set_row_number(rn);
  e.set_field(std::string(field));
  e.set_rule(std::string(rule));
  errors->push_back(std::move(e));
}

void AddRowErrors(int64_t rn, const absl::Status& st,
                  std::vector<cpb::RowError>* errors) {
  for (const auto& v : FieldViolationsOf(st)) {
    AddRowError(rn, v.field, v.rule, errors);
  }
}

void SortRowErrors(std::vector<cpb::RowError>* errors) {
  std::stable_sort(errors->begin(), errors->end(),
                   [](const cpb::RowError& a, const cpb::RowError& b) {
                     return a.row_number() < b.row_number();
                   });
}

Scope ScopeOf(const Principal& p, absl::string_view region_prefix) {
  if (p.Covers(region_prefix)) return Scope::kFull;
  if (absl::StartsWith(p.region, region_prefix)) return Scope::kInside;
  return Scope::kNone;
}

absl::Status CheckOverlap(const Principal& p, absl::string_view region_prefix) {
  if (ScopeOf(p, region_prefix) != Scope::kNone) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "the record's region lies outside the caller's region scope '", p.region,
      "'"));
}

}  // namespace internal

std::string TeacherIdString(int64_t id) { return absl::StrCat("t-", id); }

absl::StatusOr<int64_t> ParseTeacherId(absl::string_view field,
                                       absl::string_view teacher_id) {
  int64_t v = 0;
  if (!absl::ConsumePrefix(&teacher_id, "t-") ||
      !absl::SimpleAtoi(teacher_id, &v) || v <= 0) {
    return InvalidField(field, "must be a teacher id like t-123");
  }
  return v;
}

int64_t TermIndex(int year, int season) {
  return static_cast<int64_t>(year) * 2 +
         (season == cpb::SEASON_AUTUMN ? 1 : 0);
}

std::string TermEnd(const cpb::Term& term) {
  return term.season() == cpb::SEASON_AUTUMN
             ? absl::StrCat(term.year() + 1, "-01-31")
             : absl::StrCat(term.year(), "-07-31");
}

}  // namespace eduaid::teacher
