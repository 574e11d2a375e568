#include "services/registry/registry.h"

#include "absl/strings/str_cat.h"
#include "services/common/cache.h"
#include "services/common/crypto.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"

namespace eduaid::registry {

Registry::Registry(ServiceHost& host) : host_(host), db_(host.db()) {
  auto& rows = prometheus::BuildCounter()
                   .Name("eduaid_registry_import_rows_total")
                   .Help("Rows received by bulk imports, by result")
                   .Register(host.metrics());
  rows_accepted_ = &rows.Add({{"result", "accepted"}});
  rows_rejected_ = &rows.Add({{"result", "rejected"}});
  out_of_school_gauge_ =
      &prometheus::BuildGauge()
           .Name("eduaid_registry_out_of_school")
           .Help(
               "School-age children of registered households found in no "
               "school, per county, at the last identification run")
           .Register(host.metrics());
}

absl::Status CheckBlindIndexFormat(Database& db) {
  bool old = false;
  RETURN_IF_ERROR(db.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(old, HasUnprefixedBlindIndexes(c));
    return absl::OkStatus();
  }));
  if (old) {
    return absl::FailedPreconditionError(
        "the registry database holds blind indexes written by an earlier "
        "build (before the county prefix) and cannot be re-keyed in place: "
        "re-create it (locally: remove var/registry.db*) and import again");
  }
  return absl::OkStatus();
}

std::string Registry::IdHash(const std::string& id_number) const {
  // 128 bits of the keyed hash (collision-free at any realistic scale, half
  // the index size of the full 256) behind the ID number's first six
  // digits, the county that issued it. With that prefix a county's import
  // lands in one part of the unique index instead of dirtying a random
  // index page per row, which made every commit write most of the index to
  // the WAL (3x less commit time at 400k rows). The prefix says no more
  // than the region stored in clear beside it (and in the masked form).
  return absl::StrCat(id_number.substr(0, 6),
                      host_.crypto().ShortIndex(id_number, kCtxHash));
}

absl::StatusOr<Registry::Scope> Registry::ScopeOf(
    const Principal& p, absl::string_view region_filter) {
  ASSIGN_OR_RETURN(std::string region, ScopeRegionFilter(p, region_filter));
  Scope scope{std::move(region), ""};
  if (p.role == Role::kSchoolOfficer) {
    if (p.school.empty()) {
      return absl::PermissionDeniedError(
          "a school officer's token must name its school");
    }
    scope.school = p.school;
  }
  return scope;
}

void Registry::AfterCommit(const Effects& fx) {
  if (fx.rows_accepted > 0 || fx.rows_rejected > 0) {
    rows_accepted_->Increment(static_cast<double>(fx.rows_accepted));
    rows_rejected_->Increment(static_cast<double>(fx.rows_rejected));
  }
  if (fx.stale_students.empty()) return;
  std::vector<std::string> keys;
  keys.reserve(fx.stale_students.size());
  for (const auto& h : fx.stale_students) keys.push_back(StudentCacheKey(h));
  host_.cache().Invalidate(keys);
}

std::string Registry::StudentCacheKey(const std::string& id_hash) const {
  return CacheKey("registry", "student", id_hash);
}

std::string Registry::DecryptOrEmpty(const std::string& enc,
                                     absl::string_view context) const {
  if (enc.empty()) return "";
  auto plain = host_.crypto().Decrypt(enc, context);
  return plain.ok() ? *plain : "";
}

absl::Status Registry::ListAuditEvents(CallContext& call,
                                       const pb::ListAuditEventsRequest& req,
                                       pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

}  // namespace eduaid::registry
