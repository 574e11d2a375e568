#include "services/vocational/waitlist.h"

#include "absl/strings/str_cat.h"
#include "services/vocational/course_store.h"

namespace eduaid::vocational {

namespace cpb = ::eduaid::common::v1;

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

std::string WaitlistReason(int64_t kind, int64_t position, int64_t tier,
                           int64_t higher, int64_t same) {
  return absl::StrCat(
      "position ", position, " (第", position, "位): tier ", tier, " of ",
      TierCount(kind), ", ", TierLabel(kind, tier), "; ahead: ", higher,
      " in higher tiers, ", same, " of the same tier who applied earlier");
}

WaitlistWalk::Place WaitlistWalk::Next(int64_t tier) {
  Place p;
  for (const auto& [t, n] : per_tier_) {
    if (t < tier) p.higher += n;
  }
  p.same = per_tier_[tier]++;
  p.position = ++position_;
  return p;
}

}  // namespace eduaid::vocational
