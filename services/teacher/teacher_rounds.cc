// Support-teaching rounds (对口交流支教, 交流轮岗): demand, nominations,
// constraints, the optimal solve and publishing.
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/service_host.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/round_solution.h"
#include "services/teacher/round_store.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"
#include "services/teacher/teacher_store.h"

namespace eduaid::teacher {

using internal::AddRowError;
using internal::AddRowErrors;
using internal::Scope;

namespace {

constexpr int kDefaultMaxConsecutive = 2;
constexpr int kDefaultMaxPerSource = 3;

absl::StatusOr<int64_t> ValidateRoundId(int64_t id) {
  if (id <= 0) return InvalidField("round_id", "must be positive");
  return id;
}

// Locks the round for a change of its inputs; FAILED_PRECONDITION
// (ROUND_PUBLISHED) when frozen. Moves a SOLVED round back to DRAFT when
// `invalidates_solution`.
absl::StatusOr<RoundRecord> LockRoundForChange(SqlConnection& c,
                                               int64_t round_id,
                                               bool invalidates_solution) {
  RETURN_IF_ERROR(LockRound(c, round_id));
  ASSIGN_OR_RETURN(RoundRecord r, LoadRound(c, round_id));
  if (r.Is(pb::ROUND_STATE_PUBLISHED)) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "ROUND_PUBLISHED",
                      absl::StrCat("round ", round_id,
                                   " is published and frozen; open a new "
                                   "round for changes"));
  }
  if (invalidates_solution && r.Is(pb::ROUND_STATE_SOLVED)) {
    RETURN_IF_ERROR(SetRoundState(c, round_id, pb::ROUND_STATE_DRAFT));
    r.state = pb::ROUND_STATE_DRAFT;
  }
  return r;
}

// The round as answered: its fields and the counts of its inputs.
absl::Status FillRound(SqlConnection& c, const RoundRecord& r, pb::Round* out) {
  ToProto(r, out);
  ASSIGN_OR_RETURN(RoundInputCounts counts, CountRoundInputs(c, r.id));
  out->set_demanded_slots(static_cast<int32_t>(counts.demanded_slots));
  out->set_nominated_teachers(static_cast<int32_t>(counts.nominated_teachers));
  return absl::OkStatus();
}

absl::StatusOr<pb::Solution> DecodeSolution(const std::string& b64) {
  pb::Solution s;
  auto bytes = Base64Decode(b64);
  if (!bytes.ok() || !s.ParseFromString(*bytes)) {
    return absl::DataLossError("the stored solution cannot be read");
  }
  return s;
}

// The rules of a new round (0 = the default), or INVALID_ARGUMENT naming
// every bad field.
absl::StatusOr<SupportRules> ValidateNewRound(
    const pb::CreateRoundRequest& req) {
  std::vector<FieldViolation> v;
  auto add = [&](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st)) v.push_back(f);
  };
  add(ValidateText("name", req.name(), 100));
  if (req.region_prefix().empty()) {
    v.push_back({"region_prefix", "must be a 2, 4 or 6 digit region code"});
  } else {
    add(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  }
  add(ValidateTerm("term", req.term()));
  const auto& rules = req.rules();
  int n = rules.max_consecutive_terms() == 0 ? kDefaultMaxConsecutive
                                             : rules.max_consecutive_terms();
  int k = rules.max_per_source_school() == 0 ? kDefaultMaxPerSource
                                             : rules.max_per_source_school();
  if (n < 1 || n > 20) {
    v.push_back({"rules.max_consecutive_terms", "must be 1..20 (0 = 2)"});
  }
  if (k < 1 || k > 1000) {
    v.push_back({"rules.max_per_source_school", "must be 1..1000 (0 = 3)"});
  }
  if (!v.empty()) return InvalidFields(v);
  SupportRules out;
  out.max_consecutive_terms = n;
  out.max_per_source_school = k;
  out.allow_same_school_twice = rules.allow_same_school_twice();
  return out;
}

// Row errors sorted by row, and the accepted/rejected counts.
template <typename Response>
void SetRowResults(std::vector<cpb::RowError> errors, int64_t accepted,
                   int rows, Response* resp) {
  internal::SortRowErrors(&errors);
  for (auto& e : errors) *resp->add_errors() = e;
  resp->set_accepted_rows(accepted);
  resp->set_rejected_rows(rows - accepted);
}

// A demand line that passed validation, with its row number.
struct DemandInput {
  int64_t rn;
  const pb::DemandLine* d;
};

std::vector<DemandInput> ValidateDemandLines(
    const pb::PostDemandRequest& req, std::vector<cpb::RowError>* errors) {
  std::vector<DemandInput> good;
  std::map<std::pair<std::string, std::string>, int64_t> seen;
  for (int i = 0; i < req.demands_size(); ++i) {
    const auto& d = req.demands(i);
    const int64_t rn = d.row_number() > 0 ? d.row_number() : i + 1;
    const size_t before = errors->size();
    if (!IsCode(d.school_code(), 20)) {
      AddRowError(rn, "school_code", "must be 1..20 of A-Z a-z 0-9 -", errors);
    }
    AddRowErrors(rn, ValidateText("school_name", d.school_name(), 100, false),
                 errors);
    AddRowErrors(rn, ValidateRegionCode("region_code", d.region_code()),
                 errors);
    AddRowErrors(rn, internal::ValidateLabel("subject", d.subject(), 20),
                 errors);
    if (!cpb::SchoolStage_IsValid(d.stage())) {
      AddRowError(rn, "stage", "is not a known school stage", errors);
    }
    if (d.slots() < 0 || d.slots() > 50) {
      AddRowError(rn, "slots", "must be 0..50 (0 removes the line)", errors);
    }
    if (errors->size() == before) {
      auto [it, fresh] =
          seen.emplace(std::make_pair(d.school_code(), d.subject()), rn);
      if (!fresh) {
        AddRowError(
            rn, "subject",
            absl::StrCat("this school and subject already appear at row ",
                         it->second),
            errors);
      }
    }
    if (errors->size() == before) good.push_back({rn, &d});
  }
  return good;
}

// Stores the lines (slots 0 removes one); the number accepted. Lines
// outside the round's region become row errors; a line outside the
// caller's scope fails the whole call.
absl::StatusOr<int64_t> ApplyDemandLines(SqlConnection& c, const Principal& p,
                                         const RoundRecord& round,
                                         const std::vector<DemandInput>& good,
                                         std::vector<cpb::RowError>* errors) {
  int64_t accepted = 0;
  for (const auto& [rn, d] : good) {
    if (!absl::StartsWith(d->region_code(), round.region_prefix)) {
      AddRowError(
          rn, "region_code",
          absl::StrCat("lies outside the round's region ", round.region_prefix),
          errors);
      continue;
    }
    if (!p.Covers(d->region_code())) {
      return absl::PermissionDeniedError(
          absl::StrCat("row ", rn,
                       ": the school lies outside the caller's region "
                       "scope; nothing was posted"));
    }
    if (!p.CoversSchool(d->school_code())) {
      return absl::PermissionDeniedError(
          absl::StrCat("row ", rn,
                       ": a school officer posts its own school's "
                       "demand only; nothing was posted"));
    }
    if (d->slots() == 0) {
      RETURN_IF_ERROR(
          DeleteDemand(c, round.id, d->school_code(), d->subject()));
    } else {
      RETURN_IF_ERROR(UpsertDemand(c, round.id, *d));
    }
    ++accepted;
  }
  return accepted;
}

// A nomination that passed validation.
struct NominationInput {
  int64_t rn;
  int64_t teacher;
  const pb::Nomination* n;
};

std::vector<NominationInput> ValidateNominations(
    const pb::NominateTeachersRequest& req,
    std::vector<cpb::RowError>* errors) {
  std::vector<NominationInput> good;
  std::unordered_map<int64_t, int64_t> seen;
  for (int i = 0; i < req.nominations_size(); ++i) {
    const auto& n = req.nominations(i);
    const int64_t rn = n.row_number() > 0 ? n.row_number() : i + 1;
    const size_t before = errors->size();
    auto id = ParseTeacherId("teacher_id", n.teacher_id());
    if (!id.ok()) AddRowErrors(rn, id.status(), errors);
    if (n.preferred_school_codes_size() > 5) {
      AddRowError(rn, "preferred_school_codes", "at most 5 schools", errors);
    } else {
      std::unordered_set<std::string> codes;
      for (int p = 0; p < n.preferred_school_codes_size(); ++p) {
        const std::string field =
            absl::StrCat("preferred_school_codes[", p, "]");
        if (!IsCode(n.preferred_school_codes(p), 20)) {
          AddRowError(rn, field, "must be 1..20 of A-Z a-z 0-9 -", errors);
        } else if (!codes.insert(n.preferred_school_codes(p)).second) {
          AddRowError(rn, field, "is listed twice", errors);
        }
      }
    }
    if (id.ok()) {
      auto [it, fresh] = seen.emplace(*id, rn);
      if (!fresh) {
        AddRowError(rn, "teacher_id",
                    absl::StrCat("duplicated in this request (first at row ",
                                 it->second, ")"),
                    errors);
      }
    }
    if (errors->size() == before) good.push_back({rn, *id, &n});
  }
  return good;
}

// Why a teacher cannot be nominated to the round ("" when they can).
std::string NominationBlock(const TeacherStanding& t,
                            const RoundRecord& round) {
  if (!absl::StartsWith(t.region_code, round.region_prefix)) {
    return absl::StrCat("the teacher's county ", t.region_code,
                        " lies outside the round's region ",
                        round.region_prefix);
  }
  if (t.rural) {
    return "the teacher's school is rural; support teachers come from urban "
           "schools";
  }
  if (!t.active) return "the teacher has left";
  return "";
}

// Stores or withdraws the nominations; the number accepted.
absl::StatusOr<int64_t> ApplyNominations(
    SqlConnection& c, const Principal& p, const RoundRecord& round,
    const std::vector<NominationInput>& good,
    std::vector<cpb::RowError>* errors) {
  int64_t accepted = 0;
  for (const auto& g : good) {
    ASSIGN_OR_RETURN(const auto t, LoadTeacherStanding(c, g.teacher));
    if (!t) {
      AddRowError(g.rn, "teacher_id", "no such teacher", errors);
      continue;
    }
    if (!p.Covers(t->region_code)) {
      return absl::PermissionDeniedError(
          absl::StrCat("row ", g.rn,
                       ": the teacher lies outside the caller's region "
                       "scope; nothing was nominated"));
    }
    if (!p.CoversSchool(t->school_code)) {
      return absl::PermissionDeniedError(
          absl::StrCat("row ", g.rn,
                       ": the teacher is not of the caller's school; "
                       "nothing was nominated"));
    }
    if (g.n->withdraw()) {
      RETURN_IF_ERROR(DeleteNomination(c, round.id, g.teacher));
      ++accepted;
      continue;
    }
    if (std::string why = NominationBlock(*t, round); !why.empty()) {
      AddRowError(g.rn, "teacher_id", why, errors);
      continue;
    }
    RETURN_IF_ERROR(UpsertNomination(
        c, round.id, g.teacher,
        internal::JoinListOf(g.n->preferred_school_codes()), p.subject));
    ++accepted;
  }
  return accepted;
}

// Sets or clears one constraint. FAILED_PRECONDITION: NOT_NOMINATED,
// NO_DEMAND_AT_SCHOOL.
absl::Status ApplyConstraint(SqlConnection& c, int64_t round_id,
                             int64_t teacher,
                             const pb::SetPlacementConstraintRequest& req,
                             const std::string& set_by) {
  ASSIGN_OR_RETURN(const bool nominated, IsNominated(c, round_id, teacher));
  if (!nominated) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NOT_NOMINATED",
                      "teacher_id: the teacher is not nominated in this "
                      "round");
  }
  if (req.kind() == pb::CONSTRAINT_KIND_CLEAR) {
    return ClearConstraint(c, round_id, teacher, req.school_code());
  }
  ASSIGN_OR_RETURN(const bool demand,
                   HasDemandAtSchool(c, round_id, req.school_code()));
  if (!demand) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "NO_DEMAND_AT_SCHOOL",
                      "school_code: the school posted no demand in "
                      "this round");
  }
  return SetConstraint(c, round_id, teacher, req.school_code(), req.kind(),
                       set_by);
}

// Writes the solution's placements into the history; FAILED_PRECONDITION
// (TEACHER_ALREADY_PLACED) when another published round placed a teacher.
absl::Status RecordPlacements(SqlConnection& c, const RoundRecord& round,
                              const pb::Solution& s,
                              std::vector<std::string>* placed) {
  for (const auto& p : s.placements()) {
    auto id = ParseTeacherId("teacher_id", p.teacher_id());
    if (!id.ok()) return absl::DataLossError("bad teacher id in solution");
    ASSIGN_OR_RETURN(
        const bool inserted,
        InsertPlacement(c, *id, round.term_index, p.school_code(), round.id));
    if (!inserted) {
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "TEACHER_ALREADY_PLACED",
          absl::StrCat(p.teacher_id(),
                       " already has a placement this term (another "
                       "round was published); solve again"));
    }
    placed->push_back(p.teacher_id());
  }
  return absl::OkStatus();
}

// What a caller who does not cover the whole round sees of it: records of
// its region and, for a school officer, of its school.
class RoundView {
 public:
  RoundView(const Principal& p, bool full) : p_(p), full_(full) {}
  bool Shows(const std::string& region, const std::string& school) const {
    return full_ || Mine(region, school);
  }
  bool Mine(const std::string& region, const std::string& school) const {
    return p_.Covers(region) && p_.CoversSchool(school);
  }
  bool ShowsTeacher(int64_t id) {
    return Shows(region_of_[id], school_of_[id]);
  }
  bool MineTeacher(int64_t id) { return Mine(region_of_[id], school_of_[id]); }
  void NoteTeacher(const NominationRecord& n) {
    region_of_[n.teacher_id] = n.region_code;
    school_of_[n.teacher_id] = n.school_code;
  }
  bool full() const { return full_; }

 private:
  const Principal& p_;
  const bool full_;
  std::unordered_map<int64_t, std::string> region_of_, school_of_;
};

// The part of a solution a caller inside the round's region sees, with
// figures recomputed over that part.
pb::Solution PartOfSolution(const pb::Solution& s, RoundView& view,
                            const pb::GetRoundResponse& resp) {
  pb::Solution part;
  for (const auto& pl : s.placements()) {
    if (view.Mine(pl.region_code(), pl.school_code()) ||
        view.Mine(pl.source_region_code(), pl.source_school_code())) {
      *part.add_placements() = pl;
    }
  }
  for (const auto& u : s.unfilled()) {
    if (view.Mine(u.region_code(), u.school_code())) *part.add_unfilled() = u;
  }
  for (const auto& u : s.unplaced_teachers()) {
    auto id = ParseTeacherId("teacher_id", u.teacher_id());
    if (id.ok() && view.MineTeacher(*id)) *part.add_unplaced_teachers() = u;
  }
  part.set_solve_micros(s.solve_micros());
  for (const auto& d : resp.demands()) {
    part.set_demanded_slots(part.demanded_slots() + d.slots());
  }
  for (const auto& pl : part.placements()) {
    if (view.Mine(pl.region_code(), pl.school_code())) {
      part.set_filled_slots(part.filled_slots() + 1);
    }
    part.set_total_cost(part.total_cost() + pl.cost());
  }
  part.set_teachers(resp.nominations_size());
  part.set_demand_lines(resp.demands_size());
  return part;
}

// GetRound's read: the round, its inputs and solution as the caller may
// see them (names come later).
absl::Status ReadRoundDetail(SqlConnection& c, const Principal& p,
                             int64_t round_id, pb::GetRoundResponse* resp) {
  ASSIGN_OR_RETURN(const RoundRecord round, LoadRound(c, round_id));
  const Scope scope = internal::ScopeOf(p, round.region_prefix);
  if (scope == Scope::kNone) return CheckRegion(p, round.region_prefix);
  RoundView view(p, scope == Scope::kFull && p.role != Role::kSchoolOfficer);
  RETURN_IF_ERROR(FillRound(c, round, resp->mutable_round()));
  ASSIGN_OR_RETURN(const auto demands, LoadDemands(c, round.id));
  for (const auto& d : demands) {
    if (view.Shows(d.region_code, d.school_code)) {
      ToProto(d, resp->add_demands());
    }
  }
  ASSIGN_OR_RETURN(const auto nominations, LoadNominations(c, round.id));
  for (const auto& n : nominations) {
    view.NoteTeacher(n);
    if (view.Shows(n.region_code, n.school_code)) {
      ToProto(n, resp->add_nominations());
    }
  }
  ASSIGN_OR_RETURN(const auto constraints, LoadConstraints(c, round.id));
  for (const auto& k : constraints) {
    if (view.ShowsTeacher(k.teacher_id)) ToProto(k, resp->add_constraints());
  }
  if (round.Is(pb::ROUND_STATE_DRAFT) || round.solution.empty()) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(pb::Solution s, DecodeSolution(round.solution));
  if (!view.full()) s = PartOfSolution(s, view, *resp);
  *resp->mutable_solution() = std::move(s);
  return absl::OkStatus();
}

}  // namespace

absl::Status TeacherSupport::FillSolutionNames(const Principal& p,
                                               pb::Solution* s) {
  std::vector<int64_t> ids;
  for (const auto& pl : s->placements()) {
    auto id = ParseTeacherId("teacher_id", pl.teacher_id());
    if (id.ok()) ids.push_back(*id);
  }
  ASSIGN_OR_RETURN(auto names, TeacherNames(ids, p));
  for (auto& pl : *s->mutable_placements()) {
    auto id = ParseTeacherId("teacher_id", pl.teacher_id());
    if (id.ok()) pl.set_teacher_name(names[*id]);
  }
  return absl::OkStatus();
}

absl::Status TeacherSupport::CreateRound(CallContext& call,
                                         const pb::CreateRoundRequest& req,
                                         pb::CreateRoundResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  ASSIGN_OR_RETURN(const SupportRules rules, ValidateNewRound(req));
  RETURN_IF_ERROR(CheckRegion(call.principal, req.region_prefix()));
  RoundRecord draft;
  draft.name = req.name();
  draft.region_prefix = req.region_prefix();
  draft.term_year = req.term().year();
  draft.term_season = req.term().season();
  draft.term_index = TermIndex(req.term().year(), req.term().season());
  draft.rules = rules;
  draft.created_by = call.principal.subject;
  return host_.requests().Run(
      call.principal, "CreateRound", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        draft.created_at = NowSec();
        ASSIGN_OR_RETURN(const int64_t id, InsertRound(c, draft));
        ASSIGN_OR_RETURN(const RoundRecord r, LoadRound(c, id));
        call.AddRecord(absl::StrCat("round:", r.id));
        return FillRound(c, r, resp->mutable_round());
      });
}

absl::Status TeacherSupport::PostDemand(CallContext& call,
                                        const pb::PostDemandRequest& req,
                                        pb::PostDemandResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRoundId(req.round_id()).status());
  if (req.demands_size() == 0)
    return InvalidField("demands", "must not be empty");
  if (req.demands_size() > kMaxLinesPerCall) {
    return InvalidField("demands", absl::StrCat("at most ", kMaxLinesPerCall,
                                                " lines per call"));
  }
  std::vector<cpb::RowError> errors;
  const std::vector<DemandInput> good = ValidateDemandLines(req, &errors);
  return host_.requests().Run(
      call.principal, "PostDemand", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(const RoundRecord round,
                         LockRoundForChange(c, req.round_id(), true));
        RETURN_IF_ERROR(
            internal::CheckOverlap(call.principal, round.region_prefix));
        std::vector<cpb::RowError> tx_errors = errors;
        ASSIGN_OR_RETURN(
            const int64_t accepted,
            ApplyDemandLines(c, call.principal, round, good, &tx_errors));
        SetRowResults(std::move(tx_errors), accepted, req.demands_size(), resp);
        call.AddRecord(
            absl::StrCat("round:", round.id, " demand lines:", accepted));
        return FillRound(c, round, resp->mutable_round());
      });
}

absl::Status TeacherSupport::NominateTeachers(
    CallContext& call, const pb::NominateTeachersRequest& req,
    pb::NominateTeachersResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRoundId(req.round_id()).status());
  if (req.nominations_size() == 0) {
    return InvalidField("nominations", "must not be empty");
  }
  if (req.nominations_size() > kMaxLinesPerCall) {
    return InvalidField(
        "nominations", absl::StrCat("at most ", kMaxLinesPerCall, " per call"));
  }
  std::vector<cpb::RowError> errors;
  const std::vector<NominationInput> good = ValidateNominations(req, &errors);
  return host_.requests().Run(
      call.principal, "NominateTeachers", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(const RoundRecord round,
                         LockRoundForChange(c, req.round_id(), true));
        RETURN_IF_ERROR(
            internal::CheckOverlap(call.principal, round.region_prefix));
        std::vector<cpb::RowError> tx_errors = errors;
        ASSIGN_OR_RETURN(
            const int64_t accepted,
            ApplyNominations(c, call.principal, round, good, &tx_errors));
        SetRowResults(std::move(tx_errors), accepted, req.nominations_size(),
                      resp);
        call.AddRecord(
            absl::StrCat("round:", round.id, " nominations:", accepted));
        return FillRound(c, round, resp->mutable_round());
      });
}

absl::Status TeacherSupport::SetPlacementConstraint(
    CallContext& call, const pb::SetPlacementConstraintRequest& req,
    pb::SetPlacementConstraintResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRoundId(req.round_id()).status());
  std::vector<FieldViolation> v;
  auto teacher = ParseTeacherId("teacher_id", req.teacher_id());
  if (!teacher.ok()) {
    for (auto& f : FieldViolationsOf(teacher.status())) v.push_back(f);
  }
  if (!IsCode(req.school_code(), 20)) {
    v.push_back({"school_code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  if (!pb::ConstraintKind_IsValid(req.kind()) ||
      req.kind() == pb::CONSTRAINT_KIND_UNSPECIFIED) {
    v.push_back({"kind", "must be PIN, FORBID or CLEAR"});
  }
  if (!v.empty()) return InvalidFields(v);
  call.AddRecord(absl::StrCat("round:", req.round_id(), " ", req.teacher_id(),
                              "@", req.school_code()));
  return host_.requests().Run(
      call.principal, "SetPlacementConstraint", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(const RoundRecord round,
                         LockRoundForChange(c, req.round_id(), true));
        RETURN_IF_ERROR(CheckRegion(call.principal, round.region_prefix));
        RETURN_IF_ERROR(ApplyConstraint(c, round.id, *teacher, req,
                                        call.principal.subject));
        ASSIGN_OR_RETURN(const auto all, LoadConstraints(c, round.id));
        for (const auto& k : all) ToProto(k, resp->add_constraints());
        return FillRound(c, round, resp->mutable_round());
      });
}

absl::Status TeacherSupport::SolveRound(CallContext& call,
                                        const pb::SolveRoundRequest& req,
                                        pb::SolveRoundResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRoundId(req.round_id()).status());
  call.AddRecord(absl::StrCat("round:", req.round_id()));
  double solve_seconds = -1;
  absl::Status st = host_.requests().Run(
      call.principal, "SolveRound", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        ASSIGN_OR_RETURN(RoundRecord round,
                         LockRoundForChange(c, req.round_id(), false));
        RETURN_IF_ERROR(CheckRegion(call.principal, round.region_prefix));
        ASSIGN_OR_RETURN(const SolveInputs in, ReadSolveInputs(c, round));
        const auto start = std::chrono::steady_clock::now();
        auto solved = SolveSupportRound(in.teachers, in.demands, round.rules,
                                        in.constraints);
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
        if (!solved.ok()) return solved.status();
        solve_seconds = micros / 1e6;
        pb::Solution* s = resp->mutable_solution();
        SolutionToProto(*solved, in, micros, s);
        const int64_t now = NowSec();
        RETURN_IF_ERROR(SaveSolution(c, round.id,
                                     Base64Encode(s->SerializeAsString()),
                                     solved->filled, solved->total_cost, now));
        round.state = pb::ROUND_STATE_SOLVED;
        round.filled = solved->filled;
        round.total_cost = solved->total_cost;
        round.solved_at = now;
        return FillRound(c, round, resp->mutable_round());
      });
  if (!st.ok()) return st;
  if (solve_seconds >= 0) solve_round_seconds_->Observe(solve_seconds);
  unfilled_gauge_->Add({{"round", absl::StrCat(req.round_id())}})
      .Set(resp->solution().demanded_slots() - resp->solution().filled_slots());
  return FillSolutionNames(call.principal, resp->mutable_solution());
}

absl::Status TeacherSupport::PublishRound(CallContext& call,
                                          const pb::PublishRoundRequest& req,
                                          pb::PublishRoundResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  RETURN_IF_ERROR(ValidateRoundId(req.round_id()).status());
  call.AddRecord(absl::StrCat("round:", req.round_id()));
  std::vector<std::string> placed;
  absl::Status st = host_.requests().Run(
      call.principal, "PublishRound", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        placed.clear();
        ASSIGN_OR_RETURN(RoundRecord round,
                         LockRoundForChange(c, req.round_id(), false));
        RETURN_IF_ERROR(CheckRegion(call.principal, round.region_prefix));
        if (!round.Is(pb::ROUND_STATE_SOLVED)) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "NOT_SOLVED",
                            "round_id: the round's inputs changed since the "
                            "last solve (or it was never solved); solve it "
                            "first");
        }
        ASSIGN_OR_RETURN(const pb::Solution s, DecodeSolution(round.solution));
        RETURN_IF_ERROR(RecordPlacements(c, round, s, &placed));
        const int64_t now = NowSec();
        RETURN_IF_ERROR(MarkPublished(c, round.id, now));
        round.state = pb::ROUND_STATE_PUBLISHED;
        round.published_at = now;
        resp->set_placements(s.placements_size());
        // Other unpublished rounds of the term may have placed these
        // teachers too: their solutions no longer hold.
        RETURN_IF_ERROR(
            UnsolveOtherRoundsOfTerm(c, round.term_index, round.id));
        return FillRound(c, round, resp->mutable_round());
      });
  if (!st.ok()) return st;
  std::vector<std::string> keys;
  for (const auto& t : placed) {
    auto id = ParseTeacherId("teacher_id", t);
    if (id.ok()) keys.push_back(TeacherCacheKey(*id));
  }
  if (!keys.empty()) host_.cache().Invalidate(keys);
  return absl::OkStatus();
}

absl::Status TeacherSupport::GetRound(CallContext& call,
                                      const pb::GetRoundRequest& req,
                                      pb::GetRoundResponse* resp) {
  RETURN_IF_ERROR(ValidateRoundId(req.round_id()).status());
  call.AddRecord(absl::StrCat("round:", req.round_id()));
  const Principal& p = call.principal;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    return ReadRoundDetail(c, p, req.round_id(), resp);
  }));
  std::vector<int64_t> ids;
  for (const auto& n : resp->nominations()) {
    auto id = ParseTeacherId("teacher_id", n.teacher_id());
    if (id.ok()) ids.push_back(*id);
  }
  ASSIGN_OR_RETURN(auto names, TeacherNames(ids, p));
  for (auto& n : *resp->mutable_nominations()) {
    auto id = ParseTeacherId("teacher_id", n.teacher_id());
    if (id.ok()) n.set_name(names[*id]);
  }
  if (resp->has_solution()) {
    RETURN_IF_ERROR(FillSolutionNames(p, resp->mutable_solution()));
  }
  call.NoteBulkRead(static_cast<size_t>(
      resp->nominations_size() +
      (resp->has_solution() ? resp->solution().placements_size() : 0)));
  return absl::OkStatus();
}

absl::Status TeacherSupport::ListRounds(CallContext& call,
                                        const pb::ListRoundsRequest& req,
                                        pb::ListRoundsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  RETURN_IF_ERROR(ValidatePageSize("page_size", req.page_size(), 50, 500)
                      .status());  // before the scope, as it always was
  ASSIGN_OR_RETURN(const std::string region,
                   ScopeRegionFilter(call.principal, req.region_prefix()));
  ASSIGN_OR_RETURN(
      const IdPage page,
      IdPage::Open(req.page_token(), absl::StrCat("rounds|", region),
                   req.page_size(), 50, 500));
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(const auto ids,
                     ListRoundIds(c, region, page.after(), page.limit()));
    for (size_t i = 0; i < page.Keep(ids.size()); ++i) {
      ASSIGN_OR_RETURN(const RoundRecord r, LoadRound(c, ids[i]));
      RETURN_IF_ERROR(FillRound(c, r, resp->add_rounds()));
    }
    resp->set_next_page_token(page.NextToken(
        ids.size(), ids.empty() ? 0 : ids[page.Keep(ids.size()) - 1]));
    return absl::OkStatus();
  });
}

}  // namespace eduaid::teacher
