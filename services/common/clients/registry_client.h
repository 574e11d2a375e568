// The registry as the other services read it: one typed client instead of a
// paging loop per service. Every call carries this service's token and the
// channel's deadline; a failure comes back through PeerError, so the caller
// reports it with one meaning (UNAVAILABLE when a retry may cure it, the
// registry's own INVALID_ARGUMENT / NOT_FOUND otherwise).
#ifndef EDUAID_COMMON_CLIENTS_REGISTRY_CLIENT_H_
#define EDUAID_COMMON_CLIENTS_REGISTRY_CLIENT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "services/common/peer.h"

namespace eduaid {

namespace rpb = ::eduaid::registry::v1;

class RegistryClient {
 public:
  // `channel` must outlive the client; `target` names the registry in
  // errors ("dns:///registry:50051").
  RegistryClient(const PeerChannel& channel, std::string target);

  // "the registry (<target>)".
  std::string Peer() const;

  // Every registered household of `region_prefix` ("" = all), in household
  // id order, one page (up to `page_size`) at a time. Stops at the first
  // error `each` returns.
  absl::Status ForEachHousehold(
      const std::string& region_prefix,
      const std::function<absl::Status(const rpb::HouseholdSummary&)>& each,
      int page_size = 1000) const;

  // The households of `ids` whole (any number; asked 100 at a time), in
  // the order given; ids the registry does not know go to `not_found`.
  absl::StatusOr<std::vector<rpb::Household>> GetHouseholds(
      const std::vector<std::string>& ids,
      std::vector<std::string>* not_found = nullptr) const;

  // One household, or NOT_FOUND naming `field`.
  absl::StatusOr<rpb::Household> GetHousehold(const std::string& field,
                                              const std::string& id) const;

  // Every student matching `filter` (its page fields are ignored).
  absl::Status ForEachStudent(
      const rpb::ListStudentsRequest& filter,
      const std::function<absl::Status(const rpb::Student&)>& each) const;

  rpb::StudentRegistryService::Stub& stub() const { return *stub_; }
  const PeerChannel& channel() const { return channel_; }

 private:
  const PeerChannel& channel_;
  std::string target_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> stub_;
};

}  // namespace eduaid

#endif  // EDUAID_COMMON_CLIENTS_REGISTRY_CLIENT_H_
