#include "services/common/term.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "services/common/status.h"

namespace eduaid {

namespace cpb = ::eduaid::common::v1;

absl::Status ValidateTerm(absl::string_view field, const cpb::Term& term) {
  if (term.year() < 2000 || term.year() > 2100) {
    return InvalidField(absl::StrCat(field, ".year"), "must be 2000..2100");
  }
  if (!cpb::Season_IsValid(term.season()) ||
      term.season() == cpb::SEASON_UNSPECIFIED) {
    return InvalidField(absl::StrCat(field, ".season"),
                        "must be SEASON_AUTUMN or SEASON_SPRING");
  }
  return absl::OkStatus();
}

bool TermSet(const cpb::Term& term) {
  return term.year() != 0 || term.season() != cpb::SEASON_UNSPECIFIED;
}

std::string TermKey(const cpb::Term& term) {
  return absl::StrCat(
      term.year(), term.season() == cpb::SEASON_AUTUMN ? "-AUTUMN" : "-SPRING");
}

std::optional<cpb::Term> ParseTermKey(absl::string_view key) {
  if (key.size() < 6 || key[4] != '-') return std::nullopt;
  int year = 0;
  if (!absl::SimpleAtoi(key.substr(0, 4), &year)) return std::nullopt;
  cpb::Term term;
  term.set_year(year);
  if (key.substr(5) == "AUTUMN") {
    term.set_season(cpb::SEASON_AUTUMN);
  } else if (key.substr(5) == "SPRING") {
    term.set_season(cpb::SEASON_SPRING);
  } else {
    return std::nullopt;
  }
  return term;
}

int TermOrdinal(const cpb::Term& term) {
  return term.year() * 2 + (term.season() == cpb::SEASON_AUTUMN ? 1 : 0);
}

std::string TermLabel(const cpb::Term& term) {
  return absl::StrCat(term.year(), "年",
                      term.season() == cpb::SEASON_AUTUMN ? "秋季" : "春季",
                      "学期");
}

std::string TermStart(const cpb::Term& term) {
  return absl::StrCat(
      term.year(), term.season() == cpb::SEASON_AUTUMN ? "-09-01" : "-02-01");
}

}  // namespace eduaid
