// Support-teaching rounds (对口交流支教, 交流轮岗): demand, nominations,
// constraints, the optimal solve and publishing.
#include <chrono>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/teacher.h"
#include "services/teacher/teacher_internal.h"

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

bool StateIs(int state, pb::RoundState s) {
  return state == static_cast<int>(s);
}

}  // namespace

absl::StatusOr<TeacherSupport::RoundRow> TeacherSupport::LoadRound(
    SqlConnection& c, int64_t round_id) {
  auto r = c.Query(
      "SELECT id, name, region_prefix, term_year, term_season, term_index, "
      "max_consecutive, max_per_source, allow_same_school, state, version, "
      "solution, filled, total_cost, created_by, created_at, solved_at, "
      "published_at FROM rounds WHERE id = ?",
      {round_id});
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::NotFoundError("no such round");
  const SqlRow& row = r->front();
  RoundRow out;
  out.id = row.Int(0);
  out.name = row.Str(1);
  out.region_prefix = row.Str(2);
  out.term_year = static_cast<int>(row.Int(3));
  out.term_season = static_cast<int>(row.Int(4));
  out.term_index = row.Int(5);
  out.rules.max_consecutive_terms = static_cast<int>(row.Int(6));
  out.rules.max_per_source_school = static_cast<int>(row.Int(7));
  out.rules.allow_same_school_twice = row.Int(8) != 0;
  out.state = static_cast<int>(row.Int(9));
  out.version = row.Int(10);
  out.solution = row.Str(11);
  out.filled = row.Int(12);
  out.total_cost = row.Int(13);
  out.created_by = row.Str(14);
  out.created_at = row.Int(15);
  out.solved_at = row.Int(16);
  out.published_at = row.Int(17);
  return out;
}

absl::StatusOr<TeacherSupport::RoundRow> TeacherSupport::LockRoundForChange(
    SqlConnection& c, int64_t round_id, bool invalidates_solution) {
  // The UPDATE takes the row lock (PostgreSQL) so that changes to one
  // round's inputs and its solve serialise.
  auto up = c.Execute("UPDATE rounds SET version = version + 1 WHERE id = ?",
                      {round_id});
  if (!up.ok()) return up.status();
  if (*up == 0) return absl::NotFoundError("no such round");
  auto r = LoadRound(c, round_id);
  if (!r.ok()) return r.status();
  if (StateIs(r->state, pb::ROUND_STATE_PUBLISHED)) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "ROUND_PUBLISHED",
                      absl::StrCat("round ", round_id,
                                   " is published and frozen; open a new "
                                   "round for changes"));
  }
  if (invalidates_solution && StateIs(r->state, pb::ROUND_STATE_SOLVED)) {
    auto d = c.Execute("UPDATE rounds SET state = ? WHERE id = ?",
                       {int64_t{pb::ROUND_STATE_DRAFT}, round_id});
    if (!d.ok()) return d.status();
    r->state = pb::ROUND_STATE_DRAFT;
  }
  return r;
}

absl::Status TeacherSupport::FillRound(SqlConnection& c, const RoundRow& r,
                                       pb::Round* out) {
  out->set_round_id(r.id);
  out->set_name(r.name);
  out->set_region_prefix(r.region_prefix);
  out->mutable_term()->set_year(r.term_year);
  out->mutable_term()->set_season(static_cast<cpb::Season>(r.term_season));
  out->mutable_rules()->set_max_consecutive_terms(
      r.rules.max_consecutive_terms);
  out->mutable_rules()->set_max_per_source_school(
      r.rules.max_per_source_school);
  out->mutable_rules()->set_allow_same_school_twice(
      r.rules.allow_same_school_twice);
  out->set_state(static_cast<pb::RoundState>(r.state));
  out->set_created_at(
      FormatTimestamp(r.created_at * 1000, TimestampPrecision::kSeconds));
  out->set_solved_at(
      FormatTimestamp(r.solved_at * 1000, TimestampPrecision::kSeconds));
  out->set_published_at(
      FormatTimestamp(r.published_at * 1000, TimestampPrecision::kSeconds));
  if (!StateIs(r.state, pb::ROUND_STATE_DRAFT)) {
    out->set_filled_slots(static_cast<int32_t>(r.filled));
    out->set_total_cost(r.total_cost);
  }
  auto counts = c.Query(
      "SELECT (SELECT COALESCE(SUM(slots), 0) FROM round_demands WHERE "
      "round_id = ?), (SELECT COUNT(*) FROM round_nominations WHERE "
      "round_id = ?)",
      {r.id, r.id});
  if (!counts.ok()) return counts.status();
  out->set_demanded_slots(static_cast<int32_t>(counts->front().Int(0)));
  out->set_nominated_teachers(static_cast<int32_t>(counts->front().Int(1)));
  return absl::OkStatus();
}

absl::Status TeacherSupport::FillSolutionNames(const Principal& p,
                                               pb::Solution* s) {
  std::vector<int64_t> ids;
  for (const auto& pl : s->placements()) {
    auto id = ParseTeacherId("teacher_id", pl.teacher_id());
    if (id.ok()) ids.push_back(*id);
  }
  auto names = TeacherNames(ids, p);
  if (!names.ok()) return names.status();
  for (auto& pl : *s->mutable_placements()) {
    auto id = ParseTeacherId("teacher_id", pl.teacher_id());
    if (id.ok()) pl.set_teacher_name((*names)[*id]);
  }
  return absl::OkStatus();
}

absl::Status TeacherSupport::CreateRound(CallContext& call,
                                         const pb::CreateRoundRequest& req,
                                         pb::CreateRoundResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
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
  RETURN_IF_ERROR(CheckRegion(call.principal, req.region_prefix()));
  return host_.requests().Run(
      call.principal, "CreateRound", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        const int64_t now = NowSec();
        auto ins = c.Query(
            "INSERT INTO rounds(name, region_prefix, term_year, term_season, "
            "term_index, max_consecutive, max_per_source, allow_same_school, "
            "state, version, solution, filled, total_cost, created_by, "
            "created_at, solved_at, published_at) "
            "VALUES(?,?,?,?,?,?,?,?,?,0,'',0,0,?,?,0,0) RETURNING id",
            {req.name(), req.region_prefix(), int64_t{req.term().year()},
             int64_t{req.term().season()},
             TermIndex(req.term().year(), req.term().season()), int64_t{n},
             int64_t{k}, int64_t{rules.allow_same_school_twice()},
             int64_t{pb::ROUND_STATE_DRAFT}, call.principal.subject, now});
        if (!ins.ok()) return ins.status();
        auto r = LoadRound(c, ins->front().Int(0));
        if (!r.ok()) return r.status();
        call.AddRecord(absl::StrCat("round:", r->id));
        return FillRound(c, *r, resp->mutable_round());
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
  std::vector<std::pair<int64_t, const pb::DemandLine*>> good;
  std::map<std::pair<std::string, std::string>, int64_t> seen;
  for (int i = 0; i < req.demands_size(); ++i) {
    const auto& d = req.demands(i);
    const int64_t rn = d.row_number() > 0 ? d.row_number() : i + 1;
    const size_t before = errors.size();
    if (!IsCode(d.school_code(), 20)) {
      AddRowError(rn, "school_code", "must be 1..20 of A-Z a-z 0-9 -", &errors);
    }
    AddRowErrors(rn, ValidateText("school_name", d.school_name(), 100, false),
                 &errors);
    AddRowErrors(rn, ValidateRegionCode("region_code", d.region_code()),
                 &errors);
    AddRowErrors(rn, internal::ValidateLabel("subject", d.subject(), 20),
                 &errors);
    if (!cpb::SchoolStage_IsValid(d.stage())) {
      AddRowError(rn, "stage", "is not a known school stage", &errors);
    }
    if (d.slots() < 0 || d.slots() > 50) {
      AddRowError(rn, "slots", "must be 0..50 (0 removes the line)", &errors);
    }
    if (errors.size() == before) {
      auto [it, fresh] =
          seen.emplace(std::make_pair(d.school_code(), d.subject()), rn);
      if (!fresh) {
        AddRowError(
            rn, "subject",
            absl::StrCat("this school and subject already appear at row ",
                         it->second),
            &errors);
      }
    }
    if (errors.size() == before) good.push_back({rn, &d});
  }
  return host_.requests().Run(
      call.principal, "PostDemand", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto round = LockRoundForChange(c, req.round_id(), true);
        if (!round.ok()) return round.status();
        RETURN_IF_ERROR(
            internal::CheckOverlap(call.principal, round->region_prefix));
        std::vector<cpb::RowError> tx_errors = errors;
        int64_t accepted = 0;
        for (const auto& [rn, d] : good) {
          if (!absl::StartsWith(d->region_code(), round->region_prefix)) {
            AddRowError(rn, "region_code",
                        absl::StrCat("lies outside the round's region ",
                                     round->region_prefix),
                        &tx_errors);
            continue;
          }
          if (!call.principal.Covers(d->region_code())) {
            return absl::PermissionDeniedError(
                absl::StrCat("row ", rn,
                             ": the school lies outside the caller's region "
                             "scope; nothing was posted"));
          }
          if (!call.principal.CoversSchool(d->school_code())) {
            return absl::PermissionDeniedError(
                absl::StrCat("row ", rn,
                             ": a school officer posts its own school's "
                             "demand only; nothing was posted"));
          }
          absl::StatusOr<int64_t> r;
          if (d->slots() == 0) {
            r = c.Execute(
                "DELETE FROM round_demands WHERE round_id = ? AND "
                "school_code = ? AND subject = ?",
                {round->id, d->school_code(), d->subject()});
            if (r.ok()) {
              auto rc = c.Execute(
                  "DELETE FROM round_constraints WHERE round_id = ? AND "
                  "school_code = ? AND NOT EXISTS (SELECT 1 FROM round_demands "
                  "WHERE round_id = ? AND school_code = ?)",
                  {round->id, d->school_code(), round->id, d->school_code()});
              if (!rc.ok()) return rc.status();
            }
          } else {
            r = c.Execute(
                "INSERT INTO round_demands(round_id, school_code, subject, "
                "school_name, region_code, stage, slots) VALUES(?,?,?,?,?,?,?) "
                "ON CONFLICT(round_id, school_code, subject) DO UPDATE SET "
                "school_name = excluded.school_name, region_code = "
                "excluded.region_code, stage = excluded.stage, slots = "
                "excluded.slots",
                {round->id, d->school_code(), d->subject(), d->school_name(),
                 d->region_code(), int64_t{d->stage()}, int64_t{d->slots()}});
          }
          if (!r.ok()) return r.status();
          ++accepted;
        }
        internal::SortRowErrors(&tx_errors);
        for (auto& e : tx_errors) *resp->add_errors() = e;
        resp->set_accepted_rows(accepted);
        resp->set_rejected_rows(req.demands_size() - accepted);
        call.AddRecord(
            absl::StrCat("round:", round->id, " demand lines:", accepted));
        return FillRound(c, *round, resp->mutable_round());
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
  struct Good {
    int64_t rn;
    int64_t teacher;
    const pb::Nomination* n;
  };
  std::vector<cpb::RowError> errors;
  std::vector<Good> good;
  std::unordered_map<int64_t, int64_t> seen;
  for (int i = 0; i < req.nominations_size(); ++i) {
    const auto& n = req.nominations(i);
    const int64_t rn = n.row_number() > 0 ? n.row_number() : i + 1;
    const size_t before = errors.size();
    auto id = ParseTeacherId("teacher_id", n.teacher_id());
    if (!id.ok()) AddRowErrors(rn, id.status(), &errors);
    if (n.preferred_school_codes_size() > 5) {
      AddRowError(rn, "preferred_school_codes", "at most 5 schools", &errors);
    } else {
      std::unordered_set<std::string> codes;
      for (int p = 0; p < n.preferred_school_codes_size(); ++p) {
        const std::string field =
            absl::StrCat("preferred_school_codes[", p, "]");
        if (!IsCode(n.preferred_school_codes(p), 20)) {
          AddRowError(rn, field, "must be 1..20 of A-Z a-z 0-9 -", &errors);
        } else if (!codes.insert(n.preferred_school_codes(p)).second) {
          AddRowError(rn, field, "is listed twice", &errors);
        }
      }
    }
    if (id.ok()) {
      auto [it, fresh] = seen.emplace(*id, rn);
      if (!fresh) {
        AddRowError(rn, "teacher_id",
                    absl::StrCat("duplicated in this request (first at row ",
                                 it->second, ")"),
                    &errors);
      }
    }
    if (errors.size() == before) good.push_back({rn, *id, &n});
  }
  return host_.requests().Run(
      call.principal, "NominateTeachers", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto round = LockRoundForChange(c, req.round_id(), true);
        if (!round.ok()) return round.status();
        RETURN_IF_ERROR(
            internal::CheckOverlap(call.principal, round->region_prefix));
        std::vector<cpb::RowError> tx_errors = errors;
        int64_t accepted = 0;
        for (const auto& g : good) {
          auto t = c.Query(
              "SELECT region_code, rural, active, school_code FROM teachers "
              "WHERE id = ?",
              {g.teacher});
          if (!t.ok()) return t.status();
          if (t->empty()) {
            AddRowError(g.rn, "teacher_id", "no such teacher", &tx_errors);
            continue;
          }
          const std::string region = t->front().Str(0);
          if (!call.principal.Covers(region)) {
            return absl::PermissionDeniedError(
                absl::StrCat("row ", g.rn,
                             ": the teacher lies outside the caller's region "
                             "scope; nothing was nominated"));
          }
          if (!call.principal.CoversSchool(t->front().Str(3))) {
            return absl::PermissionDeniedError(
                absl::StrCat("row ", g.rn,
                             ": the teacher is not of the caller's school; "
                             "nothing was nominated"));
          }
          if (g.n->withdraw()) {
            auto del = c.Execute(
                "DELETE FROM round_nominations WHERE round_id = ? AND "
                "teacher_id = ?",
                {round->id, g.teacher});
            if (!del.ok()) return del.status();
            auto delc = c.Execute(
                "DELETE FROM round_constraints WHERE round_id = ? AND "
                "teacher_id = ?",
                {round->id, g.teacher});
            if (!delc.ok()) return delc.status();
            ++accepted;
            continue;
          }
          if (!absl::StartsWith(region, round->region_prefix)) {
            AddRowError(g.rn, "teacher_id",
                        absl::StrCat("the teacher's county ", region,
                                     " lies outside the round's region ",
                                     round->region_prefix),
                        &tx_errors);
            continue;
          }
          if (t->front().Int(1) != 0) {
            AddRowError(g.rn, "teacher_id",
                        "the teacher's school is rural; support teachers come "
                        "from urban schools",
                        &tx_errors);
            continue;
          }
          if (t->front().Int(2) == 0) {
            AddRowError(g.rn, "teacher_id", "the teacher has left", &tx_errors);
            continue;
          }
          auto up = c.Execute(
              "INSERT INTO round_nominations(round_id, teacher_id, "
              "preferences, "
              "nominated_by) VALUES(?,?,?,?) ON CONFLICT(round_id, teacher_id) "
              "DO UPDATE SET preferences = excluded.preferences, "
              "nominated_by = excluded.nominated_by",
              {round->id, g.teacher,
               internal::JoinListOf(g.n->preferred_school_codes()),
               call.principal.subject});
          if (!up.ok()) return up.status();
          ++accepted;
        }
        internal::SortRowErrors(&tx_errors);
        for (auto& e : tx_errors) *resp->add_errors() = e;
        resp->set_accepted_rows(accepted);
        resp->set_rejected_rows(req.nominations_size() - accepted);
        call.AddRecord(
            absl::StrCat("round:", round->id, " nominations:", accepted));
        return FillRound(c, *round, resp->mutable_round());
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
        auto round = LockRoundForChange(c, req.round_id(), true);
        if (!round.ok()) return round.status();
        RETURN_IF_ERROR(CheckRegion(call.principal, round->region_prefix));
        auto nom = c.Query(
            "SELECT 1 FROM round_nominations WHERE round_id = ? AND "
            "teacher_id = ?",
            {round->id, *teacher});
        if (!nom.ok()) return nom.status();
        if (nom->empty()) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "NOT_NOMINATED",
                            "teacher_id: the teacher is not nominated in this "
                            "round");
        }
        if (req.kind() == pb::CONSTRAINT_KIND_CLEAR) {
          auto del = c.Execute(
              "DELETE FROM round_constraints WHERE round_id = ? AND "
              "teacher_id = ? AND school_code = ?",
              {round->id, *teacher, req.school_code()});
          if (!del.ok()) return del.status();
        } else {
          auto dem = c.Query(
              "SELECT 1 FROM round_demands WHERE round_id = ? AND "
              "school_code = ?",
              {round->id, req.school_code()});
          if (!dem.ok()) return dem.status();
          if (dem->empty()) {
            return WithReason(absl::StatusCode::kFailedPrecondition,
                              "NO_DEMAND_AT_SCHOOL",
                              "school_code: the school posted no demand in "
                              "this round");
          }
          if (req.kind() == pb::CONSTRAINT_KIND_PIN) {
            auto del = c.Execute(
                "DELETE FROM round_constraints WHERE round_id = ? AND "
                "teacher_id = ? AND kind = ?",
                {round->id, *teacher, int64_t{pb::CONSTRAINT_KIND_PIN}});
            if (!del.ok()) return del.status();
          }
          auto up = c.Execute(
              "INSERT INTO round_constraints(round_id, teacher_id, "
              "school_code, "
              "kind, set_by) VALUES(?,?,?,?,?) ON CONFLICT(round_id, "
              "teacher_id, school_code) DO UPDATE SET kind = excluded.kind, "
              "set_by = excluded.set_by",
              {round->id, *teacher, req.school_code(), int64_t{req.kind()},
               call.principal.subject});
          if (!up.ok()) return up.status();
        }
        auto all = c.Query(
            "SELECT teacher_id, school_code, kind, set_by FROM "
            "round_constraints WHERE round_id = ? ORDER BY teacher_id, "
            "school_code",
            {round->id});
        if (!all.ok()) return all.status();
        for (const auto& r : *all) {
          auto* pc = resp->add_constraints();
          pc->set_teacher_id(TeacherIdString(r.Int(0)));
          pc->set_school_code(r.Str(1));
          pc->set_kind(static_cast<pb::ConstraintKind>(r.Int(2)));
          pc->set_set_by(r.Str(3));
        }
        return FillRound(c, *round, resp->mutable_round());
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
        auto round = LockRoundForChange(c, req.round_id(), false);
        if (!round.ok()) return round.status();
        RETURN_IF_ERROR(CheckRegion(call.principal, round->region_prefix));
        auto drows = c.Query(
            "SELECT school_code, subject, school_name, region_code, stage, "
            "slots FROM round_demands WHERE round_id = ? ORDER BY "
            "school_code, subject",
            {round->id});
        if (!drows.ok()) return drows.status();
        if (drows->empty()) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "NO_DEMAND",
                            "round_id: no school posted demand yet");
        }
        auto trows = c.Query(
            "SELECT n.teacher_id, n.preferences, t.school_code, t.region_code, "
            "t.subjects, t.stage, t.active FROM round_nominations n JOIN "
            "teachers t ON t.id = n.teacher_id WHERE n.round_id = ? "
            "ORDER BY n.teacher_id",
            {round->id});
        if (!trows.ok()) return trows.status();
        if (trows->empty()) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "NO_NOMINATIONS",
                            "round_id: no teacher is nominated yet");
        }
        auto hrows = c.Query(
            "SELECT h.teacher_id, h.term_index, h.school_code FROM "
            "placement_history h JOIN round_nominations n ON n.teacher_id = "
            "h.teacher_id AND n.round_id = ?",
            {round->id});
        if (!hrows.ok()) return hrows.status();
        auto crows = c.Query(
            "SELECT teacher_id, school_code, kind FROM round_constraints "
            "WHERE round_id = ? ORDER BY teacher_id, school_code",
            {round->id});
        if (!crows.ok()) return crows.status();

        std::vector<SupportDemand> demands;
        std::vector<std::string> school_names;
        for (const auto& r : *drows) {
          SupportDemand d;
          d.school_code = r.Str(0);
          d.subject = r.Str(1);
          d.region_code = r.Str(3);
          d.stage = static_cast<int>(r.Int(4));
          d.slots = static_cast<int>(r.Int(5));
          school_names.push_back(r.Str(2));
          demands.push_back(std::move(d));
        }
        std::unordered_map<int64_t, std::map<int64_t, std::string>> history;
        for (const auto& r : *hrows) history[r.Int(0)][r.Int(1)] = r.Str(2);
        std::vector<SupportTeacher> teachers;
        for (const auto& r : *trows) {
          SupportTeacher t;
          const int64_t id = r.Int(0);
          t.id = TeacherIdString(id);
          t.preferred_schools = internal::SplitList(r.Str(1));
          t.source_school = r.Str(2);
          t.region_code = r.Str(3);
          t.subjects = internal::SplitList(r.Str(4));
          t.stage = static_cast<int>(r.Int(5));
          t.active = r.Int(6) != 0;
          const auto& h = history[id];
          for (const auto& [term, school] : h) {
            if (term < round->term_index) {
              ++t.prior_placements;
              t.last_school = school;
            } else if (term == round->term_index) {
              t.placed_this_term = true;
            }
          }
          for (int64_t term = round->term_index - 1; h.count(term); --term) {
            ++t.consecutive_terms;
          }
          teachers.push_back(std::move(t));
        }
        std::vector<PairConstraint> constraints;
        for (const auto& r : *crows) {
          constraints.push_back({TeacherIdString(r.Int(0)), r.Str(1),
                                 r.Int(2) == pb::CONSTRAINT_KIND_PIN});
        }

        const auto start = std::chrono::steady_clock::now();
        auto solved =
            SolveSupportRound(teachers, demands, round->rules, constraints);
        const auto micros =
            std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::steady_clock::now() - start)
                .count();
        if (!solved.ok()) return solved.status();
        solve_seconds = micros / 1e6;

        pb::Solution* s = resp->mutable_solution();
        s->set_demanded_slots(solved->demanded);
        s->set_filled_slots(solved->filled);
        s->set_total_cost(solved->total_cost);
        s->set_solve_micros(micros);
        s->set_teachers(static_cast<int32_t>(teachers.size()));
        s->set_demand_lines(static_cast<int32_t>(demands.size()));
        for (const auto& p : solved->placements) {
          const SupportTeacher& t = teachers[p.teacher];
          const SupportDemand& d = demands[p.demand];
          auto* out = s->add_placements();
          out->set_teacher_id(t.id);
          out->set_source_school_code(t.source_school);
          out->set_source_region_code(t.region_code);
          out->set_school_code(d.school_code);
          out->set_school_name(school_names[p.demand]);
          out->set_region_code(d.region_code);
          out->set_subject(d.subject);
          out->set_cost(p.cost);
          out->set_pinned(p.pinned);
          for (const auto& term : p.terms) {
            auto* ct = out->add_reasons();
            ct->set_factor(term.factor);
            ct->set_points(term.points);
            ct->set_explanation(term.explanation);
          }
          if (p.pinned) {
            auto* ct = out->add_reasons();
            ct->set_factor("pinned");
            ct->set_points(0);
            ct->set_explanation("pinned to this school by an officer");
          }
        }
        for (const auto& u : solved->unfilled) {
          const SupportDemand& d = demands[u.demand];
          auto* out = s->add_unfilled();
          out->set_school_code(d.school_code);
          out->set_school_name(school_names[u.demand]);
          out->set_region_code(d.region_code);
          out->set_subject(d.subject);
          out->set_slots(u.slots);
          out->set_reason(static_cast<pb::UnfilledReason>(u.cause));
          out->set_explanation(u.explanation);
        }
        for (const auto& u : solved->unplaced) {
          auto* out = s->add_unplaced_teachers();
          out->set_teacher_id(teachers[u.teacher].id);
          out->set_explanation(u.explanation);
        }
        const int64_t now = NowSec();
        auto up = c.Execute(
            "UPDATE rounds SET state = ?, solution = ?, filled = ?, "
            "total_cost = ?, solved_at = ? WHERE id = ?",
            {int64_t{pb::ROUND_STATE_SOLVED},
             Base64Encode(s->SerializeAsString()), int64_t{solved->filled},
             solved->total_cost, now, round->id});
        if (!up.ok()) return up.status();
        round->state = pb::ROUND_STATE_SOLVED;
        round->filled = solved->filled;
        round->total_cost = solved->total_cost;
        round->solved_at = now;
        return FillRound(c, *round, resp->mutable_round());
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
        auto round = LockRoundForChange(c, req.round_id(), false);
        if (!round.ok()) return round.status();
        RETURN_IF_ERROR(CheckRegion(call.principal, round->region_prefix));
        if (!StateIs(round->state, pb::ROUND_STATE_SOLVED)) {
          return WithReason(absl::StatusCode::kFailedPrecondition, "NOT_SOLVED",
                            "round_id: the round's inputs changed since the "
                            "last solve (or it was never solved); solve it "
                            "first");
        }
        pb::Solution s;
        auto bytes = Base64Decode(round->solution);
        if (!bytes.ok() || !s.ParseFromString(*bytes)) {
          return absl::DataLossError("the stored solution cannot be read");
        }
        for (const auto& p : s.placements()) {
          auto id = ParseTeacherId("teacher_id", p.teacher_id());
          if (!id.ok())
            return absl::DataLossError("bad teacher id in solution");
          auto ins = c.Execute(
              "INSERT INTO placement_history(teacher_id, term_index, "
              "school_code, round_id) VALUES(?,?,?,?) "
              "ON CONFLICT(teacher_id, term_index) DO NOTHING",
              {*id, round->term_index, p.school_code(), round->id});
          if (!ins.ok()) return ins.status();
          if (*ins != 1) {
            return WithReason(
                absl::StatusCode::kFailedPrecondition, "TEACHER_ALREADY_PLACED",
                absl::StrCat(p.teacher_id(),
                             " already has a placement this term (another "
                             "round was published); solve again"));
          }
          placed.push_back(p.teacher_id());
        }
        const int64_t now = NowSec();
        auto up = c.Execute(
            "UPDATE rounds SET state = ?, published_at = ? WHERE id = ?",
            {int64_t{pb::ROUND_STATE_PUBLISHED}, now, round->id});
        if (!up.ok()) return up.status();
        round->state = pb::ROUND_STATE_PUBLISHED;
        round->published_at = now;
        resp->set_placements(s.placements_size());
        // Other unpublished rounds of the term may have placed these
        // teachers too: their solutions no longer hold.
        auto stale = c.Execute(
            "UPDATE rounds SET state = ? WHERE state = ? AND term_index = ? "
            "AND id <> ?",
            {int64_t{pb::ROUND_STATE_DRAFT}, int64_t{pb::ROUND_STATE_SOLVED},
             round->term_index, round->id});
        if (!stale.ok()) return stale.status();
        return FillRound(c, *round, resp->mutable_round());
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
  std::unordered_map<int64_t, std::string> region_of, school_of;
  // What a caller who does not cover the whole round sees: records of its
  // region and, for a school officer, of its school.
  auto mine = [&p](const std::string& region, const std::string& school) {
    return p.Covers(region) && p.CoversSchool(school);
  };
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto round = LoadRound(c, req.round_id());
    if (!round.ok()) return round.status();
    const Scope scope = internal::ScopeOf(p, round->region_prefix);
    if (scope == Scope::kNone) {
      return CheckRegion(p, round->region_prefix);
    }
    const bool full = scope == Scope::kFull && p.role != Role::kSchoolOfficer;
    RETURN_IF_ERROR(FillRound(c, *round, resp->mutable_round()));
    auto drows = c.Query(
        "SELECT school_code, subject, school_name, region_code, stage, slots "
        "FROM round_demands WHERE round_id = ? ORDER BY school_code, subject",
        {round->id});
    if (!drows.ok()) return drows.status();
    for (const auto& r : *drows) {
      if (!full && !mine(r.Str(3), r.Str(0))) continue;
      auto* d = resp->add_demands();
      d->set_school_code(r.Str(0));
      d->set_subject(r.Str(1));
      d->set_school_name(r.Str(2));
      d->set_region_code(r.Str(3));
      d->set_stage(static_cast<cpb::SchoolStage>(r.Int(4)));
      d->set_slots(static_cast<int32_t>(r.Int(5)));
    }
    auto nrows = c.Query(
        "SELECT n.teacher_id, n.preferences, t.school_code, t.region_code, "
        "t.subjects FROM round_nominations n JOIN teachers t ON t.id = "
        "n.teacher_id WHERE n.round_id = ? ORDER BY n.teacher_id",
        {round->id});
    if (!nrows.ok()) return nrows.status();
    for (const auto& r : *nrows) {
      region_of[r.Int(0)] = r.Str(3);
      school_of[r.Int(0)] = r.Str(2);
      if (!full && !mine(r.Str(3), r.Str(2))) continue;
      auto* n = resp->add_nominations();
      n->set_teacher_id(TeacherIdString(r.Int(0)));
      for (auto& s : internal::SplitList(r.Str(1)))
        n->add_preferred_school_codes(s);
      n->set_school_code(r.Str(2));
      n->set_region_code(r.Str(3));
      for (auto& s : internal::SplitList(r.Str(4))) n->add_subjects(s);
    }
    auto crows = c.Query(
        "SELECT teacher_id, school_code, kind, set_by FROM round_constraints "
        "WHERE round_id = ? ORDER BY teacher_id, school_code",
        {round->id});
    if (!crows.ok()) return crows.status();
    for (const auto& r : *crows) {
      if (!full && !mine(region_of[r.Int(0)], school_of[r.Int(0)])) continue;
      auto* pc = resp->add_constraints();
      pc->set_teacher_id(TeacherIdString(r.Int(0)));
      pc->set_school_code(r.Str(1));
      pc->set_kind(static_cast<pb::ConstraintKind>(r.Int(2)));
      pc->set_set_by(r.Str(3));
    }
    if (!StateIs(round->state, pb::ROUND_STATE_DRAFT) &&
        !round->solution.empty()) {
      pb::Solution s;
      auto bytes = Base64Decode(round->solution);
      if (!bytes.ok() || !s.ParseFromString(*bytes)) {
        return absl::DataLossError("the stored solution cannot be read");
      }
      if (!full) {
        pb::Solution part;
        for (const auto& pl : s.placements()) {
          if (mine(pl.region_code(), pl.school_code()) ||
              mine(pl.source_region_code(), pl.source_school_code())) {
            *part.add_placements() = pl;
          }
        }
        for (const auto& u : s.unfilled()) {
          if (mine(u.region_code(), u.school_code())) *part.add_unfilled() = u;
        }
        for (const auto& u : s.unplaced_teachers()) {
          auto id = ParseTeacherId("teacher_id", u.teacher_id());
          if (id.ok() && mine(region_of[*id], school_of[*id])) {
            *part.add_unplaced_teachers() = u;
          }
        }
        part.set_solve_micros(s.solve_micros());
        for (const auto& d : resp->demands()) {
          part.set_demanded_slots(part.demanded_slots() + d.slots());
        }
        for (const auto& pl : part.placements()) {
          if (mine(pl.region_code(), pl.school_code())) {
            part.set_filled_slots(part.filled_slots() + 1);
          }
          part.set_total_cost(part.total_cost() + pl.cost());
        }
        part.set_teachers(resp->nominations_size());
        part.set_demand_lines(resp->demands_size());
        s = std::move(part);
      }
      *resp->mutable_solution() = std::move(s);
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  std::vector<int64_t> ids;
  for (const auto& n : resp->nominations()) {
    auto id = ParseTeacherId("teacher_id", n.teacher_id());
    if (id.ok()) ids.push_back(*id);
  }
  auto names = TeacherNames(ids, p);
  if (!names.ok()) return names.status();
  for (auto& n : *resp->mutable_nominations()) {
    auto id = ParseTeacherId("teacher_id", n.teacher_id());
    if (id.ok()) n.set_name((*names)[*id]);
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
  auto size = ValidatePageSize("page_size", req.page_size(), 50, 500);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters = absl::StrCat("rounds|", *region);
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    // Rounds inside the region, and the wider rounds the region takes part in.
    auto ids = c.Query(
        "SELECT id FROM rounds WHERE (region_prefix LIKE ? OR ? LIKE "
        "region_prefix || '%') AND id > ? ORDER BY id LIMIT ?",
        {*region + "%", *region, *after, int64_t{*size + 1}});
    if (!ids.ok()) return ids.status();
    for (size_t i = 0; i < ids->size() && i < static_cast<size_t>(*size); ++i) {
      auto r = LoadRound(c, (*ids)[i].Int(0));
      if (!r.ok()) return r.status();
      RETURN_IF_ERROR(FillRound(c, *r, resp->add_rounds()));
    }
    if (ids->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(
          EncodePageToken(absl::StrCat((*ids)[*size - 1].Int(0)), filters));
    }
    return absl::OkStatus();
  });
}

}  // namespace eduaid::teacher
