// The household view (issue 13): up to 100 households' offers,
// applications (every state) and grants. Members come from the registry;
// what they hold is read in one set-based query per record kind.
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/clients/household_scope.h"
#include "services/common/clock.h"
#include "services/common/household_ids.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/vocational/application_store.h"
#include "services/vocational/grant_store.h"
#include "services/vocational/offer_store.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {

absl::Status VocationalTraining::FillHouseholds(
    SqlConnection& c, const Principal& p,
    const std::map<std::string, std::string>& household_of,
    std::map<std::string, pb::HouseholdVocational>& out) {
  std::vector<std::string> members;
  for (const auto& [member, household] : household_of)
    members.push_back(member);
  const std::string today = TodayCst();
  ASSIGN_OR_RETURN(auto offers, OffersOfMembers(c, members));
  for (const OfferRecord& o : offers) {
    *out[household_of.at(o.member_id)].add_offers() =
        ToProto(o, ShowOfferName(p, o), today);
  }
  ASSIGN_OR_RETURN(auto applications, ApplicationsOfMembers(c, members));
  std::vector<int64_t> application_ids;
  std::map<int64_t, std::string> household_of_application;
  for (const ApplicationRecord& r : applications) {
    const std::string& h = household_of.at(r.member_id);
    household_of_application[r.id] = h;
    pb::Application* a = out[h].add_applications();
    *a = ToProto(r, ShowName(p, r.name_enc));
    if (a->state() == pb::APPLICATION_STATE_WAITLISTED) {
      RETURN_IF_ERROR(FillWaitlistPosition(c, r, a));
    }
    application_ids.push_back(r.id);
  }
  ASSIGN_OR_RETURN(auto grants, GrantsOfApplications(c, application_ids));
  for (const GrantRecord& g : grants) {
    *out[household_of_application.at(g.application_id)].add_grants() =
        ToProto(g);
  }
  return absl::OkStatus();
}

absl::Status VocationalTraining::GetHouseholds(
    CallContext& call, const pb::GetHouseholdsRequest& req,
    pb::GetHouseholdsResponse* resp) {
  RETURN_IF_ERROR(ValidateHouseholdIds("household_ids", req.household_ids()));
  const std::vector<std::string> ids(req.household_ids().begin(),
                                     req.household_ids().end());
  ASSIGN_OR_RETURN(auto scope, ScopeHouseholds<pb::HouseholdVocational>(
                                   *registry_, call, ids));
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    return FillHouseholds(c, call.principal, scope.household_of,
                          scope.in_scope);
  }));
  AnswerInRequestOrder(
      call, ids, scope.in_scope, resp, [](const pb::HouseholdVocational& h) {
        return static_cast<size_t>(h.offers_size() + h.applications_size());
      });
  return absl::OkStatus();
}

}  // namespace eduaid::vocational
