#include "services/common/clients/registry_client.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "services/common/status_macros.h"

namespace eduaid {

namespace {
constexpr int kHouseholdsPerCall = 100;
}  // namespace

RegistryClient::RegistryClient(const PeerChannel& channel, std::string target)
    : channel_(channel),
      target_(std::move(target)),
      stub_(rpb::StudentRegistryService::NewStub(channel.channel())) {}

std::string RegistryClient::Peer() const {
  return absl::StrCat("the registry (", target_, ")");
}

absl::Status RegistryClient::ForEachHousehold(
    const std::string& region_prefix,
    const std::function<absl::Status(const rpb::HouseholdSummary&)>& each,
    int page_size) const {
  std::string token;
  do {
    rpb::ListHouseholdsRequest req;
    req.set_region_prefix(region_prefix);
    req.set_page_size(page_size);
    req.set_page_token(token);
    rpb::ListHouseholdsResponse resp;
    grpc::ClientContext ctx;
    channel_.Prepare(&ctx);
    grpc::Status s = stub_->ListHouseholds(&ctx, req, &resp);
    if (!s.ok()) return PeerError(Peer(), s, "list the region's households");
    for (const auto& h : resp.households()) RETURN_IF_ERROR(each(h));
    token = resp.next_page_token();
  } while (!token.empty());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<rpb::Household>> RegistryClient::GetHouseholds(
    const std::vector<std::string>& ids,
    std::vector<std::string>* not_found) const {
  std::vector<rpb::Household> out;
  out.reserve(ids.size());
  for (size_t at = 0; at < ids.size(); at += kHouseholdsPerCall) {
    rpb::GetHouseholdsRequest req;
    const size_t end = std::min(ids.size(), at + kHouseholdsPerCall);
    for (size_t i = at; i < end; ++i) req.add_household_ids(ids[i]);
    rpb::GetHouseholdsResponse resp;
    grpc::ClientContext ctx;
    channel_.Prepare(&ctx);
    grpc::Status s = stub_->GetHouseholds(&ctx, req, &resp);
    if (!s.ok()) return PeerError(Peer(), s, "read the households");
    for (auto& h : *resp.mutable_households()) out.push_back(std::move(h));
    if (not_found != nullptr) {
      for (const auto& id : resp.not_found()) not_found->push_back(id);
    }
  }
  return out;
}

absl::StatusOr<rpb::Household> RegistryClient::GetHousehold(
    const std::string& field, const std::string& id) const {
  ASSIGN_OR_RETURN(auto found, GetHouseholds({id}));
  if (found.empty()) {
    return absl::NotFoundError(
        absl::StrCat(field, ": no registered household ", id));
  }
  return std::move(found.front());
}

absl::Status RegistryClient::ForEachStudent(
    const rpb::ListStudentsRequest& filter,
    const std::function<absl::Status(const rpb::Student&)>& each) const {
  rpb::ListStudentsRequest req = filter;
  req.set_page_size(1000);
  req.clear_page_token();
  do {
    rpb::ListStudentsResponse resp;
    grpc::ClientContext ctx;
    channel_.Prepare(&ctx);
    grpc::Status s = stub_->ListStudents(&ctx, req, &resp);
    if (!s.ok()) return PeerError(Peer(), s, "list the students");
    for (const auto& st : resp.students()) RETURN_IF_ERROR(each(st));
    req.set_page_token(resp.next_page_token());
  } while (!req.page_token().empty());
  return absl::OkStatus();
}

}  // namespace eduaid
