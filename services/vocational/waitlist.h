// The waitlist rule of a course, as pure functions (no SQL, no RPC):
// which tier an applicant falls in, the words of each tier and of the
// whole rule, and the explanation of a position. Places go by tier, then
// by application time, then by application number.
#ifndef EDUAID_SERVICES_VOCATIONAL_WAITLIST_H_
#define EDUAID_SERVICES_VOCATIONAL_WAITLIST_H_

#include <cstdint>
#include <map>
#include <string>

#include "eduaid/common/v1/common.pb.h"

namespace eduaid::vocational {

// The tier of an applicant to a course of `kind` (1 first): household
// status, and whether the applicant holds a vocational offer (majors only).
int64_t TierOf(int64_t kind, ::eduaid::common::v1::HouseholdStatus status,
               bool holds_offer);
// How many tiers a course of `kind` has (4 for a major, 2 for a class).
int64_t TierCount(int64_t kind);
// The words of tier `tier` for a course of `kind`.
std::string TierLabel(int64_t kind, int64_t tier);
// The whole rule of a course of `kind`, in words.
std::string WaitlistRule(int64_t kind);

// Why an applicant stands at `position` (1 first) in tier `tier`: `higher`
// applicants of higher tiers and `same` of the same tier are ahead.
std::string WaitlistReason(int64_t kind, int64_t position, int64_t tier,
                           int64_t higher, int64_t same);

// Walks a waitlist in rule order, telling for each next entry how many
// of the entries before it are in higher tiers and in its own tier.
class WaitlistWalk {
 public:
  struct Place {
    int64_t position = 0, higher = 0, same = 0;
  };
  Place Next(int64_t tier);

 private:
  std::map<int64_t, int64_t> per_tier_;
  int64_t position_ = 0;
};

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_WAITLIST_H_
