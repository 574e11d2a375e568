// The household views: ListHouseholds (every registered household of a
// region, the population of a home-visit campaign) and GetHouseholds (up
// to 100 households whole, as a county officer reads a case file). Both
// read a page or a batch in a few set-based queries.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/arrangement_store.h"
#include "services/registry/dropout_case_store.h"
#include "services/registry/household_store.h"
#include "services/registry/household_view_store.h"
#include "services/registry/registry.h"
#include "services/registry/special_group_store.h"

namespace eduaid::registry {

absl::Status Registry::ListHouseholds(CallContext& call,
                                      const pb::ListHouseholdsRequest& req,
                                      pb::ListHouseholdsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  ASSIGN_OR_RETURN(const int size,
                   ValidatePageSize("page_size", req.page_size(), 500, 1000));
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  // Keyset paging by household id (a string key: the token carries it).
  const std::string filters = absl::StrCat("households|", region);
  ASSIGN_OR_RETURN(const std::string after,
                   DecodePageToken(req.page_token(), filters));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(std::vector<HouseholdRecord> households,
                     ListHouseholdsPage(c, region, after, int64_t{size} + 1));
    const size_t keep = std::min(households.size(), static_cast<size_t>(size));
    std::vector<const std::string*> ids;
    ids.reserve(keep);
    for (size_t i = 0; i < keep; ++i)
      ids.push_back(&households[i].household_id);
    ASSIGN_OR_RETURN(auto states, MemberStates(c, ids));
    std::unordered_map<std::string, std::vector<MemberState>> by_household;
    for (auto& [household, state] : states) {
      by_household[household].push_back(std::move(state));
    }
    for (size_t i = 0; i < keep; ++i) {
      const HouseholdRecord& h = households[i];
      auto* out = resp->add_households();
      out->set_household_id(h.household_id);
      out->set_region_code(h.region_code);
      out->set_household_status(
          static_cast<::eduaid::common::v1::HouseholdStatus>(h.status));
      SummarizeMembers(std::move(by_household[h.household_id]), out);
    }
    if (households.size() > keep) {
      resp->set_next_page_token(
          EncodePageToken(households[keep - 1].household_id, filters));
    }
    call.NoteBulkRead(keep);
    return absl::OkStatus();
  });
}

absl::Status Registry::GetHouseholds(CallContext& call,
                                     const pb::GetHouseholdsRequest& req,
                                     pb::GetHouseholdsResponse* resp) {
  if (auto v = HouseholdIdsViolations(req.household_ids(), "household_ids",
                                      kMaxHouseholdsPerGet);
      !v.empty()) {
    return InvalidFields(v);
  }
  std::vector<const std::string*> ids;
  for (const auto& id : req.household_ids()) ids.push_back(&id);
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto found, FindHouseholds(c, ids));
    // A household outside the caller's region is answered as one that does
    // not exist (whether it is registered is itself personal data); the
    // audit records the refusal.
    std::vector<const HouseholdRecord*> visible;
    for (const std::string* id : ids) {
      auto it = found.find(*id);
      if (it != found.end() && call.principal.Covers(it->second.region_code)) {
        visible.push_back(&it->second);
        call.AddRecord(*id);
        continue;
      }
      if (it != found.end()) call.NoteHiddenDenial(*id);
      resp->add_not_found(*id);
    }
    if (visible.empty()) return absl::OkStatus();
    return FillHouseholds(c, visible, call.principal.SeesPersonalData(), resp);
  }));
  call.personal_data = call.principal.SeesPersonalData();
  return absl::OkStatus();
}

pb::SchoolingArrangement Registry::ArrangementProto(const ArrangementRecord& a,
                                                    bool names) const {
  pb::SchoolingArrangement out;
  // Where a child lives and studies, the evidence and why it ended are for
  // those who see personal data; agencies get the kind, school and dates.
  auto text = [&](const std::string& enc, const char* ctx) {
    return names ? DecryptOrEmpty(enc, ctx) : std::string();
  };
  ToProto(a,
          {text(a.place_enc, kCtxPlace), text(a.evidence_enc, kCtxEvidence),
           text(a.end_reason_enc, kCtxEndReason),
           NameFor(names, DecryptOrEmpty(a.name_enc, kCtxName))},
          &out);
  return out;
}

absl::Status Registry::FillHouseholds(
    SqlConnection& c, const std::vector<const HouseholdRecord*>& households,
    bool names, pb::GetHouseholdsResponse* resp) const {
  std::vector<const std::string*> ids;
  std::unordered_map<std::string, pb::Household*> by_id;
  for (const HouseholdRecord* h : households) {
    ids.push_back(&h->household_id);
    pb::Household* out = resp->add_households();
    out->set_household_id(h->household_id);
    out->set_region_code(h->region_code);
    out->set_household_status(
        static_cast<::eduaid::common::v1::HouseholdStatus>(h->status));
    out->set_registration_year(static_cast<int32_t>(h->registration_year));
    by_id[h->household_id] = out;
  }
  ASSIGN_OR_RETURN(auto members, HouseholdMembers(c, ids));
  ASSIGN_OR_RETURN(auto states, MemberStates(c, ids));
  ASSIGN_OR_RETURN(auto left_behind, LeftBehindOfHouseholds(c, ids));
  ASSIGN_OR_RETURN(auto plans, DisabilityPlansOfHouseholds(c, ids));
  ASSIGN_OR_RETURN(auto cases, DropoutCasesOfHouseholds(c, ids));
  ASSIGN_OR_RETURN(auto arrangements, ArrangementsOfHouseholds(c, ids));
  // Each member's student entry, by member id, to attach records to.
  std::unordered_map<int64_t, pb::Student*> students;
  std::unordered_map<int64_t, pb::Household*> household_of;
  for (const HouseholdMemberRecord& m : members) {
    pb::Household* h = by_id[m.member.household_id];
    pb::Student* s = h->add_members();
    ToProto(m.member, m.member.id_masked,
            NameFor(names, DecryptOrEmpty(m.member.name_enc, kCtxName)), s);
    if (m.current) ToProto(*m.current, s->mutable_current_enrolment());
    students[m.member.id] = s;
    household_of[m.member.id] = h;
  }
  std::map<int64_t, pb::Household*> out_of_school;  // member id order
  for (const auto& [household, state] : states) {
    if (state.out_of_school) out_of_school[state.member_id] = by_id[household];
  }
  for (const auto& [id, h] : out_of_school) {
    h->add_out_of_school_member_ids(MemberIdString(id));
  }
  for (const auto& [id, l] : left_behind) {
    ToProto(l, NameFor(names, DecryptOrEmpty(l.carer_name_enc, kCtxCarer)),
            names ? DecryptOrEmpty(l.report_note_enc, kCtxReportNote) : "",
            students[id]->mutable_left_behind());
  }
  for (const auto& [id, p] : plans) {
    ToProto(p, names ? DecryptOrEmpty(p.report_note_enc, kCtxReportNote) : "",
            students[id]->mutable_disability_plan());
  }
  for (const DropoutCaseRecord& d : cases) {
    ToProto(d, NameFor(names, DecryptOrEmpty(d.name_enc, kCtxName)),
            household_of[d.member_id]->add_dropout_cases());
  }
  for (const ArrangementRecord& a : arrangements) {
    pb::SchoolingArrangement p = ArrangementProto(a, names);
    if (a.running) *students[a.member_id]->mutable_arrangement() = p;
    *household_of[a.member_id]->add_arrangements() = std::move(p);
  }
  return absl::OkStatus();
}

}  // namespace eduaid::registry
