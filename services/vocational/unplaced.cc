#include "services/vocational/unplaced.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"

namespace eduaid::vocational {

bool AwaitsPlacement(const LastOffer& last) {
  return last.state != pb::OFFER_STATE_OPEN &&
         last.state != pb::OFFER_STATE_ACCEPTED;
}

std::string UnplacedNote(const LastOffer& last) {
  switch (last.state) {
    case pb::OFFER_STATE_EXPIRED:
      return absl::StrCat("offer ", last.id, " expired on ", last.expires_on,
                          " without an application");
    case pb::OFFER_STATE_DECLINED:
      return absl::StrCat("offer ", last.id, " declined: ", last.note);
    case pb::OFFER_STATE_WITHDRAWN:
      return absl::StrCat("offer ", last.id, " closed (", last.note,
                          ") but the registry shows no school now");
    default:
      return "never offered: run offers for this graduation year";
  }
}

int DaysOpen(const std::string& since, const std::string& today) {
  return since.size() == 10 ? DaysBetween(since, today) : 0;
}

void SortUnplaced(std::vector<pb::UnplacedGraduate>* graduates) {
  std::sort(graduates->begin(), graduates->end(),
            [](const pb::UnplacedGraduate& a, const pb::UnplacedGraduate& b) {
              if (a.days_open() != b.days_open()) {
                return a.days_open() > b.days_open();
              }
              return a.member_id() < b.member_id();
            });
}

}  // namespace eduaid::vocational
