// Identification: the out-of-school list rebuilt as of a date, in full
// (RunIdentification) or for the members a write touched.
#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/chunked_sql.h"
#include "services/registry/out_of_school_store.h"
#include "services/registry/registry.h"

namespace eduaid::registry {
namespace {

namespace cpb = ::eduaid::common::v1;

// RefreshOutOfSchool for every member (`touched` null) or for the members
// whose blind indexes `touched` holds, in chunks; the number resolved.
absl::StatusOr<int64_t> RefreshMembers(SqlConnection& c,
                                       const std::string& as_of, int64_t run_id,
                                       const std::vector<std::string>* touched,
                                       const MemberScope& scope) {
  if (touched == nullptr) {
    return RefreshOutOfSchool(c, as_of, run_id, "", {}, scope);
  }
  std::vector<std::string> hashes(touched->begin(), touched->end());
  std::sort(hashes.begin(), hashes.end());
  hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
  int64_t resolved = 0;
  for (size_t i = 0; i < hashes.size(); i += kInListChunk) {
    const size_t k = std::min(kInListChunk, hashes.size() - i);
    std::vector<SqlValue> params(hashes.begin() + i, hashes.begin() + i + k);
    ASSIGN_OR_RETURN(
        const int64_t back,
        RefreshOutOfSchool(c, as_of, run_id,
                           absl::StrCat("m.id_hash IN ", Placeholders(k)),
                           params, scope));
    resolved += back;
  }
  return resolved;
}

}  // namespace

absl::StatusOr<pb::IdentificationSummary> Registry::Identify(
    SqlConnection& c, const std::string& as_of,
    const std::vector<std::string>* touched, const Scope& scope,
    const std::function<absl::StatusOr<StageCounts>()>& stages) {
  ASSIGN_OR_RETURN(const int64_t run_id,
                   InsertIdentificationRun(c, as_of, NowSec()));
  ASSIGN_OR_RETURN(const int64_t back_in_school,
                   RefreshMembers(c, as_of, run_id, touched, scope));
  // Members, the school-age band and the open list in one scan of the
  // members in scope.
  ASSIGN_OR_RETURN(const MemberCounts counts,
                   CountMembers(c, SchoolAgeMonths(as_of), run_id, scope));
  pb::IdentificationSummary sum;
  sum.set_run_id(run_id);
  sum.set_as_of(as_of);
  sum.set_members(counts.members);
  sum.set_school_age(counts.school_age);
  sum.set_out_of_school(counts.out_of_school);
  sum.set_newly_out_of_school(counts.newly_out_of_school);
  sum.set_back_in_school(back_in_school);
  ASSIGN_OR_RETURN(const StageCounts counted,
                   stages ? stages() : CountStages(c, scope));
  sum.set_identified(counted.identified);
  for (const auto& [stage, students] : counted.in_school) {
    auto* sc = sum.add_by_stage();
    sc->set_stage(static_cast<cpb::SchoolStage>(stage));
    sc->set_students(students);
  }
  RETURN_IF_ERROR(SaveRunSummary(c, run_id, sum));
  UpdateOutOfSchoolGauge(c, scope.region);
  return sum;
}

void Registry::UpdateOutOfSchoolGauge(SqlConnection& c,
                                      const std::string& region) {
  // The gauge is best effort: a failed count leaves it as it was.
  auto per_region = CountOutOfSchoolByRegion(c, region);
  if (!per_region.ok()) return;
  for (const auto& [code, open] : *per_region) {
    out_of_school_gauge_->Add({{"region", code}})
        .Set(static_cast<double>(open));
  }
}

absl::StatusOr<pb::IdentificationSummary> Registry::IdentifyTouched(
    SqlConnection& c, const Principal& p,
    const std::vector<std::string>& touched) {
  // The caller hears of its own scope only.
  ASSIGN_OR_RETURN(const Scope scope, ScopeOf(p));
  return Identify(c, TodayCst(), &touched, scope);
}

absl::Status Registry::RunIdentification(
    CallContext& call, const pb::RunIdentificationRequest& req,
    pb::RunIdentificationResponse* resp) {
  // The out-of-school list spans every region; only province-wide callers
  // (province officers and services) may recompute it.
  if (!call.principal.region.empty()) {
    return absl::PermissionDeniedError(
        "identification runs over all regions: province scope required");
  }
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (!req.as_of().empty()) RETURN_IF_ERROR(ValidateDate("as_of", req.as_of()));
  const std::string as_of = req.as_of().empty() ? TodayCst() : req.as_of();
  call.AddRecord(absl::StrCat("as_of:", as_of));
  // The per-stage counts are a second full join: count them on a reader,
  // on the other core, while the writer rebuilds the list. The reader's
  // snapshot is taken as the run starts; the writer lock keeps other
  // imports out for the run, so both see the same rows (bar a write that
  // commits in the instant between the two starting).
  auto stages = std::async(std::launch::async, [this] {
    absl::StatusOr<StageCounts> out;
    absl::Status st = db_.Read([&](SqlConnection& c) {
      out = CountStages(c, Scope{});
      return out.status();
    });
    if (!st.ok()) out = st;
    return out;
  });
  return host_.requests().Run(
      call.principal, "RunIdentification", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(
            *resp->mutable_summary(), Identify(c, as_of, nullptr, Scope{}, [&] {
              return stages.valid() ? stages.get() : CountStages(c, Scope{});
            }));
        return absl::OkStatus();
      });
}

}  // namespace eduaid::registry
