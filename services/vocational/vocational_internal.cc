#include "services/vocational/vocational_internal.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/page_token.h"
#include "services/common/status.h"

namespace eduaid::vocational::internal {
namespace {

absl::CivilDay ParseDay(absl::string_view date) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(date, &day)) return absl::CivilDay(1970, 1, 1);
  return day;
}

}  // namespace

int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

std::string FormatTs(int64_t ms) {
  if (ms == 0) return "";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromUnixMillis(ms),
                          absl::UTCTimeZone());
}

std::string DateCst(int64_t ms) {
  return absl::FormatTime("%Y-%m-%d", absl::FromUnixMillis(ms),
                          absl::FixedTimeZone(8 * 3600));
}

int DaysBetween(absl::string_view from, absl::string_view to) {
  return static_cast<int>(ParseDay(to) - ParseDay(from));
}

std::string AddDays(absl::string_view date, int days) {
  return absl::FormatCivilTime(ParseDay(date) + days);
}

bool IsCode(absl::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateMemberId(absl::string_view field, absl::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' ||
          c == '_' || c == ':' || c == '-')) {
      ok = false;
    }
  }
  if (ok) return absl::OkStatus();
  return InvalidField(field,
                      "must be a registry member id (1..64 of "
                      "A-Z a-z 0-9 . _ : -), e.g. m-123");
}

absl::Status ValidateRecordId(absl::string_view field, int64_t id) {
  if (id > 0) return absl::OkStatus();
  return InvalidField(field, "must be a positive id");
}

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

std::string TermKey(const cpb::Term& term) {
  return absl::StrCat(
      term.year(), term.season() == cpb::SEASON_AUTUMN ? "-AUTUMN" : "-SPRING");
}

cpb::Term ParseTermKey(absl::string_view key) {
  cpb::Term t;
  int year = 0;
  if (key.size() > 5 && absl::SimpleAtoi(key.substr(0, 4), &year)) {
    absl::string_view season = key.substr(4);
    if (season == "-AUTUMN" || season == "-SPRING") {
      t.set_year(year);
      t.set_season(season == "-AUTUMN" ? cpb::SEASON_AUTUMN
                                       : cpb::SEASON_SPRING);
    }
  }
  return t;
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

bool IsOfficerOrService(const Principal& p) {
  return p.role == Role::kProvinceOfficer || p.role == Role::kCityOfficer ||
         p.role == Role::kCountyOfficer || p.role == Role::kService;
}

absl::StatusOr<int64_t> DecodeIdCursor(absl::string_view token,
                                       absl::string_view filters) {
  auto last = DecodePageToken(token, filters);
  if (!last.ok()) return last.status();
  if (last->empty()) return 0;
  int64_t v = 0;
  if (!absl::SimpleAtoi(*last, &v)) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  return v;
}

int64_t TierCount(int64_t kind) { return kind == kMajor ? 4 : 2; }

int64_t TierOf(int64_t kind, cpb::HouseholdStatus status, bool holds_offer) {
  const bool poor = status == cpb::HOUSEHOLD_STATUS_POOR;
  if (kind != kMajor) return poor ? 1 : 2;
  return (poor ? 1 : 3) + (holds_offer ? 0 : 1);
}

std::string TierLabel(int64_t kind, int64_t tier) {
  if (kind != kMajor) {
    return tier == 1 ? "registered poor household (贫困户)"
                     : "household lifted out of poverty (已脱贫户)";
  }
  switch (tier) {
    case 1:
      return "registered poor household (贫困户), junior-high graduate "
             "holding a vocational offer (分流)";
    case 2:
      return "registered poor household (贫困户)";
    case 3:
      return "household lifted out of poverty (已脱贫户), junior-high "
             "graduate holding a vocational offer (分流)";
    default:
      return "household lifted out of poverty (已脱贫户)";
  }
}

std::string WaitlistRule(int64_t kind) {
  if (kind != kMajor) {
    return "Places go in this order: (1) members of registered poor "
           "households (贫困户) before members of households lifted out of "
           "poverty (已脱贫户), by the status at application; (2) earlier "
           "application first; (3) lower application number first.";
  }
  return "Places go in this order: (1) registered poor households (贫困户) "
         "before households lifted out of poverty (已脱贫户), by the status "
         "at application; (2) within each, junior-high graduates holding a "
         "vocational offer (初中毕业生分流) before other applicants; (3) "
         "earlier application first; (4) lower application number first.";
}

absl::Status MemberNotInScope(absl::string_view field) {
  return absl::NotFoundError(absl::StrCat(
      field, ": no registered household member with this id in your scope"));
}

void FillGrant(const SqlRow& r, ::eduaid::vocational::v1::Grant* g) {
  namespace pb = ::eduaid::vocational::v1;
  g->set_grant_id(r.Int(0));
  g->set_application_id(r.Int(1));
  g->set_member_id(r.Str(2));
  g->set_programme_code(r.Str(3));
  *g->mutable_term() = ParseTermKey(r.Str(4));
  g->set_state(static_cast<pb::GrantState>(r.Int(5)));
  g->set_request_id(r.Str(6));
  g->set_attempts(static_cast<int32_t>(r.Int(7)));
  g->set_last_error(r.Str(8));
  g->set_entitlement_id(r.Int(9));
  g->set_outcome(r.Str(10));
  g->set_queued_at(FormatTs(r.Int(11)));
  g->set_delivered_at(FormatTs(r.Int(12)));
  if (g->state() == pb::GRANT_STATE_PENDING) {
    g->set_next_attempt_at(FormatTs(r.Int(13)));
  }
  g->set_region_code(r.Str(14));
  g->set_originator_subject(r.Str(15));
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

}  // namespace eduaid::vocational::internal
