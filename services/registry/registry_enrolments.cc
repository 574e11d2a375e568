// RecordEnrolments (school rosters, in bulk) and TransferStudent.
#include <algorithm>
#include <optional>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"
#include "services/common/validate.h"
#include "services/registry/enrolment_store.h"
#include "services/registry/registry.h"
#include "services/registry/school_store.h"

namespace eduaid::registry {

namespace cpb = ::eduaid::common::v1;

// One good roster row.
struct RosterRow {
  int64_t row_number = 0;
  std::string id_hash;
  const pb::EnrolmentRow* row = nullptr;
};

struct Registry::RosterImport {
  std::vector<RosterRow> good;
  std::vector<cpb::RowError> errors;
};

namespace {

enum class RosterOutcome { kRecorded, kUnchanged, kRejected };

// The schools a roster names, each read once per call.
using SchoolCache =
    std::unordered_map<std::string, std::optional<SchoolRecord>>;

absl::StatusOr<const std::optional<SchoolRecord>*> CachedSchool(
    SqlConnection& c, const std::string& code, SchoolCache* schools) {
  auto it = schools->find(code);
  if (it == schools->end()) {
    ASSIGN_OR_RETURN(std::optional<SchoolRecord> s, FindSchool(c, code));
    it = schools->emplace(code, std::move(s)).first;
  }
  return &it->second;
}

// Records one roster row (closing the child's current enrolment), or says
// why not in `errors`; PERMISSION_DENIED (the whole call fails) for a
// school outside the caller's scope.
absl::StatusOr<RosterOutcome> RecordRosterRow(
    SqlConnection& c, const Principal& p, const RosterRow& r, int64_t now,
    SchoolCache* schools, std::vector<cpb::RowError>* errors) {
  const pb::EnrolmentRow& row = *r.row;
  auto reject = [&](const char* field, std::string rule) {
    AppendRowErrors(r.row_number, {{field, std::move(rule)}}, errors);
    return RosterOutcome::kRejected;
  };
  ASSIGN_OR_RETURN(const std::optional<SchoolRecord>* school,
                   CachedSchool(c, row.school_code(), schools));
  if (!school->has_value()) {
    return reject("school_code", "no such school (UpsertSchool first)");
  }
  if (!p.Covers((*school)->region_code) || !p.CoversSchool(row.school_code())) {
    return absl::PermissionDeniedError(
        absl::StrCat("row ", r.row_number,
                     ": school lies outside the caller's scope; nothing was "
                     "recorded"));
  }
  if (!OffersStage(**school, row.stage())) {
    return reject("stage", "the school does not offer this stage");
  }
  ASSIGN_OR_RETURN(std::optional<EnrolmentRecord> cur,
                   FindCurrentEnrolment(c, r.id_hash));
  if (cur) {
    // A child whose current enrolment is held outside the caller's scope
    // may move in (a new ENROLLED row here closes the old one as
    // TRANSFERRED); any other status would close or change the other
    // school's record (docs/REGISTRY.md, rosters).
    const bool held_elsewhere =
        !p.Covers(cur->school_region) || !p.CoversSchool(cur->school_code);
    if (held_elsewhere && row.status() != pb::ENROLMENT_STATUS_ENROLLED) {
      return reject("status",
                    "the child's current enrolment is held at a school "
                    "outside the caller's scope: only a move-in (ENROLLED) "
                    "may be recorded");
    }
    if (SameEnrolment(*cur, row)) return RosterOutcome::kUnchanged;
    RETURN_IF_ERROR(CloseEnrolment(
        c, cur->id,
        ClosesAsTransfer(cur->school_code, cur->status, row.school_code())));
  }
  EnrolmentRecord e;
  e.school_code = row.school_code();
  e.stage = row.stage();
  e.grade = row.grade();
  e.term_year = row.term().year();
  e.term_season = row.term().season();
  e.status = row.status();
  e.boarder = row.boarder();
  e.recorded_at = now;
  e.reason = "roster";
  RETURN_IF_ERROR(InsertCurrentEnrolment(c, r.id_hash, e));
  return RosterOutcome::kRecorded;
}

// The previous enrolment as the receiving side of a transfer may see it:
// whole when the old school is in its scope, else only where it came from.
void PreviousEnrolmentAnswer(const Principal& p, const EnrolmentRecord& old,
                             const std::string& reason, pb::Enrolment* out) {
  if (p.Covers(old.school_region) && p.CoversSchool(old.school_code)) {
    ToProto(old, out);
    out->set_reason(reason);
  } else {
    out->set_reason(p.Covers(old.school_region)
                        ? "transferred in from another school"
                        : "transferred in from another county");
  }
  out->set_status(pb::ENROLMENT_STATUS_TRANSFERRED);
  out->set_current(false);
}

}  // namespace

Registry::RosterImport Registry::CheckRosterRows(
    const pb::RecordEnrolmentsRequest& req) const {
  RosterImport out;
  std::unordered_map<std::string, int64_t> seen;
  for (int i = 0; i < req.rows_size(); ++i) {
    const auto& row = req.rows(i);
    const int64_t rn = row.row_number() > 0 ? row.row_number() : i + 1;
    std::vector<FieldViolation> v = EnrolmentRowViolations(row);
    std::string hash;
    if (ValidateIdNumber("id_number", row.id_number()).ok()) {
      hash = IdHash(NormalizeIdNumber(row.id_number()));
      auto [it, inserted] = seen.emplace(hash, rn);
      if (!inserted) v.push_back({"id_number", DuplicateRowRule(it->second)});
    }
    if (!v.empty()) {
      AppendRowErrors(rn, v, &out.errors);
      continue;
    }
    out.good.push_back({rn, std::move(hash), &row});
  }
  return out;
}

absl::Status Registry::WriteRosterRows(SqlConnection& c, const Principal& p,
                                       const pb::RecordEnrolmentsRequest& req,
                                       const RosterImport& roster,
                                       pb::RecordEnrolmentsResponse* resp,
                                       Effects* fx) {
  const int64_t now = NowSec();
  SchoolCache schools;
  std::vector<cpb::RowError> errors = roster.errors;
  int64_t accepted = 0, unchanged = 0;
  for (const auto& r : roster.good) {
    ASSIGN_OR_RETURN(RosterOutcome outcome,
                     RecordRosterRow(c, p, r, now, &schools, &errors));
    if (outcome == RosterOutcome::kUnchanged) ++unchanged;
    if (outcome != RosterOutcome::kRecorded) continue;
    ++accepted;
    fx->stale_students.push_back(r.id_hash);
  }
  std::sort(errors.begin(), errors.end(),
            [](const cpb::RowError& a, const cpb::RowError& b) {
              return a.row_number() < b.row_number();
            });
  for (auto& e : errors) *resp->add_errors() = std::move(e);
  resp->set_accepted_rows(accepted + unchanged);
  resp->set_unchanged_rows(unchanged);
  resp->set_rejected_rows(req.rows_size() - accepted - unchanged);
  if (req.skip_identification()) return absl::OkStatus();
  ASSIGN_OR_RETURN(*resp->mutable_identification(),
                   IdentifyTouched(c, p, fx->stale_students));
  return absl::OkStatus();
}

absl::Status Registry::RecordEnrolments(CallContext& call,
                                        const pb::RecordEnrolmentsRequest& req,
                                        pb::RecordEnrolmentsResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRowCount(req.rows_size()));
  const RosterImport roster = CheckRosterRows(req);
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "RecordEnrolments", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        return WriteRosterRows(c, call.principal, req, roster, resp, &fx);
      }));
  fx.rows_accepted = resp->accepted_rows();
  fx.rows_rejected = resp->rejected_rows();
  AfterCommit(fx);
  call.AddRecord(absl::StrCat("enrolment rows:", resp->accepted_rows(), "/",
                              req.rows_size()));
  return absl::OkStatus();
}

absl::Status Registry::WriteTransfer(SqlConnection& c, const Principal& p,
                                     const pb::TransferStudentRequest& req,
                                     const std::string& id_hash,
                                     pb::TransferStudentResponse* resp) {
  ASSIGN_OR_RETURN(std::optional<SchoolRecord> to,
                   FindSchool(c, req.to_school_code()));
  if (!to) return InvalidField("to_school_code", "no such school");
  // The receiving side records a move (docs/REGISTRY.md, rosters).
  RETURN_IF_ERROR(CheckRecordScope(p, to->region_code, req.to_school_code()));
  if (!OffersStage(*to, req.stage())) {
    return InvalidField("stage", "the new school does not offer this stage");
  }
  ASSIGN_OR_RETURN(std::optional<EnrolmentRecord> cur,
                   FindCurrentEnrolment(c, id_hash));
  if (!cur || !(cur->status == pb::ENROLMENT_STATUS_ENROLLED ||
                cur->status == pb::ENROLMENT_STATUS_SUSPENDED)) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "NO_CURRENT_ENROLMENT",
                      "the child has no current enrolment to transfer from");
  }
  if (cur->school_code == req.to_school_code()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "SAME_SCHOOL",
                      "to_school_code: the child is already at this school");
  }
  const std::string reason = absl::StrCat("transfer: ", req.reason());
  RETURN_IF_ERROR(CloseAsTransferred(c, cur->id, reason));
  EnrolmentRecord next;
  next.school_code = req.to_school_code();
  next.school_name = to->name;
  next.stage = req.stage();
  next.grade = req.grade();
  next.term_year = req.term().year();
  next.term_season = req.term().season();
  next.status = pb::ENROLMENT_STATUS_ENROLLED;
  next.boarder = cur->boarder;
  next.recorded_at = NowSec();
  next.reason = reason;
  next.current = true;
  next.school_region = to->region_code;
  RETURN_IF_ERROR(InsertCurrentEnrolment(c, id_hash, next));
  PreviousEnrolmentAnswer(p, *cur, reason, resp->mutable_previous());
  ToProto(next, resp->mutable_current());
  return absl::OkStatus();
}

absl::Status Registry::TransferStudent(CallContext& call,
                                       const pb::TransferStudentRequest& req,
                                       pb::TransferStudentResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateIdNumber("id_number", req.id_number()).status());
  std::vector<FieldViolation> v;
  if (!IsCode(req.to_school_code(), 20)) {
    v.push_back({"to_school_code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  for (auto& f : StageGradeViolations(req.stage(), req.grade())) v.push_back(f);
  for (auto& f : FieldViolationsOf(ValidateTerm("term", req.term()))) {
    v.push_back(f);
  }
  for (auto& f : FieldViolationsOf(ValidateText("reason", req.reason(), 200))) {
    v.push_back(f);
  }
  if (!v.empty()) return InvalidFields(v);
  const std::string hash = IdHash(NormalizeIdNumber(req.id_number()));
  Effects fx;
  RETURN_IF_ERROR(host_.requests().Run(
      call.principal, "TransferStudent", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        fx = Effects{};
        fx.stale_students.push_back(hash);
        return WriteTransfer(c, call.principal, req, hash, resp);
      }));
  AfterCommit(fx);
  call.AddRecord(absl::StrCat("transfer-to:", req.to_school_code()));
  return absl::OkStatus();
}

}  // namespace eduaid::registry
