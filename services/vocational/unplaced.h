// The standing report of junior-high graduates with no school and no
// offer, as pure functions (no SQL, no RPC): who still counts, what the
// note says, and the order (longest waiting first).
#ifndef EDUAID_SERVICES_VOCATIONAL_UNPLACED_H_
#define EDUAID_SERVICES_VOCATIONAL_UNPLACED_H_

#include <cstdint>
#include <string>
#include <vector>

#include "eduaid/vocational/v1/vocational.pb.h"

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;

// The graduate's latest offer (id 0 when never offered), state as of today.
struct LastOffer {
  int64_t id = 0;
  pb::OfferState state = pb::OFFER_STATE_UNSPECIFIED;
  std::string expires_on, note;
};

// False while the graduate holds an open or accepted offer.
bool AwaitsPlacement(const LastOffer& last);
// What happened to the last offer, for the officer reading the list.
std::string UnplacedNote(const LastOffer& last);
// Days from `since` (YYYY-MM-DD; 0 when not a date) to `today`.
int DaysOpen(const std::string& since, const std::string& today);
// Longest open first, then by member id.
void SortUnplaced(std::vector<pb::UnplacedGraduate>* graduates);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_UNPLACED_H_
