#include "services/teacher/assignment.h"

#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"

namespace eduaid::teacher {
namespace {

using Graph = lemon::SmartDigraph;
using Solver = lemon::NetworkSimplex<Graph, int64_t, int64_t>;

const char* StageLabel(int stage) {
  switch (stage) {
    case 1:
      return "preschool";
    case 2:
      return "primary";
    case 3:
      return "junior high";
    case 4:
      return "senior high";
    case 5:
      return "secondary vocational";
    case 6:
      return "higher education";
    default:
      return "any stage";
  }
}

std::string Ordinal(int n) {
  const char* suffix = "th";
  if (n % 100 < 11 || n % 100 > 13) {
    if (n % 10 == 1) suffix = "st";
    if (n % 10 == 2) suffix = "nd";
    if (n % 10 == 3) suffix = "rd";
  }
  return absl::StrCat(n, suffix);
}

// Rule categories, for counting why demand stays empty.
enum class Block {
  kNone,
  kInactive,
  kPlacedThisTerm,
  kConsecutive,
  kSameSchool,
  kForbidden,
  kPinnedElsewhere,
};

struct BlockResult {
  Block block = Block::kNone;
  std::string text;
};

// The first rule that keeps `t` from `d`; the explanation is only built
// when `with_text` (the solver's inner loop does without).
BlockResult CheckRules(const SupportTeacher& t, const SupportDemand& d,
                       const SupportRules& rules,
                       const std::vector<PairConstraint>& constraints,
                       bool with_text = true) {
  auto result = [&](Block b, auto&& explain) {
    return BlockResult{b, with_text ? std::string(explain()) : std::string()};
  };
  if (!t.active) {
    return result(Block::kInactive, [] { return "the teacher has left"; });
  }
  if (t.placed_this_term) {
    return result(Block::kPlacedThisTerm, [] {
      return "already placed this term by another published round";
    });
  }
  if (t.consecutive_terms >= rules.max_consecutive_terms) {
    return result(Block::kConsecutive, [&] {
      return absl::StrCat("served ", t.consecutive_terms,
                          " consecutive terms (at most ",
                          rules.max_consecutive_terms, ")");
    });
  }
  if (!rules.allow_same_school_twice && !t.last_school.empty() &&
      t.last_school == d.school_code) {
    return result(Block::kSameSchool, [&] {
      return absl::StrCat("was placed at ", d.school_code,
                          " last time (not the same school twice running)");
    });
  }
  for (const auto& c : constraints) {
    if (c.teacher_id != t.id) continue;
    if (c.pin && c.school_code != d.school_code) {
      return result(Block::kPinnedElsewhere, [&] {
        return absl::StrCat("pinned by an officer to ", c.school_code);
      });
    }
    if (!c.pin && c.school_code == d.school_code) {
      return result(Block::kForbidden, [&] {
        return absl::StrCat("forbidden at ", d.school_code, " by an officer");
      });
    }
  }
  return {};
}

const char* BlockNoun(Block b) {
  switch (b) {
    case Block::kInactive:
      return "left";
    case Block::kPlacedThisTerm:
      return "already placed this term";
    case Block::kConsecutive:
      return "reached the consecutive-terms limit";
    case Block::kSameSchool:
      return "served at this school last time";
    case Block::kForbidden:
      return "forbidden here by an officer";
    case Block::kPinnedElsewhere:
      return "pinned to another school";
    default:
      return "";
  }
}

}  // namespace

namespace {

// Cost terms summed, and listed with their explanations when `terms` is
// not null (the solver's inner loop does without them).
class CostTally {
 public:
  explicit CostTally(std::vector<CostTermValue>* terms) : terms_(terms) {}
  template <typename Explain>
  void Add(const char* factor, int64_t points, Explain&& explain) {
    total_ += points;
    if (terms_ != nullptr) terms_->push_back({factor, points, explain()});
  }
  int64_t total() const { return total_; }

 private:
  std::vector<CostTermValue>* terms_;
  int64_t total_ = 0;
};

// Same county 0, same city, same province, another province.
void AddDistanceCost(const SupportTeacher& t, const SupportDemand& d,
                     CostTally& tally) {
  const std::string& a = t.region_code;
  const std::string& b = d.region_code;
  if (a == b) {
    tally.Add("distance", 0, [&] { return absl::StrCat("same county ", a); });
  } else if (a.size() >= 4 && b.size() >= 4 && a.compare(0, 4, b, 0, 4) == 0) {
    tally.Add("distance", kCostSameCity, [&] {
      return absl::StrCat("another county of the same city (", a, " to ", b,
                          ")");
    });
  } else if (a.size() >= 2 && b.size() >= 2 && a.compare(0, 2, b, 0, 2) == 0) {
    tally.Add("distance", kCostSameProvince, [&] {
      return absl::StrCat("another city of the same province (", a, " to ", b,
                          ")");
    });
  } else {
    tally.Add("distance", kCostOtherProvince, [&] {
      return absl::StrCat("another province (", a, " to ", b, ")");
    });
  }
}

// None stated 0, k-th choice 5(k-1), not among them 30.
void AddPreferenceCost(const SupportTeacher& t, const SupportDemand& d,
                       CostTally& tally) {
  if (t.preferred_schools.empty()) {
    tally.Add("preference", 0,
              [] { return std::string("no preference stated"); });
    return;
  }
  auto it = std::find(t.preferred_schools.begin(), t.preferred_schools.end(),
                      d.school_code);
  if (it == t.preferred_schools.end()) {
    tally.Add("preference", kCostNotPreferred, [&] {
      return absl::StrCat("not among the teacher's ",
                          t.preferred_schools.size(), " preferred schools");
    });
    return;
  }
  const int rank = static_cast<int>(it - t.preferred_schools.begin());
  tally.Add("preference", kCostPerPreferenceRank * rank, [&] {
    return absl::StrCat("the teacher's ", Ordinal(rank + 1), " choice");
  });
}

// The cost of `t` filling `d` (nullopt when `t` does not teach the subject),
// term by term into `terms` when not null. The one place costs are defined:
// the solver sums points without building the explanations.
std::optional<int64_t> CostOf(const SupportTeacher& t, const SupportDemand& d,
                              std::vector<CostTermValue>* terms) {
  int subject_rank = -1;
  for (size_t i = 0; i < t.subjects.size(); ++i) {
    if (t.subjects[i] == d.subject) {
      subject_rank = static_cast<int>(i);
      break;
    }
  }
  if (subject_rank < 0) return std::nullopt;
  CostTally tally(terms);
  if (subject_rank == 0) {
    tally.Add("subject", 0,
              [&] { return absl::StrCat("main subject ", d.subject); });
  } else {
    tally.Add("subject", kCostSecondSubject, [&] {
      return absl::StrCat(d.subject,
                          " is a second subject (main: ", t.subjects[0], ")");
    });
  }
  if (t.stage != 0 && d.stage != 0 && t.stage != d.stage) {
    tally.Add("stage", kCostStageDiffers, [&] {
      return absl::StrCat("teaches ", StageLabel(t.stage),
                          ", the demand is for ", StageLabel(d.stage));
    });
  }
  AddDistanceCost(t, d, tally);
  const int prior = std::min(t.prior_placements, kMaxCountedPriorPlacements);
  tally.Add("prior_placements", kCostPerPriorPlacement * prior, [&] {
    if (t.prior_placements == 0) return std::string("no earlier placement");
    return absl::StrCat(
        t.prior_placements, " earlier placement",
        t.prior_placements == 1 ? "" : "s",
        t.prior_placements > kMaxCountedPriorPlacements
            ? absl::StrCat(" (", kMaxCountedPriorPlacements, " counted)")
            : "");
  });
  AddPreferenceCost(t, d, tally);
  return tally.total();
}

bool Teaches(const SupportTeacher& t, const std::string& subject) {
  return std::find(t.subjects.begin(), t.subjects.end(), subject) !=
         t.subjects.end();
}

}  // namespace

std::optional<std::vector<CostTermValue>> PlacementCost(
    const SupportTeacher& t, const SupportDemand& d) {
  std::vector<CostTermValue> terms;
  terms.reserve(5);
  if (!CostOf(t, d, &terms)) return std::nullopt;
  return terms;
}

std::string RuleBlock(const SupportTeacher& t, const SupportDemand& d,
                      const SupportRules& rules,
                      const std::vector<PairConstraint>& constraints) {
  return CheckRules(t, d, rules, constraints).text;
}

namespace {

// A round's inputs, as every step of the solve reads them.
struct RoundInputs {
  const std::vector<SupportTeacher>& teachers;
  const std::vector<SupportDemand>& demands;
  const SupportRules& rules;
  const std::vector<PairConstraint>& constraints;
  int nt() const { return static_cast<int>(teachers.size()); }
  int nd() const { return static_cast<int>(demands.size()); }
};

// An eligible (teacher, demand) pair and its cost.
struct EligibleArc {
  int t, d;
  int64_t cost;
};

struct EligibleArcs {
  std::vector<EligibleArc> arcs;
  std::vector<std::vector<int>> of_teacher, of_demand;  // indexes into arcs
};

// Where the optimum put everyone.
struct FlowOutcome {
  std::vector<int> placed_at;  // demand of each teacher, -1 when unplaced
  std::vector<int> filled;     // slots filled per demand
  std::map<std::string, int> sent_by_school;
};

absl::Status ValidateRound(const RoundInputs& in,
                           std::unordered_map<std::string, int>* index_of,
                           int* demanded) {
  if (in.rules.max_consecutive_terms < 1) {
    return InvalidField("rules.max_consecutive_terms", "must be at least 1");
  }
  if (in.rules.max_per_source_school < 1) {
    return InvalidField("rules.max_per_source_school", "must be at least 1");
  }
  for (int i = 0; i < in.nt(); ++i) {
    if (!index_of->emplace(in.teachers[i].id, i).second) {
      return InvalidField(
          "teachers",
          absl::StrCat("teacher ", in.teachers[i].id, " appears twice"));
    }
  }
  for (int k = 0; k < in.nd(); ++k) {
    if (in.demands[k].slots < 0) {
      return InvalidField("demands", "slots must not be negative");
    }
    *demanded += in.demands[k].slots;
  }
  return absl::OkStatus();
}

// Pins: one per teacher, on a nominated teacher.
absl::StatusOr<std::unordered_map<int, std::string>> PinsOf(
    const RoundInputs& in,
    const std::unordered_map<std::string, int>& index_of) {
  std::unordered_map<int, std::string> pin_of;
  for (const auto& c : in.constraints) {
    if (!c.pin) continue;
    auto it = index_of.find(c.teacher_id);
    if (it == index_of.end()) {
      return WithReason(absl::StatusCode::kFailedPrecondition, "PIN_INFEASIBLE",
                        absl::StrCat("teacher ", c.teacher_id,
                                     " is pinned but not nominated"));
    }
    if (!pin_of.emplace(it->second, c.school_code).second) {
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "PIN_INFEASIBLE",
          absl::StrCat("teacher ", c.teacher_id, " is pinned to two schools"));
    }
  }
  return pin_of;
}

// The pairs the rules allow, with their costs.
EligibleArcs FindEligibleArcs(const RoundInputs& in) {
  EligibleArcs e;
  e.of_teacher.resize(in.nt());
  e.of_demand.resize(in.nd());
  for (int i = 0; i < in.nt(); ++i) {
    for (int k = 0; k < in.nd(); ++k) {
      if (in.demands[k].slots == 0) continue;
      auto points = CostOf(in.teachers[i], in.demands[k], nullptr);
      if (!points) continue;
      if (CheckRules(in.teachers[i], in.demands[k], in.rules, in.constraints,
                     /*with_text=*/false)
              .block != Block::kNone) {
        continue;
      }
      e.of_teacher[i].push_back(static_cast<int>(e.arcs.size()));
      e.of_demand[k].push_back(static_cast<int>(e.arcs.size()));
      e.arcs.push_back({i, k, *points});
    }
  }
  return e;
}

// Each pin able to land, and no source school over its limit by pins alone.
absl::Status CheckPinsCanLand(
    const RoundInputs& in, const std::unordered_map<int, std::string>& pin_of,
    const EligibleArcs& e) {
  std::map<std::string, int> pins_per_source;
  for (const auto& [i, school] : pin_of) {
    const auto& t = in.teachers[i];
    if (e.of_teacher[i].empty()) {
      std::string why = "no demand there in the teacher's subjects";
      for (int k = 0; k < in.nd(); ++k) {
        if (in.demands[k].school_code != school || in.demands[k].slots == 0) {
          continue;
        }
        if (!Teaches(t, in.demands[k].subject)) continue;
        why = CheckRules(t, in.demands[k], in.rules, in.constraints).text;
        break;
      }
      return WithReason(absl::StatusCode::kFailedPrecondition, "PIN_INFEASIBLE",
                        absl::StrCat("teacher ", t.id, " is pinned to ", school,
                                     " but cannot go there: ", why));
    }
    if (++pins_per_source[t.source_school] > in.rules.max_per_source_school) {
      return WithReason(
          absl::StatusCode::kFailedPrecondition, "PIN_INFEASIBLE",
          absl::StrCat("more teachers of ", t.source_school,
                       " are pinned than the source-school limit of ",
                       in.rules.max_per_source_school));
    }
  }
  return absl::OkStatus();
}

// FAILED_PRECONDITION (PIN_INFEASIBLE) naming every pin, when no flow
// honours them all.
absl::Status PinsInfeasible(
    const RoundInputs& in, const std::unordered_map<int, std::string>& pin_of) {
  std::vector<std::string> pins;
  for (const auto& [i, school] : pin_of) {
    pins.push_back(absl::StrCat(in.teachers[i].id, "->", school));
  }
  std::sort(pins.begin(), pins.end());
  return WithReason(
      absl::StatusCode::kFailedPrecondition, "PIN_INFEASIBLE",
      absl::StrCat("the pins cannot all be honoured (more pinned teachers "
                   "than slots at a school, or than a source school may "
                   "give): ",
                   absl::StrJoin(pins, ", ")));
}

// The min-cost flow; the flow on each eligible arc (0 or 1).
//
// The network: s -> source school (cap K) -> teacher (cap 1, lower 1 when
// pinned) -> demand (cap 1, cost) -> sink (cap slots); and s -> demand
// (cap slots, cost P) for slots left empty. P exceeds the cost of any
// simple augmenting path, so the optimum fills the most slots first.
absl::StatusOr<std::vector<int64_t>> SolveFlow(
    const RoundInputs& in, const std::unordered_map<int, std::string>& pin_of,
    const EligibleArcs& e, int demanded) {
  const int nt = in.nt();
  const int nd = in.nd();
  Graph g;
  Graph::ArcMap<int64_t> lower(g), upper(g), cost(g);
  Graph::NodeMap<int64_t> supply(g);
  const Graph::Node s = g.addNode();
  const Graph::Node sink = g.addNode();
  const int64_t penalty = kMaxPlacementCost * (nt + 1) + 1;
  std::map<std::string, Graph::Node> school_node;
  std::map<std::string, Graph::Arc> school_arc;
  std::vector<Graph::Node> teacher_node(nt, lemon::INVALID);
  std::vector<Graph::Node> demand_node(nd);
  auto add_arc = [&](Graph::Node a, Graph::Node b, int64_t lo, int64_t hi,
                     int64_t c) {
    Graph::Arc arc = g.addArc(a, b);
    lower[arc] = lo;
    upper[arc] = hi;
    cost[arc] = c;
    return arc;
  };
  std::vector<Graph::Arc> bypass(nd);
  for (int k = 0; k < nd; ++k) {
    demand_node[k] = g.addNode();
    add_arc(demand_node[k], sink, 0, in.demands[k].slots, 0);
    bypass[k] = add_arc(s, demand_node[k], 0, in.demands[k].slots, penalty);
  }
  for (int i = 0; i < nt; ++i) {
    if (e.of_teacher[i].empty()) continue;
    const std::string& src = in.teachers[i].source_school;
    auto it = school_node.find(src);
    if (it == school_node.end()) {
      Graph::Node u = g.addNode();
      it = school_node.emplace(src, u).first;
      school_arc.emplace(src,
                         add_arc(s, u, 0, in.rules.max_per_source_school, 0));
    }
    teacher_node[i] = g.addNode();
    add_arc(it->second, teacher_node[i], pin_of.count(i) ? 1 : 0, 1, 0);
  }
  std::vector<Graph::Arc> flow_arc(e.arcs.size());
  for (size_t a = 0; a < e.arcs.size(); ++a) {
    flow_arc[a] = add_arc(teacher_node[e.arcs[a].t], demand_node[e.arcs[a].d],
                          0, 1, e.arcs[a].cost);
  }
  for (Graph::NodeIt n(g); n != lemon::INVALID; ++n) supply[n] = 0;
  supply[s] = demanded;
  supply[sink] = -demanded;

  Solver solver(g);
  solver.lowerMap(lower).upperMap(upper).costMap(cost).supplyMap(supply);
  Solver::ProblemType result = solver.run();
  if (result != Solver::OPTIMAL) return PinsInfeasible(in, pin_of);
  std::vector<int64_t> flows(e.arcs.size());
  for (size_t a = 0; a < e.arcs.size(); ++a)
    flows[a] = solver.flow(flow_arc[a]);
  return flows;
}

// The placements the flow makes, in (demand, teacher) order, into `sol`.
FlowOutcome CollectPlacements(
    const RoundInputs& in, const std::unordered_map<int, std::string>& pin_of,
    const EligibleArcs& e, const std::vector<int64_t>& flows,
    SupportSolution* sol) {
  FlowOutcome out;
  out.placed_at.assign(in.nt(), -1);
  out.filled.assign(in.nd(), 0);
  for (size_t a = 0; a < e.arcs.size(); ++a) {
    if (flows[a] == 0) continue;
    const EligibleArc& arc = e.arcs[a];
    SupportPlacement p;
    p.teacher = arc.t;
    p.demand = arc.d;
    p.pinned = pin_of.count(arc.t) > 0;
    p.cost = arc.cost;
    p.terms = *PlacementCost(in.teachers[arc.t], in.demands[arc.d]);
    out.placed_at[arc.t] = arc.d;
    ++out.filled[arc.d];
    ++out.sent_by_school[in.teachers[arc.t].source_school];
    sol->filled += 1;
    sol->total_cost += arc.cost;
    sol->placements.push_back(std::move(p));
  }
  std::sort(sol->placements.begin(), sol->placements.end(),
            [](const SupportPlacement& a, const SupportPlacement& b) {
              return std::tie(a.demand, a.teacher) <
                     std::tie(b.demand, b.teacher);
            });
  return out;
}

// True when `t`'s source school already gives the most it may.
bool AtSourceLimit(const RoundInputs& in, const FlowOutcome& out,
                   const SupportTeacher& t) {
  auto it = out.sent_by_school.find(t.source_school);
  return it != out.sent_by_school.end() &&
         it->second >= in.rules.max_per_source_school;
}

// Why eligible teachers stay away from demand `k`, which some may fill.
void ExplainEligibleButEmpty(const RoundInputs& in, const EligibleArcs& e,
                             const FlowOutcome& out, int k,
                             SupportUnfilled* u) {
  const SupportDemand& d = in.demands[k];
  std::set<std::string> limited;
  int idle = 0;
  for (int a : e.of_demand[k]) {
    const SupportTeacher& t = in.teachers[e.arcs[a].t];
    if (out.placed_at[e.arcs[a].t] < 0 && AtSourceLimit(in, out, t)) {
      ++idle;
      limited.insert(t.source_school);
    }
  }
  if (idle > 0) {
    u->cause = UnfilledCause::kSourceSchoolLimit;
    u->explanation = absl::StrCat(
        idle, " eligible teacher", idle == 1 ? " stays" : "s stay",
        " unplaced because their source school",
        limited.size() == 1 ? " " : "s ", absl::StrJoin(limited, ", "),
        limited.size() == 1 ? " already gives " : " already give ",
        in.rules.max_per_source_school, " (the most one school may give)");
    return;
  }
  u->cause = UnfilledCause::kPlacedElsewhere;
  std::set<std::string> elsewhere;
  for (int a : e.of_demand[k]) {
    int at = out.placed_at[e.arcs[a].t];
    if (at < 0 || at == k) continue;
    elsewhere.insert(
        in.demands[at].school_code == d.school_code
            ? absl::StrCat(d.school_code, " (", in.demands[at].subject, ")")
            : in.demands[at].school_code);
  }
  const size_t n = e.of_demand[k].size();
  u->explanation = absl::StrCat(
      "all ", n, " teacher", n == 1 ? " who may" : "s who may", " fill it ",
      n == 1 ? "is" : "are", " placed",
      out.filled[k] > 0 ? absl::StrCat(" (", out.filled[k], " here)") : "",
      elsewhere.empty() ? ""
                        : absl::StrCat(" at ", absl::StrJoin(elsewhere, ", ")),
      "; no re-arrangement fills more slots");
}

// Demand `k` with `empty` slots left: why.
SupportUnfilled ExplainUnfilled(const RoundInputs& in, const EligibleArcs& e,
                                const FlowOutcome& out, int k, int empty) {
  SupportUnfilled u;
  u.demand = k;
  u.slots = empty;
  const SupportDemand& d = in.demands[k];
  std::vector<int> with_subject;
  for (int i = 0; i < in.nt(); ++i) {
    if (Teaches(in.teachers[i], d.subject)) with_subject.push_back(i);
  }
  if (with_subject.empty()) {
    u.cause = UnfilledCause::kNoTeacherWithSubject;
    u.explanation = absl::StrCat("no nominated teacher teaches ", d.subject);
  } else if (e.of_demand[k].empty()) {
    u.cause = UnfilledCause::kRulesBlockAll;
    std::map<Block, int> counts;
    for (int i : with_subject) {
      ++counts[CheckRules(in.teachers[i], d, in.rules, in.constraints, false)
                   .block];
    }
    std::vector<std::string> parts;
    for (const auto& [b, n] : counts) {
      parts.push_back(absl::StrCat(n, " ", BlockNoun(b)));
    }
    u.explanation =
        absl::StrCat(with_subject.size(), " nominated teacher",
                     with_subject.size() == 1 ? " teaches " : "s teach ",
                     d.subject, " but none may go to ", d.school_code, ": ",
                     absl::StrJoin(parts, ", "));
  } else {
    ExplainEligibleButEmpty(in, e, out, k, &u);
  }
  return u;
}

// Why a teacher whom no rule admits anywhere stays unplaced.
std::string ExplainBlockedTeacher(const RoundInputs& in,
                                  const SupportTeacher& t) {
  std::map<Block, int> counts;
  bool any_subject = false;
  for (int k = 0; k < in.nd(); ++k) {
    if (in.demands[k].slots == 0 || !Teaches(t, in.demands[k].subject)) {
      continue;
    }
    any_subject = true;
    ++counts[CheckRules(t, in.demands[k], in.rules, in.constraints, false)
                 .block];
  }
  if (!any_subject) {
    return absl::StrCat("no demand for ", absl::StrJoin(t.subjects, ", "));
  }
  std::string why = CheckRules(t, SupportDemand{}, in.rules, {}).text;
  if (!why.empty()) return why;
  std::vector<std::string> parts;
  for (const auto& [b, n] : counts) {
    parts.push_back(absl::StrCat(BlockNoun(b), " (", n, " demand line",
                                 n == 1 ? ")" : "s)"));
  }
  return absl::StrCat(
      "blocked wherever the subjects are "
      "wanted: ",
      absl::StrJoin(parts, ", "));
}

// Teacher `i`, left unplaced: why.
SupportUnplaced ExplainUnplaced(const RoundInputs& in, const EligibleArcs& e,
                                const FlowOutcome& out, int i) {
  const SupportTeacher& t = in.teachers[i];
  SupportUnplaced up;
  up.teacher = i;
  if (e.of_teacher[i].empty()) {
    up.explanation = ExplainBlockedTeacher(in, t);
  } else if (AtSourceLimit(in, out, t)) {
    up.explanation =
        absl::StrCat("source school ", t.source_school, " already gives ",
                     in.rules.max_per_source_school, " teachers");
  } else {
    up.explanation =
        "every slot the teacher could fill went to another teacher "
        "who fills it at a lower cost or fills it necessarily";
  }
  return up;
}

}  // namespace

absl::StatusOr<SupportSolution> SolveSupportRound(
    const std::vector<SupportTeacher>& teachers,
    const std::vector<SupportDemand>& demands, const SupportRules& rules,
    const std::vector<PairConstraint>& constraints) {
  const RoundInputs in{teachers, demands, rules, constraints};
  SupportSolution sol;
  std::unordered_map<std::string, int> index_of;
  RETURN_IF_ERROR(ValidateRound(in, &index_of, &sol.demanded));
  ASSIGN_OR_RETURN(const auto pin_of, PinsOf(in, index_of));
  const EligibleArcs eligible = FindEligibleArcs(in);
  RETURN_IF_ERROR(CheckPinsCanLand(in, pin_of, eligible));
  ASSIGN_OR_RETURN(const auto flows,
                   SolveFlow(in, pin_of, eligible, sol.demanded));
  const FlowOutcome out = CollectPlacements(in, pin_of, eligible, flows, &sol);
  for (int k = 0; k < in.nd(); ++k) {
    const int empty = demands[k].slots - out.filled[k];
    if (empty > 0)
      sol.unfilled.push_back(ExplainUnfilled(in, eligible, out, k, empty));
  }
  for (int i = 0; i < in.nt(); ++i) {
    if (out.placed_at[i] < 0) {
      sol.unplaced.push_back(ExplainUnplaced(in, eligible, out, i));
    }
  }
  return sol;
}

// ---------------------------------------------------------------- training

namespace {

// What every county's explanation of its seats refers to.
struct SeatBasis {
  int seats;                   // seats allocated
  int left;                    // seats handed out by remainder
  int counties;                // number of counties
  int w_students, w_shortage;  // weights asked for
  int64_t ws, wh;              // weights used (0 when a share drops out)
  int64_t sum_students, sum_shortage;
};

std::string ExplainSeats(const SeatBasis& b, const CountyWeight& c,
                         const CountySeats& cs, int floor_seats) {
  const double total_w = static_cast<double>(b.ws + b.wh);
  std::vector<std::string> parts;
  if (b.ws > 0) {
    parts.push_back(absl::StrFormat(
        "registered students %d of %d (%.1f%%) weighted %.0f%%", c.students,
        b.sum_students,
        100.0 * c.students / static_cast<double>(b.sum_students),
        100.0 * b.ws / total_w));
  }
  if (b.wh > 0) {
    parts.push_back(absl::StrFormat(
        "rural teacher shortage %d of %d (%.1f%%) weighted %.0f%%", c.shortage,
        b.sum_shortage,
        100.0 * c.shortage / static_cast<double>(b.sum_shortage),
        100.0 * b.wh / total_w));
  }
  std::string dropped;
  if (b.ws == 0 && b.w_students > 0)
    dropped = "; no county has registered students, so that share drops out";
  if (b.wh == 0 && b.w_shortage > 0)
    dropped = "; no county reports a shortage, so that share drops out";
  const int left = b.left;
  return absl::StrFormat(
      "%s => quota %.3f of %d seats; %d by the integer part%s%s",
      absl::StrJoin(parts, " + "), cs.quota_milli / 1000.0, b.seats,
      floor_seats,
      cs.got_remainder_seat
          ? absl::StrFormat(", +1 for the %s largest remainder",
                            Ordinal(cs.remainder_rank))
          : (left > 0 ? absl::StrFormat(", no remainder seat (remainder "
                                        "ranks %s of %d, %d seat%s left "
                                        "over)",
                                        Ordinal(cs.remainder_rank), b.counties,
                                        left, left == 1 ? "" : "s")
                      : std::string()),
      dropped);
}

// Exact integer arithmetic of one county's quota.
using Wide = __int128;
struct SeatWork {
  Wide numer, floor, rem;
  size_t index;
};

// One remainder seat each to the `left` counties with the largest
// remainders (ties: more students, then region code); ranks every county.
void HandOutRemainders(const std::vector<CountyWeight>& counties,
                       const std::vector<SeatWork>& work, int left,
                       std::vector<CountySeats>* out) {
  std::vector<SeatWork> order = work;
  std::sort(
      order.begin(), order.end(), [&](const SeatWork& a, const SeatWork& b) {
        if (a.rem != b.rem) return a.rem > b.rem;
        if (counties[a.index].students != counties[b.index].students) {
          return counties[a.index].students > counties[b.index].students;
        }
        return counties[a.index].region_code < counties[b.index].region_code;
      });
  for (size_t r = 0; r < order.size(); ++r) {
    CountySeats& cs = (*out)[order[r].index];
    cs.remainder_rank = static_cast<int>(r + 1);
    if (r < static_cast<size_t>(left)) {
      cs.seats += 1;
      cs.got_remainder_seat = true;
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<CountySeats>> AllocateSeats(
    int seats, const std::vector<CountyWeight>& counties, int w_students,
    int w_shortage) {
  if (seats < 0) return InvalidField("seats", "must not be negative");
  if (w_students < 0 || w_shortage < 0) {
    return InvalidField("weights", "must not be negative");
  }
  if (counties.empty()) return InvalidField("counties", "must not be empty");
  Wide sum_students = 0, sum_shortage = 0;
  for (const auto& c : counties) {
    if (c.students < 0 || c.shortage < 0) {
      return InvalidField("counties", "figures must not be negative");
    }
    sum_students += c.students;
    sum_shortage += c.shortage;
  }
  int64_t ws = sum_students > 0 ? w_students : 0;
  int64_t wh = sum_shortage > 0 ? w_shortage : 0;
  if (ws + wh == 0) {
    return WithReason(absl::StatusCode::kFailedPrecondition,
                      "NO_ALLOCATION_BASIS",
                      "no county has registered students or a rural teacher "
                      "shortage with a non-zero weight; nothing to weigh "
                      "seats by");
  }
  const Wide su = ws > 0 ? sum_students : 1;
  const Wide hu = wh > 0 ? sum_shortage : 1;
  const Wide denom = static_cast<Wide>(ws + wh) * su * hu;
  std::vector<SeatWork> work;
  std::vector<CountySeats> out(counties.size());
  Wide given = 0;
  for (size_t i = 0; i < counties.size(); ++i) {
    const auto& c = counties[i];
    Wide numer =
        static_cast<Wide>(seats) * (static_cast<Wide>(ws) * c.students * hu +
                                    static_cast<Wide>(wh) * c.shortage * su);
    SeatWork w{numer, numer / denom, numer % denom, i};
    given += w.floor;
    out[i].region_code = c.region_code;
    out[i].seats = static_cast<int>(w.floor);
    out[i].quota_milli = static_cast<int64_t>(numer * 1000 / denom);
    work.push_back(w);
  }
  const int left = seats - static_cast<int>(given);
  HandOutRemainders(counties, work, left, &out);
  const SeatBasis basis{seats,
                        left,
                        static_cast<int>(counties.size()),
                        w_students,
                        w_shortage,
                        ws,
                        wh,
                        static_cast<int64_t>(sum_students),
                        static_cast<int64_t>(sum_shortage)};
  for (size_t i = 0; i < counties.size(); ++i) {
    out[i].explanation = ExplainSeats(basis, counties[i], out[i],
                                      static_cast<int>(work[i].floor));
  }
  return out;
}

}  // namespace eduaid::teacher
