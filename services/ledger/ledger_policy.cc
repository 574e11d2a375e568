// Subsidy standards: loading a policy (file or RPC) and listing the
// programmes; the in-process cache of immutable standards.
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "services/common/cache.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/log.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/ledger/ledger.h"
#include "services/ledger/ledger_internal.h"
#include "services/ledger/standard_store.h"

namespace eduaid::ledger {

using internal::kStandardsCacheEntity;

absl::StatusOr<std::vector<pb::ProgrammeStandard>> Ledger::ReadStandards() {
  std::vector<pb::ProgrammeStandard> standards;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(standards, LoadAllStandards(c));
    return absl::OkStatus();
  }));
  return standards;
}

absl::StatusOr<std::shared_ptr<const pb::ProgrammeStandard>> Ledger::Standard(
    SqlConnection& c, const std::string& id) {
  {
    absl::MutexLock lock(&standards_mu_);
    auto it = standards_.find(id);
    if (it != standards_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(pb::ProgrammeStandard loaded, LoadStandard(c, id));
  auto s = std::make_shared<const pb::ProgrammeStandard>(std::move(loaded));
  // Standards never change once loaded, so this entry never goes stale.
  absl::MutexLock lock(&standards_mu_);
  return standards_.emplace(id, std::move(s)).first->second;
}

std::string Ledger::ProgrammeName(SqlConnection& c,
                                  const std::string& standard_id) {
  auto s = Standard(c, standard_id);
  return s.ok() ? (*s)->name() : std::string();
}

absl::Status Ledger::ApplyPolicy(SqlConnection& c, const std::string& actor,
                                 const pb::Policy& policy,
                                 pb::LoadPolicyResponse* resp) {
  const int64_t now = NowMs();
  for (int i = 0; i < policy.standards_size(); ++i) {
    pb::ProgrammeStandard s = policy.standards(i);
    const std::string id = StandardId(s);
    s.set_standard_id(id);
    s.set_policy_version(policy.version());
    const std::string hash = StandardContentHash(s);
    ASSIGN_OR_RETURN(bool inserted,
                     InsertStandard(c, s, hash, policy.version(), actor, now));
    if (inserted) {
      resp->set_standards_created(resp->standards_created() + 1);
      resp->add_created_standard_ids(id);
      continue;
    }
    ASSIGN_OR_RETURN(std::optional<std::string> prior, StandardHash(c, id));
    if (prior && *prior == hash) {
      resp->set_standards_unchanged(resp->standards_unchanged() + 1);
      continue;
    }
    return WithReason(
        absl::StatusCode::kFailedPrecondition, "STANDARD_IMMUTABLE",
        absl::StrCat("policy.standards[", i, "]: standard ", id,
                     " was loaded before with different content; a standard "
                     "never changes once loaded: publish a new one with a "
                     "later effective_from"));
  }
  return absl::OkStatus();
}

absl::Status Ledger::LoadPolicyFile(const std::string& path,
                                    pb::LoadPolicyResponse* resp) {
  ASSIGN_OR_RETURN(pb::Policy policy, ReadPolicyFile(path));
  if (absl::Status s = ValidatePolicy(policy); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("policy file ", path, ": ", s.message()));
  }
  RETURN_IF_ERROR(db_.Transact([&](SqlConnection& c) {
    resp->Clear();
    return ApplyPolicy(c, internal::kSystemActor, policy, resp);
  }));
  host_.cache().Invalidate({CacheKey("ledger", kStandardsCacheEntity, "all")});
  Log(LogLevel::kInfo, "policy loaded",
      {{"file", path},
       {"version", policy.version()},
       {"created", absl::StrCat(resp->standards_created())},
       {"unchanged", absl::StrCat(resp->standards_unchanged())}});
  return absl::OkStatus();
}

absl::Status Ledger::LoadPolicy(CallContext& call,
                                const pb::LoadPolicyRequest& req,
                                pb::LoadPolicyResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidatePolicy(req.policy()));
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "LoadPolicy", req.request_id(), req, resp,
      [&](SqlConnection& c) {
        return ApplyPolicy(c, call.principal.subject, req.policy(), resp);
      }));
  host_.cache().Invalidate({CacheKey("ledger", kStandardsCacheEntity, "all")});
  call.AddRecord(absl::StrCat("policy:", req.policy().version()));
  return absl::OkStatus();
}

absl::Status Ledger::ListProgrammes(CallContext& call,
                                    const pb::ListProgrammesRequest& req,
                                    pb::ListProgrammesResponse* resp) {
  const bool by_term = TermSet(req.term());
  if (by_term) RETURN_IF_ERROR(ValidateTerm("term", req.term()));
  pb::ListProgrammesResponse all;
  const std::string key = CacheKey("ledger", kStandardsCacheEntity, "all");
  std::optional<std::string> cached = CacheGet(key);
  if (!cached || !all.ParseFromString(*cached)) {
    all.Clear();
    ASSIGN_OR_RETURN(auto standards, ReadStandards());
    for (auto& s : standards) *all.add_standards() = std::move(s);
    CachePut(key, all.SerializeAsString());
  }
  if (!by_term) {
    *resp = std::move(all);
    return absl::OkStatus();
  }
  std::vector<pb::ProgrammeStandard> list(all.standards().begin(),
                                          all.standards().end());
  for (const auto& s : list) {
    if (StandardFor(list, s.programme_code(), req.term()) == &s) {
      *resp->add_standards() = s;
    }
  }
  return absl::OkStatus();
}

}  // namespace eduaid::ledger
