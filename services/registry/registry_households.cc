// ImportHouseholds: rows of the poverty registration database, checked on
// their own, then written in multi-row statements: new households and
// members go in with INSERTs that skip existing keys (ON CONFLICT DO
// NOTHING RETURNING tells which were new); only the rows that already
// existed are looked up and updated.
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"
#include "services/registry/household_store.h"
#include "services/registry/registry.h"

namespace eduaid::registry {

namespace cpb = ::eduaid::common::v1;

// One good row: its household and its member, as they are stored.
struct ImportRow {
  int64_t row_number = 0;
  HouseholdRecord household;
  MemberRecord member;
};

struct Registry::HouseholdImport {
  std::vector<ImportRow> good;
  std::vector<cpb::RowError> errors;
};

namespace {

// Households: the first row of each, in batch order.
std::vector<const ImportRow*> FirstRowPerHousehold(
    const std::vector<ImportRow>& rows) {
  std::vector<const ImportRow*> out;
  std::unordered_set<std::string> seen;
  for (const auto& r : rows) {
    if (seen.insert(r.household.household_id).second) out.push_back(&r);
  }
  return out;
}

// Writes the households of `rows`; counts them in `resp` and adds the
// members of households whose record changed to `touched`.
absl::Status WriteHouseholds(SqlConnection& c, const Principal& p,
                             const std::vector<ImportRow>& rows, int64_t now,
                             pb::ImportHouseholdsResponse* resp,
                             std::vector<std::string>* touched) {
  const std::vector<const ImportRow*> first = FirstRowPerHousehold(rows);
  std::vector<const HouseholdRecord*> households;
  for (const ImportRow* r : first) households.push_back(&r->household);
  std::unordered_set<std::string> created;
  RETURN_IF_ERROR(InsertNewHouseholds(c, households, now, &created));
  resp->set_households_created(static_cast<int64_t>(created.size()));
  std::vector<const std::string*> old_ids;
  for (const HouseholdRecord* h : households) {
    if (!created.count(h->household_id)) old_ids.push_back(&h->household_id);
  }
  ASSIGN_OR_RETURN(auto found, FindHouseholds(c, old_ids));
  for (const ImportRow* r : first) {
    const HouseholdRecord& h = r->household;
    auto old = found.find(h.household_id);
    if (old == found.end()) continue;  // new
    if (!p.Covers(old->second.region_code)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "row ", r->row_number,
          ": household is registered outside the caller's region scope; "
          "nothing was imported"));
    }
    if (old->second.region_code != h.region_code ||
        old->second.registration_year != h.registration_year ||
        old->second.status != h.status) {
      RETURN_IF_ERROR(UpdateHousehold(c, h, now));
      ASSIGN_OR_RETURN(auto members, HouseholdMemberHashes(c, h.household_id));
      touched->insert(touched->end(), members.begin(), members.end());
      if (old->second.region_code != h.region_code) {
        RETURN_IF_ERROR(MoveHouseholdMembers(c, h.household_id, h.region_code));
      }
    }
    resp->set_households_updated(resp->households_updated() + 1);
  }
  return absl::OkStatus();
}

// Writes the members of `rows`, in row order (member ids follow the file);
// counts them in `resp` and adds every one to `touched`.
absl::Status WriteMembers(SqlConnection& c, const Principal& p,
                          const std::vector<ImportRow>& rows, int64_t now,
                          pb::ImportHouseholdsResponse* resp,
                          std::vector<std::string>* touched) {
  std::vector<const MemberRecord*> members;
  for (const auto& r : rows) members.push_back(&r.member);
  std::unordered_set<std::string> created;
  RETURN_IF_ERROR(InsertNewMembers(c, members, now, &created));
  resp->set_members_created(static_cast<int64_t>(created.size()));
  std::vector<const std::string*> old_hashes;
  for (const MemberRecord* m : members) {
    if (!created.count(m->id_hash)) old_hashes.push_back(&m->id_hash);
  }
  ASSIGN_OR_RETURN(auto found, FindRegisteredMembers(c, old_hashes));
  for (const auto& r : rows) {
    touched->push_back(r.member.id_hash);
    auto old = found.find(r.member.id_hash);
    if (old == found.end()) continue;  // new
    if (!p.Covers(old->second.region_code)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "row ", r.row_number,
          ": member is registered outside the caller's region scope; "
          "nothing was imported"));
    }
    RETURN_IF_ERROR(UpdateImportedMember(c, old->second.id, r.member, now));
    resp->set_members_updated(resp->members_updated() + 1);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Registry::HouseholdImport> Registry::CheckHouseholdRows(
    const Principal& p, const pb::ImportHouseholdsRequest& req) const {
  HouseholdImport out;
  out.good.reserve(req.rows_size());
  std::unordered_map<std::string, int64_t> seen_ids;
  std::unordered_map<std::string, const pb::HouseholdMemberRow*> households;
  const int this_year = std::stoi(TodayCst().substr(0, 4));
  for (int i = 0; i < req.rows_size(); ++i) {
    const auto& row = req.rows(i);
    const int64_t rn = row.row_number() > 0 ? row.row_number() : i + 1;
    std::vector<FieldViolation> v = HouseholdRowViolations(row, this_year);
    if (ValidateRegionCode("region_code", row.region_code()).ok() &&
        !p.Covers(row.region_code())) {
      return absl::PermissionDeniedError(absl::StrCat(
          "row ", rn, ": region_code lies outside the caller's region scope '",
          p.region, "'; nothing was imported"));
    }
    auto info = ValidateIdNumber("id_number", row.id_number());
    const std::string id = NormalizeIdNumber(row.id_number());
    if (info.ok()) {
      auto [it, inserted] = seen_ids.emplace(id, rn);
      if (!inserted) v.push_back({"id_number", DuplicateRowRule(it->second)});
    }
    if (v.empty()) {
      const auto* h =
          households.emplace(row.household_id(), &row).first->second;
      if (h != &row && (h->region_code() != row.region_code() ||
                        h->registration_year() != row.registration_year() ||
                        h->household_status() != row.household_status())) {
        v.push_back({"household_id",
                     absl::StrCat("conflicts with row ", h->row_number(),
                                  " of the same household (region, year or "
                                  "status differ)")});
      }
    }
    if (!v.empty()) {
      AppendRowErrors(rn, v, &out.errors);
      continue;
    }
    ImportRow r;
    r.row_number = rn;
    r.household = {row.household_id(), row.region_code(),
                   row.registration_year(), row.household_status()};
    r.member.id_hash = IdHash(id);
    r.member.id_enc = host_.crypto().Encrypt(id, kCtxId);
    r.member.id_masked = MaskIdNumber(id);
    r.member.name_enc = host_.crypto().Encrypt(row.name(), kCtxName);
    r.member.household_id = row.household_id();
    r.member.region_code = row.region_code();
    r.member.birth_month = info->birth_date().substr(0, 7);
    r.member.male = info->male;
    r.member.relation = row.relation();
    out.good.push_back(std::move(r));
  }
  return out;
}

absl::Status Registry::WriteHouseholdRows(
    SqlConnection& c, const Principal& p,
    const pb::ImportHouseholdsRequest& req, const HouseholdImport& import,
    pb::ImportHouseholdsResponse* resp, Effects* fx) {
  const int64_t now = NowSec();
  RETURN_IF_ERROR(
      WriteHouseholds(c, p, import.good, now, resp, &fx->stale_students));
  RETURN_IF_ERROR(
      WriteMembers(c, p, import.good, now, resp, &fx->stale_students));
  resp->set_accepted_rows(static_cast<int64_t>(import.good.size()));
  resp->set_rejected_rows(req.rows_size() -
                          static_cast<int64_t>(import.good.size()));
  for (const auto& e : import.errors) *resp->add_errors() = e;
  if (req.skip_identification()) return absl::OkStatus();
  ASSIGN_OR_RETURN(*resp->mutable_identification(),
                   IdentifyTouched(c, p, fx->stale_students));
  return absl::OkStatus();
}

absl::Status Registry::ImportHouseholds(CallContext& call,
                                        const pb::ImportHouseholdsRequest& req,
                                        pb::ImportHouseholdsResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRowCount(req.rows_size()));
  ASSIGN_OR_RETURN(const HouseholdImport import,
                   CheckHouseholdRows(call.principal, req));
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "ImportHouseholds", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        return WriteHouseholdRows(c, call.principal, req, import, resp, &fx);
      }));
  fx.rows_accepted = resp->accepted_rows();
  fx.rows_rejected = resp->rejected_rows();
  AfterCommit(fx);
  call.AddRecord(
      absl::StrCat("rows:", resp->accepted_rows(), "/", req.rows_size()));
  return absl::OkStatus();
}

}  // namespace eduaid::registry
