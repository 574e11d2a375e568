// ImportSpecialGroups: left-behind records and disability plans in bulk,
// the way counties keep them. Bad rows are reported by row, good rows land
// (each as SetLeftBehind / SetDisabilityPlan would write it, confirmed).
#include <algorithm>
#include <map>
#include <optional>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/registry.h"
#include "services/registry/school_store.h"
#include "services/registry/special_group_store.h"

namespace eduaid::registry {
namespace {

namespace cpb = ::eduaid::common::v1;

// A row is answered as one of no member both for an unknown child and
// for one outside the caller's scope (whether a child is registered is
// itself personal data).
constexpr char kNoMemberInScope[] = "no registered member in your scope";

}  // namespace

// Each well-formed row's key: the member id, or the blind index to look
// the member up by.
struct Registry::RowKey {
  bool ok = false;
  int64_t member_id = 0;
  std::string id_hash;
};

absl::StatusOr<std::vector<std::optional<MemberRef>>>
Registry::ResolveRowMembers(SqlConnection& c,
                            const std::vector<RowKey>& keys) const {
  std::vector<const std::string*> hashes;
  for (const RowKey& k : keys) {
    if (k.ok && k.member_id == 0) hashes.push_back(&k.id_hash);
  }
  ASSIGN_OR_RETURN(auto by_hash, FindRegisteredMembers(c, hashes));
  std::vector<int64_t> ids;
  std::vector<int64_t> row_ids(keys.size(), 0);
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i].ok) continue;
    if (keys[i].member_id != 0) {
      row_ids[i] = keys[i].member_id;
    } else if (auto it = by_hash.find(keys[i].id_hash); it != by_hash.end()) {
      row_ids[i] = it->second.id;
    }
    if (row_ids[i] != 0) ids.push_back(row_ids[i]);
  }
  ASSIGN_OR_RETURN(auto refs, FindMemberRefs(c, ids));
  std::vector<std::optional<MemberRef>> out(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (auto it = refs.find(row_ids[i]); it != refs.end()) out[i] = it->second;
  }
  return out;
}

absl::Status Registry::ImportSpecialGroups(
    CallContext& call, const pb::ImportSpecialGroupsRequest& req,
    pb::ImportSpecialGroupsResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.rows_size() < 1 || req.rows_size() > kMaxSpecialGroupRows) {
    return InvalidField(
        "rows", absl::StrCat("must hold 1..", kMaxSpecialGroupRows, " rows"));
  }
  std::vector<cpb::RowError> shape_errors;
  std::vector<RowKey> keys(req.rows_size());
  for (int i = 0; i < req.rows_size(); ++i) {
    const pb::SpecialGroupRow& row = req.rows(i);
    if (auto v = SpecialGroupRowViolations(row); !v.empty()) {
      AppendRowErrors(row.row_number(), v, &shape_errors);
      continue;
    }
    keys[i].ok = true;
    if (!row.member_id().empty()) {
      keys[i].member_id = *ParseMemberId("member_id", row.member_id());
    } else {
      keys[i].id_hash = IdHash(NormalizeIdNumber(row.id_number()));
    }
  }
  call.AddRecord(absl::StrCat("special-groups:", req.rows_size(), "-rows"));
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "ImportSpecialGroups", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        resp->Clear();
        std::vector<cpb::RowError> errors = shape_errors;
        ASSIGN_OR_RETURN(auto members, ResolveRowMembers(c, keys));
        for (int i = 0; i < req.rows_size(); ++i) {
          if (!keys[i].ok) continue;
          RETURN_IF_ERROR(WriteSpecialGroupRow(c, call.principal, req.rows(i),
                                               members[i], resp, &errors, &fx));
        }
        std::stable_sort(errors.begin(), errors.end(),
                         [](const cpb::RowError& a, const cpb::RowError& b) {
                           return a.row_number() < b.row_number();
                         });
        for (auto& e : errors) *resp->add_errors() = std::move(e);
        resp->set_accepted_rows(resp->left_behind_set() +
                                resp->disability_plans_set());
        resp->set_rejected_rows(req.rows_size() - resp->accepted_rows());
        fx.rows_accepted = resp->accepted_rows();
        fx.rows_rejected = resp->rejected_rows();
        return absl::OkStatus();
      }));
  AfterCommit(fx);
  return absl::OkStatus();
}

absl::Status Registry::WriteSpecialGroupRow(
    SqlConnection& c, const Principal& p, const pb::SpecialGroupRow& row,
    const std::optional<MemberRef>& m, pb::ImportSpecialGroupsResponse* resp,
    std::vector<::eduaid::common::v1::RowError>* errors, Effects* fx) {
  auto reject = [&](const std::string& field, const std::string& rule) {
    AppendRowErrors(row.row_number(), {{field, rule}}, errors);
    return absl::OkStatus();
  };
  const std::string key_field =
      row.member_id().empty() ? "id_number" : "member_id";
  // A school officer: only children enrolled at its school.
  if (!m || !CheckRecordScope(p, m->region_code, m->school_code).ok()) {
    return reject(key_field, kNoMemberInScope);
  }
  const bool left_behind = row.has_left_behind();
  // One row per child and record kind in a request.
  auto [it, fresh] = fx->seen_rows.emplace(
      absl::StrCat(m->id, left_behind ? "|lb" : "|dp"), row.row_number());
  if (!fresh) return reject(key_field, DuplicateRowRule(it->second));
  if (left_behind) {
    const pb::LeftBehind& l = row.left_behind();
    RETURN_IF_ERROR(
        UpsertLeftBehind(c, m->id, ConfirmedLeftBehind(l, host_.crypto())));
    resp->set_left_behind_set(resp->left_behind_set() + 1);
  } else {
    const pb::DisabilityPlan& plan = row.disability_plan();
    const bool needs_school = PlanNeedsSchool(plan);
    if (needs_school) {
      ASSIGN_OR_RETURN(std::optional<SchoolRecord> school,
                       FindSchool(c, plan.school_code()));
      if (!school ||
          !CheckRecordScope(p, school->region_code, plan.school_code()).ok()) {
        return reject("disability_plan.school_code",
                      "no such school in your scope");
      }
    }
    RETURN_IF_ERROR(
        UpsertDisabilityPlan(c, m->id, ConfirmedPlan(plan, needs_school)));
    resp->set_disability_plans_set(resp->disability_plans_set() + 1);
  }
  fx->stale_students.push_back(m->id_hash);
  return absl::OkStatus();
}

}  // namespace eduaid::registry
