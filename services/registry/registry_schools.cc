// UpsertSchool and ListSchools.
#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/registry.h"
#include "services/registry/school_store.h"

namespace eduaid::registry {

namespace cpb = ::eduaid::common::v1;

absl::Status Registry::UpsertSchool(CallContext& call,
                                    const pb::UpsertSchoolRequest& req,
                                    pb::UpsertSchoolResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  const auto& s = req.school();
  if (auto v = SchoolViolations(s); !v.empty()) return InvalidFields(v);
  RETURN_IF_ERROR(CheckRegion(call.principal, s.region_code()));
  call.AddRecord(absl::StrCat("school:", s.code()));
  return host_.requests().Run(
      call.principal, "UpsertSchool", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(std::optional<SchoolRecord> old,
                         FindSchool(c, s.code()));
        // A school moves only between regions both in the caller's scope.
        if (old && !call.principal.Covers(old->region_code)) {
          return CheckRegion(call.principal, old->region_code);
        }
        RETURN_IF_ERROR(registry::UpsertSchool(c, s, NowSec()));
        *resp->mutable_school() = s;
        resp->set_created(!old.has_value());
        return absl::OkStatus();
      });
}

absl::Status Registry::ListSchools(CallContext& call,
                                   const pb::ListSchoolsRequest& req,
                                   pb::ListSchoolsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!cpb::SchoolStage_IsValid(req.stage())) {
    return InvalidField("stage", "is not a known school stage");
  }
  ASSIGN_OR_RETURN(const int size,
                   ValidatePageSize("page_size", req.page_size()));
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  // Schools page by code, not by id.
  const std::string filters =
      absl::StrCat("schools|", region, "|", req.stage());
  ASSIGN_OR_RETURN(const std::string last,
                   DecodePageToken(req.page_token(), filters));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto rows, ListSchoolsPage(c, region, req.stage(), last,
                                                int64_t{size} + 1));
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(size); ++i) {
      ToProto(rows[i], resp->add_schools());
    }
    if (rows.size() > static_cast<size_t>(size)) {
      resp->set_next_page_token(
          EncodePageToken(resp->schools(size - 1).code(), filters));
    }
    return absl::OkStatus();
  });
}

}  // namespace eduaid::registry
