// The household view each service answers (GetHouseholds): the registry
// says which members a household has and where it lives; the caller's
// region decides which households the answer may hold. A household outside
// it reads exactly like an unknown one (listed in not_found) and is audited
// as a hidden denial. `View` is the service's per-household message, with
// household_id, region_code and member_ids.
#ifndef EDUAID_COMMON_CLIENTS_HOUSEHOLD_SCOPE_H_
#define EDUAID_COMMON_CLIENTS_HOUSEHOLD_SCOPE_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "services/common/call_context.h"
#include "services/common/clients/registry_client.h"
#include "services/common/status_macros.h"

namespace eduaid {

template <typename View>
struct HouseholdScope {
  std::map<std::string, View> in_scope;             // household id -> view
  std::map<std::string, std::string> household_of;  // member id -> household
};

// The households of `ids` the caller may see, each view started with its
// id, county and member ids. Unknown ids are simply absent.
template <typename View>
absl::StatusOr<HouseholdScope<View>> ScopeHouseholds(
    const RegistryClient& registry, CallContext& call,
    const std::vector<std::string>& ids) {
  ASSIGN_OR_RETURN(std::vector<rpb::Household> found,
                   registry.GetHouseholds(ids));
  HouseholdScope<View> scope;
  for (const rpb::Household& h : found) {
    if (!call.principal.Covers(h.region_code())) {
      call.NoteHiddenDenial(absl::StrCat("household:", h.household_id()));
      continue;
    }
    View& out = scope.in_scope[h.household_id()];
    out.set_household_id(h.household_id());
    out.set_region_code(h.region_code());
    for (const rpb::Student& m : h.members()) {
      out.add_member_ids(m.member_id());
      scope.household_of[m.member_id()] = h.household_id();
    }
  }
  return scope;
}

// Moves the views into `resp` in request order, the rest into not_found;
// records each household read and the number of named records
// (`named(view)`) as one bulk read.
template <typename View, typename Response, typename Named>
void AnswerInRequestOrder(CallContext& call,
                          const std::vector<std::string>& ids,
                          std::map<std::string, View>& in_scope, Response* resp,
                          Named named) {
  size_t named_records = 0;
  for (const std::string& id : ids) {
    auto it = in_scope.find(id);
    if (it == in_scope.end()) {
      resp->add_not_found(id);
      continue;
    }
    named_records += named(it->second);
    *resp->add_households() = std::move(it->second);
    call.AddRecord(absl::StrCat("household:", id));
  }
  call.NoteBulkRead(named_records);
}

}  // namespace eduaid

#endif  // EDUAID_COMMON_CLIENTS_HOUSEHOLD_SCOPE_H_
