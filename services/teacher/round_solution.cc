#include "services/teacher/round_solution.h"

#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/teacher/teacher.h"

namespace eduaid::teacher {

namespace {

// A nominee as the solver sees them, their history read against the
// round's term.
SupportTeacher ToSupportTeacher(const NominationRecord& n,
                                const std::map<int64_t, std::string>& history,
                                int64_t term_index) {
  SupportTeacher t;
  t.id = TeacherIdString(n.teacher_id);
  t.preferred_schools = n.preferences;
  t.source_school = n.school_code;
  t.region_code = n.region_code;
  t.subjects = n.subjects;
  t.stage = n.stage;
  t.active = n.active;
  for (const auto& [term, school] : history) {
    if (term < term_index) {
      ++t.prior_placements;
      t.last_school = school;
    } else if (term == term_index) {
      t.placed_this_term = true;
    }
  }
  for (int64_t term = term_index - 1; history.count(term); --term) {
    ++t.consecutive_terms;
  }
  return t;
}

void PlacementToProto(const SupportPlacement& p, const SolveInputs& in,
                      pb::Placement* out) {
  const SupportTeacher& t = in.teachers[p.teacher];
  const SupportDemand& d = in.demands[p.demand];
  out->set_teacher_id(t.id);
  out->set_source_school_code(t.source_school);
  out->set_source_region_code(t.region_code);
  out->set_school_code(d.school_code);
  out->set_school_name(in.school_names[p.demand]);
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

}  // namespace

absl::StatusOr<SolveInputs> ReadSolveInputs(SqlConnection& c,
                                            const RoundRecord& round) {
  SolveInputs in;
  ASSIGN_OR_RETURN(const auto demands, LoadDemands(c, round.id));
  if (demands.empty()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NO_DEMAND",
                      "round_id: no school posted demand yet");
  }
  ASSIGN_OR_RETURN(const auto nominations, LoadNominations(c, round.id));
  if (nominations.empty()) {
    return WithReason(absl::StatusCode::kFailedPrecondition, "NO_NOMINATIONS",
                      "round_id: no teacher is nominated yet");
  }
  ASSIGN_OR_RETURN(auto history, LoadNomineeHistory(c, round.id));
  ASSIGN_OR_RETURN(const auto constraints, LoadConstraints(c, round.id));
  for (const auto& r : demands) {
    SupportDemand d;
    d.school_code = r.school_code;
    d.subject = r.subject;
    d.region_code = r.region_code;
    d.stage = r.stage;
    d.slots = r.slots;
    in.school_names.push_back(r.school_name);
    in.demands.push_back(std::move(d));
  }
  for (const auto& n : nominations) {
    in.teachers.push_back(
        ToSupportTeacher(n, history[n.teacher_id], round.term_index));
  }
  for (const auto& k : constraints) {
    in.constraints.push_back({TeacherIdString(k.teacher_id), k.school_code,
                              k.kind == pb::CONSTRAINT_KIND_PIN});
  }
  return in;
}

void SolutionToProto(const SupportSolution& solved, const SolveInputs& in,
                     int64_t micros, pb::Solution* s) {
  s->set_demanded_slots(solved.demanded);
  s->set_filled_slots(solved.filled);
  s->set_total_cost(solved.total_cost);
  s->set_solve_micros(micros);
  s->set_teachers(static_cast<int32_t>(in.teachers.size()));
  s->set_demand_lines(static_cast<int32_t>(in.demands.size()));
  for (const auto& p : solved.placements) {
    PlacementToProto(p, in, s->add_placements());
  }
  for (const auto& u : solved.unfilled) {
    const SupportDemand& d = in.demands[u.demand];
    auto* out = s->add_unfilled();
    out->set_school_code(d.school_code);
    out->set_school_name(in.school_names[u.demand]);
    out->set_region_code(d.region_code);
    out->set_subject(d.subject);
    out->set_slots(u.slots);
    out->set_reason(static_cast<pb::UnfilledReason>(u.cause));
    out->set_explanation(u.explanation);
  }
  for (const auto& u : solved.unplaced) {
    auto* out = s->add_unplaced_teachers();
    out->set_teacher_id(in.teachers[u.teacher].id);
    out->set_explanation(u.explanation);
  }
}

}  // namespace eduaid::teacher
