// The registry peer (RegistryClient): members and junior-high graduates.
#include "absl/strings/str_cat.h"
#include "services/common/peer.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/vocational/offer_store.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {
namespace {

bool InSchool(const rpb::Enrolment& e) {
  return e.status() == rpb::ENROLMENT_STATUS_ENROLLED ||
         e.status() == rpb::ENROLMENT_STATUS_SUSPENDED;
}

}  // namespace

absl::Status VocationalTraining::MemberNotInScope(const std::string& field) {
  return absl::NotFoundError(absl::StrCat(
      field, ": no registered household member with this id in your scope"));
}

std::string VocationalTraining::RegistryPeer() const {
  return registry_->Peer();
}

absl::StatusOr<rpb::Student> VocationalTraining::FetchMember(
    const std::string& field, const std::string& member_id) {
  rpb::GetStudentRequest req;
  req.set_member_id(member_id);
  rpb::GetStudentResponse resp;
  grpc::ClientContext ctx;
  registry_channel_->Prepare(&ctx);
  grpc::Status st = registry_->stub().GetStudent(&ctx, req, &resp);
  if (st.ok()) return resp.student();
  // Two answers are this service's own, on purpose: the caller sent the id.
  switch (st.error_code()) {
    case grpc::StatusCode::NOT_FOUND:
      return absl::NotFoundError(absl::StrCat(
          field, ": no member of a registered household has this id"));
    case grpc::StatusCode::INVALID_ARGUMENT:
      return InvalidField(field,
                          "is not a member id the registry issues "
                          "(e.g. m-123)");
    default:
      return PeerError(RegistryPeer(), st, "read the member");
  }
}

absl::StatusOr<rpb::Student> VocationalTraining::FetchMemberInScope(
    const Principal& p, const std::string& field,
    const std::string& member_id) {
  auto member = FetchMember(field, member_id);
  const bool unknown = member.status().code() == absl::StatusCode::kNotFound;
  if (unknown || (member.ok() && !p.Covers(member->region_code()))) {
    return MemberNotInScope(field);
  }
  return member;
}

absl::StatusOr<std::vector<rpb::Student>> VocationalTraining::FetchGraduates(
    const std::string& region, int year) {
  rpb::ListStudentsRequest filter;
  filter.set_region_prefix(region);
  filter.set_stage(cpb::SCHOOL_STAGE_JUNIOR_HIGH);
  filter.set_status(rpb::ENROLMENT_STATUS_GRADUATED);
  std::vector<rpb::Student> out;
  RETURN_IF_ERROR(registry_->ForEachStudent(
      filter, [&](const rpb::Student& s) -> absl::Status {
        if (s.current_enrolment().term().year() == year) out.push_back(s);
        return absl::OkStatus();
      }));
  return out;
}

absl::StatusOr<std::vector<std::pair<int64_t, std::string>>>
VocationalTraining::FindWentOn(const Principal& p, const std::string& region,
                               int year,
                               const std::vector<rpb::Student>& graduates) {
  std::set<std::string> still_graduates;
  for (const auto& g : graduates) still_graduates.insert(g.member_id());
  std::vector<OfferRef> open;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(open, OpenOffers(c, region, year));
    return absl::OkStatus();
  }));
  std::vector<std::pair<int64_t, std::string>> went_on;
  for (const OfferRef& o : open) {
    // Not a graduate with no school any more: ask where the member went.
    if (still_graduates.count(o.member_id)) continue;
    auto s = FetchMemberInScope(p, "member_id", o.member_id);
    if (s.status().code() == absl::StatusCode::kNotFound) continue;
    RETURN_IF_ERROR(s.status());
    const auto& cur = s->current_enrolment();
    if (InSchool(cur)) {
      went_on.push_back(
          {o.id, absl::StrCat("enrolled at ", cur.school_code(), " ",
                              cur.school_name(), " (",
                              cpb::SchoolStage_Name(cur.stage()), ")")});
    }
  }
  return went_on;
}

}  // namespace eduaid::vocational
