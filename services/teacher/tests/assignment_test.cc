// The optimisation functions on their own: the round solver against brute
// force and known optima, its rules on random instances, the visit
// assignment's coverage and balance, and the seat allocation.
#include "services/teacher/assignment.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/status.h"

namespace eduaid::teacher {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kSubjects = {"数学", "语文", "英语", "物理"};
const std::vector<std::string> kRegions = {"411325", "411326", "411302",
                                           "410102", "110101"};

SupportTeacher Teacher(const std::string& id, const std::string& source,
                       const std::string& region,
                       std::vector<std::string> subjects) {
  SupportTeacher t;
  t.id = id;
  t.source_school = source;
  t.region_code = region;
  t.subjects = std::move(subjects);
  return t;
}

SupportDemand Demand(const std::string& school, const std::string& region,
                     const std::string& subject, int slots) {
  SupportDemand d;
  d.school_code = school;
  d.region_code = region;
  d.subject = subject;
  d.slots = slots;
  return d;
}

struct Instance {
  std::vector<SupportTeacher> teachers;
  std::vector<SupportDemand> demands;
  SupportRules rules;
  std::vector<PairConstraint> constraints;
};

Instance RandomInstance(std::mt19937& rng, int teachers, int schools,
                        int max_slots, bool with_pins) {
  auto pick = [&](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng);
  };
  auto chance = [&](double p) {
    return std::uniform_real_distribution<double>(0, 1)(rng) < p;
  };
  Instance in;
  in.rules.max_consecutive_terms = 1 + pick(3);
  in.rules.max_per_source_school = 1 + pick(3);
  in.rules.allow_same_school_twice = chance(0.2);
  std::vector<std::string> school_codes;
  for (int s = 0; s < schools; ++s) {
    std::string code = "R" + std::to_string(s);
    school_codes.push_back(code);
    const std::string region = kRegions[pick(2)];
    std::set<std::string> subjects;
    int lines = 1 + pick(2);
    for (int l = 0; l < lines; ++l) subjects.insert(kSubjects[pick(4)]);
    for (const auto& subj : subjects) {
      SupportDemand d = Demand(code, region, subj, 1 + pick(max_slots));
      d.stage = chance(0.5) ? 2 + pick(2) : 0;
      in.demands.push_back(d);
    }
  }
  const int sources = std::max(2, teachers / 3);
  for (int i = 0; i < teachers; ++i) {
    std::vector<std::string> subj;
    std::set<std::string> used;
    int n = 1 + pick(2);
    for (int k = 0; k < n; ++k) {
      const std::string& s = kSubjects[pick(4)];
      if (used.insert(s).second) subj.push_back(s);
    }
    SupportTeacher t =
        Teacher("t-" + std::to_string(i + 1),
                "U" + std::to_string(pick(sources)), kRegions[pick(5)], subj);
    t.stage = chance(0.5) ? 2 + pick(2) : 0;
    t.active = !chance(0.05);
    t.prior_placements = pick(7);
    t.consecutive_terms = std::min(t.prior_placements, pick(4));
    if (t.prior_placements > 0 && chance(0.6)) {
      t.last_school = school_codes[pick(schools)];
    }
    t.placed_this_term = chance(0.05);
    int prefs = pick(4);
    std::set<std::string> p;
    for (int k = 0; k < prefs; ++k) {
      const std::string& code = school_codes[pick(schools)];
      if (p.insert(code).second) t.preferred_schools.push_back(code);
    }
    in.teachers.push_back(t);
  }
  for (int i = 0; i < teachers; ++i) {
    if (chance(0.15)) {
      in.constraints.push_back(
          {in.teachers[i].id, school_codes[pick(schools)], false});
    }
  }
  if (with_pins && chance(0.5)) {
    int i = pick(teachers);
    // Pin only where a rule-abiding arc exists, so that most instances solve.
    for (const auto& d : in.demands) {
      if (PlacementCost(in.teachers[i], d) &&
          RuleBlock(in.teachers[i], d, in.rules, in.constraints).empty()) {
        in.constraints.push_back({in.teachers[i].id, d.school_code, true});
        break;
      }
    }
  }
  return in;
}

bool Allowed(const Instance& in, int t, int d) {
  return PlacementCost(in.teachers[t], in.demands[d]).has_value() &&
         RuleBlock(in.teachers[t], in.demands[d], in.rules, in.constraints)
             .empty();
}

int64_t Cost(const Instance& in, int t, int d) {
  int64_t c = 0;
  const auto terms = PlacementCost(in.teachers[t], in.demands[d]);
  for (const auto& term : *terms) {
    c += term.points;
  }
  return c;
}

// Checks every rule and constraint against a solution; returns what broke.
std::vector<std::string> Violations(const Instance& in,
                                    const SupportSolution& s) {
  std::vector<std::string> out;
  std::map<int, int> per_teacher, per_demand;
  std::map<std::string, int> per_source;
  std::map<std::string, std::string> placed_school;
  for (const auto& p : s.placements) {
    const SupportTeacher& t = in.teachers[p.teacher];
    const SupportDemand& d = in.demands[p.demand];
    if (++per_teacher[p.teacher] > 1) out.push_back(t.id + " placed twice");
    if (++per_demand[p.demand] > d.slots)
      out.push_back(d.school_code + " overfilled");
    if (++per_source[t.source_school] > in.rules.max_per_source_school) {
      out.push_back(t.source_school + " gives more than K");
    }
    if (std::find(t.subjects.begin(), t.subjects.end(), d.subject) ==
        t.subjects.end()) {
      out.push_back(t.id + " does not teach " + d.subject);
    }
    if (!t.active) out.push_back(t.id + " has left");
    if (t.placed_this_term) out.push_back(t.id + " already placed this term");
    if (t.consecutive_terms >= in.rules.max_consecutive_terms) {
      out.push_back(t.id + " exceeds N consecutive terms");
    }
    if (!in.rules.allow_same_school_twice && t.last_school == d.school_code) {
      out.push_back(t.id + " sent to the same school twice running");
    }
    placed_school[t.id] = d.school_code;
  }
  for (const auto& c : in.constraints) {
    auto it = placed_school.find(c.teacher_id);
    if (c.pin && (it == placed_school.end() || it->second != c.school_code)) {
      out.push_back(c.teacher_id + " not at pinned " + c.school_code);
    }
    if (!c.pin && it != placed_school.end() && it->second == c.school_code) {
      out.push_back(c.teacher_id + " at forbidden " + c.school_code);
    }
  }
  int unfilled = 0;
  for (const auto& u : s.unfilled) {
    unfilled += u.slots;
    if (u.explanation.empty()) out.push_back("unfilled demand without a why");
  }
  if (s.filled + unfilled != s.demanded) out.push_back("slots do not add up");
  if (s.placements.size() + s.unplaced.size() != in.teachers.size()) {
    out.push_back("teachers do not add up");
  }
  return out;
}

struct Best {
  bool feasible = false;
  int filled = -1;
  int64_t cost = 0;
};

// Every assignment of each teacher to nothing or one demand line.
Best BruteForce(const Instance& in) {
  const int nt = static_cast<int>(in.teachers.size());
  const int nd = static_cast<int>(in.demands.size());
  std::map<std::string, std::string> pin;
  for (const auto& c : in.constraints) {
    if (c.pin) pin[c.teacher_id] = c.school_code;
  }
  Best best;
  std::vector<int> choice(nt, -1), used(nd, 0);
  std::map<std::string, int> per_source;
  std::function<void(int, int, int64_t)> go = [&](int t, int filled,
                                                  int64_t cost) {
    if (t == nt) {
      if (!best.feasible || filled > best.filled ||
          (filled == best.filled && cost < best.cost)) {
        best = {true, filled, cost};
      }
      return;
    }
    const SupportTeacher& teacher = in.teachers[t];
    auto p = pin.find(teacher.id);
    if (p == pin.end()) go(t + 1, filled, cost);  // not placed
    for (int d = 0; d < nd; ++d) {
      if (used[d] >= in.demands[d].slots || !Allowed(in, t, d)) continue;
      if (per_source[teacher.source_school] >= in.rules.max_per_source_school) {
        continue;
      }
      ++used[d];
      ++per_source[teacher.source_school];
      go(t + 1, filled + 1, cost + Cost(in, t, d));
      --used[d];
      --per_source[teacher.source_school];
    }
  };
  go(0, 0, 0);
  return best;
}

TEST(SupportSolverTest, MatchesBruteForceOnSmallRandomCases) {
  std::mt19937 rng(20181);
  int solved = 0, infeasible = 0, partly_filled = 0;
  int64_t costs = 0;
  for (int round = 0; round < 250; ++round) {
    Instance in = RandomInstance(rng, 6, 3, 2, /*with_pins=*/true);
    // Exactly 5 slots: trim or pad the demand to keep the enumeration small.
    int slots = 0;
    for (auto& d : in.demands) {
      d.slots = std::min(d.slots, 5 - slots);
      slots += d.slots;
    }
    if (slots < 5)
      in.demands.push_back(Demand("R9", "411325", "数学", 5 - slots));
    Best want = BruteForce(in);
    auto got =
        SolveSupportRound(in.teachers, in.demands, in.rules, in.constraints);
    if (!want.feasible) {
      ++infeasible;
      ASSERT_FALSE(got.ok()) << "case " << round;
      EXPECT_EQ(ReasonOf(got.status()), "PIN_INFEASIBLE");
      continue;
    }
    ASSERT_TRUE(got.ok()) << "case " << round << ": " << got.status();
    ++solved;
    EXPECT_EQ(got->demanded, 5);
    EXPECT_EQ(got->filled, want.filled) << "case " << round;
    EXPECT_EQ(got->total_cost, want.cost) << "case " << round;
    EXPECT_THAT(Violations(in, *got), ::testing::IsEmpty()) << "case " << round;
    partly_filled += want.filled > 0 && want.filled < 5;
    costs += want.cost;
  }
  // The cases are not trivial: most fill some slots but not all, at a cost.
  EXPECT_GT(solved, 200);
  EXPECT_GT(partly_filled, 100);
  EXPECT_GT(costs, 100 * solved);
  std::cerr << "solved " << solved << " infeasible " << infeasible
            << " partly filled " << partly_filled << " mean cost "
            << costs / std::max(solved, 1) << "\n";
}

TEST(SupportSolverTest, FillsMoreWhereAGreedyPassWouldNot) {
  // A teaches 数学 (main) and 英语; B only 数学. Placing the cheapest pair
  // first (A at 数学) leaves 英语 empty; the optimum fills both.
  std::vector<SupportTeacher> t = {
      Teacher("t-1", "U1", "411325", {"数学", "英语"}),
      Teacher("t-2", "U2", "411325", {"数学"})};
  std::vector<SupportDemand> d = {Demand("X", "411325", "数学", 1),
                                  Demand("Y", "411325", "英语", 1)};
  auto s = SolveSupportRound(t, d, SupportRules{}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->filled, 2);
  EXPECT_EQ(s->total_cost, kCostSecondSubject);
  ASSERT_EQ(s->placements.size(), 2u);
  EXPECT_EQ(s->placements[0].demand, 0);
  EXPECT_EQ(s->placements[0].teacher, 1);
  EXPECT_EQ(s->placements[1].demand, 1);
  EXPECT_EQ(s->placements[1].teacher, 0);
  EXPECT_TRUE(s->unfilled.empty());
}

TEST(SupportSolverTest, FindsTheKnownLeastCostAssignment) {
  // Preferences give the cost matrix (rows teachers, columns S1 S2 S3):
  //   t-1: 0  5 10     t-2: 0 30  5     t-3: 0 30 30
  // Row-by-row greedy costs 0 + 5 + 30 = 35; the optimum is
  // t-3 -> S1, t-1 -> S2, t-2 -> S3 = 10.
  auto t1 = Teacher("t-1", "U1", "411325", {"数学"});
  t1.preferred_schools = {"S1", "S2", "S3"};
  auto t2 = Teacher("t-2", "U2", "411325", {"数学"});
  t2.preferred_schools = {"S1", "S3"};
  auto t3 = Teacher("t-3", "U3", "411325", {"数学"});
  t3.preferred_schools = {"S1"};
  std::vector<SupportDemand> d = {Demand("S1", "411325", "数学", 1),
                                  Demand("S2", "411325", "数学", 1),
                                  Demand("S3", "411325", "数学", 1)};
  auto s = SolveSupportRound({t1, t2, t3}, d, SupportRules{}, {});
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_EQ(s->filled, 3);
  EXPECT_EQ(s->total_cost, 10);
  std::map<std::string, std::string> at;
  for (const auto& p : s->placements) {
    at[(p.teacher == 0   ? t1
        : p.teacher == 1 ? t2
                         : t3)
           .id] = d[p.demand].school_code;
  }
  EXPECT_EQ(at["t-1"], "S2");
  EXPECT_EQ(at["t-2"], "S3");
  EXPECT_EQ(at["t-3"], "S1");
  // Every placement carries its reasons, and they add up to its cost.
  for (const auto& p : s->placements) {
    int64_t sum = 0;
    std::set<std::string> factors;
    for (const auto& term : p.terms) {
      sum += term.points;
      factors.insert(term.factor);
      EXPECT_FALSE(term.explanation.empty());
    }
    EXPECT_EQ(sum, p.cost);
    EXPECT_THAT(factors,
                ::testing::IsSupersetOf(
                    {"subject", "distance", "prior_placements", "preference"}));
  }
}

TEST(SupportSolverTest, RotationRulesHoldOnManyRandomInstances) {
  std::mt19937 rng(4113);
  int solved = 0;
  for (int round = 0; round < 300; ++round) {
    Instance in = RandomInstance(rng, 40, 15, 3, /*with_pins=*/true);
    auto s =
        SolveSupportRound(in.teachers, in.demands, in.rules, in.constraints);
    if (!s.ok()) {
      EXPECT_EQ(ReasonOf(s.status()), "PIN_INFEASIBLE") << s.status();
      continue;
    }
    ++solved;
    EXPECT_THAT(Violations(in, *s), ::testing::IsEmpty())
        << "instance " << round;
    // Max fill: no unplaced teacher could take an unfilled slot without
    // breaking a rule or the source-school limit.
    std::map<std::string, int> sent;
    std::set<int> placed;
    std::map<int, int> filled;
    for (const auto& p : s->placements) {
      ++sent[in.teachers[p.teacher].source_school];
      placed.insert(p.teacher);
      ++filled[p.demand];
    }
    for (size_t t = 0; t < in.teachers.size(); ++t) {
      if (placed.count(t)) continue;
      bool pinned = false;
      for (const auto& c : in.constraints) {
        pinned |= c.pin && c.teacher_id == in.teachers[t].id;
      }
      if (pinned) continue;
      for (size_t d = 0; d < in.demands.size(); ++d) {
        if (filled[d] < in.demands[d].slots && Allowed(in, t, d)) {
          EXPECT_GE(sent[in.teachers[t].source_school],
                    in.rules.max_per_source_school)
              << in.teachers[t].id << " idles while it could fill "
              << in.demands[d].school_code;
        }
      }
    }
  }
  EXPECT_GT(solved, 250);
}

TEST(SupportSolverTest, ExplainsEveryKindOfUnfilledDemand) {
  SupportRules rules;
  rules.max_per_source_school = 1;
  rules.max_consecutive_terms = 2;
  auto tired = Teacher("t-1", "U1", "411302", {"物理"});
  tired.consecutive_terms = 2;
  auto a = Teacher("t-2", "U2", "411302", {"数学"});
  auto b = Teacher("t-3", "U2", "411302", {"数学"});
  std::vector<SupportDemand> d = {
      Demand("R1", "411325", "音乐", 1),  // nobody teaches it
      Demand("R2", "411325", "物理", 1),  // only a teacher past N terms
      Demand("R3", "411325", "数学", 2),  // U2 may give only one
  };
  auto s = SolveSupportRound({tired, a, b}, d, rules, {});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->unfilled.size(), 3u);
  EXPECT_EQ(s->unfilled[0].cause, UnfilledCause::kNoTeacherWithSubject);
  EXPECT_THAT(s->unfilled[0].explanation, HasSubstr("音乐"));
  EXPECT_EQ(s->unfilled[1].cause, UnfilledCause::kRulesBlockAll);
  EXPECT_THAT(s->unfilled[1].explanation, HasSubstr("consecutive"));
  EXPECT_EQ(s->unfilled[2].cause, UnfilledCause::kSourceSchoolLimit);
  EXPECT_EQ(s->unfilled[2].slots, 1);
  EXPECT_THAT(s->unfilled[2].explanation, HasSubstr("U2"));

  // Two schools want the one 英语 teacher: one of them is told why not.
  std::vector<SupportDemand> two = {Demand("R4", "411325", "英语", 1),
                                    Demand("R5", "411326", "英语", 1)};
  auto e = SolveSupportRound({Teacher("t-9", "U9", "411325", {"英语"})}, two,
                             SupportRules{}, {});
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->unfilled.size(), 1u);
  EXPECT_EQ(e->unfilled[0].demand, 1);  // the farther school stays empty
  EXPECT_EQ(e->unfilled[0].cause, UnfilledCause::kPlacedElsewhere);
  EXPECT_THAT(e->unfilled[0].explanation, HasSubstr("R4"));
}

TEST(SupportSolverTest, PinsAndForbidsSteerTheSolution) {
  std::vector<SupportTeacher> t = {Teacher("t-1", "U1", "411325", {"数学"}),
                                   Teacher("t-2", "U2", "411302", {"数学"})};
  std::vector<SupportDemand> d = {Demand("R1", "411325", "数学", 1),
                                  Demand("R2", "411302", "数学", 1)};
  auto free = SolveSupportRound(t, d, SupportRules{}, {});
  ASSERT_TRUE(free.ok());
  EXPECT_EQ(free->total_cost, 0);  // each stays in their own county

  auto pinned = SolveSupportRound(t, d, SupportRules{}, {{"t-1", "R2", true}});
  ASSERT_TRUE(pinned.ok());
  EXPECT_EQ(pinned->filled, 2);
  EXPECT_EQ(pinned->total_cost, 2 * kCostSameCity);
  for (const auto& p : pinned->placements) {
    if (p.teacher == 0) {
      EXPECT_EQ(d[p.demand].school_code, "R2");
      EXPECT_TRUE(p.pinned);
    }
  }
  auto forbidden =
      SolveSupportRound(t, d, SupportRules{}, {{"t-2", "R2", false}});
  ASSERT_TRUE(forbidden.ok());
  for (const auto& p : forbidden->placements) {
    EXPECT_FALSE(p.teacher == 1 && p.demand == 1);
  }
  auto bad = SolveSupportRound(t, d, SupportRules{}, {{"t-1", "R9", true}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(bad.status()), "PIN_INFEASIBLE");
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("t-1"));
  // Two teachers pinned to a one-slot demand cannot both land.
  auto crowd = SolveSupportRound(t, d, SupportRules{},
                                 {{"t-1", "R1", true}, {"t-2", "R1", true}});
  ASSERT_FALSE(crowd.ok());
  EXPECT_EQ(ReasonOf(crowd.status()), "PIN_INFEASIBLE");
}

TEST(SupportSolverTest, ThreeHundredTeachersOnAHundredFiftySchoolsIsFast) {
  std::mt19937 rng(300150);
  Instance in = RandomInstance(rng, 300, 150, 2, /*with_pins=*/false);
  in.rules.max_per_source_school = 10;
  in.rules.max_consecutive_terms = 3;
  const auto start = std::chrono::steady_clock::now();
  auto s = SolveSupportRound(in.teachers, in.demands, in.rules, in.constraints);
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT(Violations(in, *s), ::testing::IsEmpty());
  EXPECT_GT(s->filled, 100);
  // The design target is well under 50 ms; the bound leaves room for a
  // machine busy compiling.
  EXPECT_LT(ms, 1000) << "solve took " << ms << " ms";
  RecordProperty("solve_ms", std::to_string(ms));
}

// ---------------------------------------------------------------- visits

// Exhaustive: max covered, then min sum of load*(load+1)/2.
std::pair<int, int64_t> BestVisitAssignment(
    const std::vector<VisitHousehold>& h, const std::vector<VisitTeacher>& t,
    int cap) {
  std::pair<int, int64_t> best{-1, 0};
  std::vector<int> load(t.size());
  for (size_t i = 0; i < t.size(); ++i) load[i] = t[i].load;
  std::function<void(size_t, int)> go = [&](size_t i, int covered) {
    if (i == h.size()) {
      int64_t cost = 0;
      for (int l : load) cost += static_cast<int64_t>(l) * (l + 1) / 2;
      if (covered > best.first ||
          (covered == best.first && cost < best.second)) {
        best = {covered, cost};
      }
      return;
    }
    go(i + 1, covered);
    for (size_t k = 0; k < t.size(); ++k) {
      if (load[k] >= cap) continue;
      if (std::find(h[i].school_codes.begin(), h[i].school_codes.end(),
                    t[k].school_code) == h[i].school_codes.end()) {
        continue;
      }
      ++load[k];
      go(i + 1, covered + 1);
      --load[k];
    }
  };
  go(0, 0);
  return best;
}

TEST(VisitAssignmentTest, OptimalCoverageAndBalanceOnSmallCases) {
  std::mt19937 rng(7);
  auto pick = [&](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng);
  };
  const std::vector<std::string> schools = {"A", "B", "C", "D"};
  for (int round = 0; round < 200; ++round) {
    std::vector<VisitTeacher> teachers;
    int nt = 1 + pick(4);
    for (int i = 0; i < nt; ++i)
      teachers.push_back({schools[pick(3)], pick(2)});
    std::vector<VisitHousehold> households;
    int nh = 1 + pick(7);
    for (int i = 0; i < nh; ++i) {
      VisitHousehold vh;
      int k = 1 + pick(2);
      for (int j = 0; j < k; ++j) vh.school_codes.push_back(schools[pick(4)]);
      households.push_back(vh);
    }
    const int cap = 1 + pick(3);
    VisitAssignment a = AssignVisits(households, teachers, cap);
    auto want = BestVisitAssignment(households, teachers, cap);
    int covered = 0;
    for (size_t i = 0; i < households.size(); ++i) {
      if (a.teacher_of[i] < 0) {
        EXPECT_NE(a.cause[i], UncoveredCause::kNone) << "round " << round;
        continue;
      }
      ++covered;
      const auto& sc = households[i].school_codes;
      EXPECT_NE(std::find(sc.begin(), sc.end(),
                          teachers[a.teacher_of[i]].school_code),
                sc.end());
    }
    int64_t cost = 0;
    for (size_t k = 0; k < teachers.size(); ++k) {
      EXPECT_LE(a.load[k], std::max(cap, teachers[k].load));
      cost += static_cast<int64_t>(a.load[k]) * (a.load[k] + 1) / 2;
    }
    EXPECT_EQ(covered, want.first) << "round " << round;
    EXPECT_EQ(cost, want.second) << "round " << round;
  }
}

TEST(VisitAssignmentTest, NeverDropsAHouseholdAndExplainsTheUncovered) {
  std::vector<VisitTeacher> teachers = {{"A", 0}, {"A", 0}, {"B", 2}};
  std::vector<VisitHousehold> households = {
      {{"A"}},      {{"A"}}, {{"A"}},
      {{"A"}},      {{"A"}},  // 5 for 2 teachers, cap 2
      {{"B"}},                // B's teacher is full
      {{"Z"}},                // no teacher at Z
      {{"Z", "A"}},           // Z, but A can help
  };
  VisitAssignment a = AssignVisits(households, teachers, 2);
  int covered = 0;
  std::map<UncoveredCause, int> causes;
  for (size_t i = 0; i < households.size(); ++i) {
    if (a.teacher_of[i] >= 0) {
      ++covered;
    } else {
      ++causes[a.cause[i]];
    }
  }
  EXPECT_EQ(covered, 4);
  EXPECT_EQ(a.load[0], 2);
  EXPECT_EQ(a.load[1], 2);
  EXPECT_EQ(a.load[2], 2);
  EXPECT_EQ(causes[UncoveredCause::kNoTeacherAtSchool], 1);
  EXPECT_EQ(causes[UncoveredCause::kTeachersAtCapacity], 3);
  EXPECT_EQ(a.cause[6], UncoveredCause::kNoTeacherAtSchool);
  EXPECT_EQ(a.cause[5], UncoveredCause::kTeachersAtCapacity);
}

TEST(VisitAssignmentTest, HundredThousandHouseholdsToTenThousandTeachers) {
  std::mt19937 rng(100000);
  auto pick = [&](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng);
  };
  std::vector<VisitTeacher> teachers;
  for (int s = 0; s < 500; ++s) {
    for (int k = 0; k < 20; ++k)
      teachers.push_back({"S" + std::to_string(s), 0});
  }
  std::vector<VisitHousehold> households(100000);
  for (auto& h : households) {
    int n = 1 + (pick(10) < 3 ? 1 : 0);
    for (int j = 0; j < n; ++j)
      h.school_codes.push_back("S" + std::to_string(pick(520)));
  }
  const auto start = std::chrono::steady_clock::now();
  VisitAssignment a = AssignVisits(households, teachers, 15);
  const double ms = std::chrono::duration<double, std::milli>(
                        std::chrono::steady_clock::now() - start)
                        .count();
  int covered = 0;
  for (size_t i = 0; i < households.size(); ++i) {
    if (a.teacher_of[i] >= 0) {
      ++covered;
    } else {
      ASSERT_NE(a.cause[i], UncoveredCause::kNone);
    }
  }
  for (int l : a.load) ASSERT_LE(l, 15);
  EXPECT_GT(covered, 90000);
  EXPECT_LT(ms, 5000) << "assignment took " << ms << " ms";
  RecordProperty("assign_ms", std::to_string(ms));
}

// ---------------------------------------------------------------- seats

TEST(SeatAllocationTest, LargestRemainderWithExplanations) {
  // Quotas 4.25, 5.25, 0.5: integer parts give 9, the last seat goes to the
  // largest remainder (0.5).
  auto s = AllocateSeats(
      10, {{"411325", 600, 10}, {"411326", 300, 30}, {"411302", 100, 0}}, 500,
      500);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->size(), 3u);
  EXPECT_EQ((*s)[0].seats, 4);
  EXPECT_EQ((*s)[1].seats, 5);
  EXPECT_EQ((*s)[2].seats, 1);
  EXPECT_EQ((*s)[0].quota_milli, 4250);
  EXPECT_EQ((*s)[2].quota_milli, 500);
  EXPECT_TRUE((*s)[2].got_remainder_seat);
  EXPECT_THAT((*s)[2].explanation, HasSubstr("largest remainder"));
  EXPECT_THAT((*s)[0].explanation, HasSubstr("600 of 1000"));
  EXPECT_THAT((*s)[1].explanation, HasSubstr("30 of 40"));

  // No shortage anywhere: the student share carries all the weight.
  auto only = AllocateSeats(7, {{"411325", 3, 0}, {"411326", 1, 0}}, 500, 500);
  ASSERT_TRUE(only.ok());
  EXPECT_EQ((*only)[0].seats + (*only)[1].seats, 7);
  EXPECT_EQ((*only)[0].seats, 5);  // 5.25
  EXPECT_THAT((*only)[0].explanation, HasSubstr("drops out"));

  auto none = AllocateSeats(5, {{"411325", 0, 0}}, 500, 500);
  EXPECT_EQ(ReasonOf(none.status()), "NO_ALLOCATION_BASIS");
}

TEST(SeatAllocationTest, SeatsAlwaysAddUpAndStayWithinOneOfTheQuota) {
  std::mt19937 rng(11);
  for (int round = 0; round < 500; ++round) {
    std::vector<CountyWeight> counties;
    int n = 1 + static_cast<int>(rng() % 13);
    for (int i = 0; i < n; ++i) {
      counties.push_back({"4113" + std::to_string(10 + i),
                          static_cast<int64_t>(rng() % 100000),
                          static_cast<int64_t>(rng() % 300)});
    }
    counties[0].students += 1;
    int seats = static_cast<int>(rng() % 5000);
    int ws = static_cast<int>(rng() % 1001), wh = 1000 - ws;
    auto s = AllocateSeats(seats, counties, ws, wh);
    ASSERT_TRUE(s.ok()) << s.status();
    int sum = 0;
    for (const auto& c : *s) {
      sum += c.seats;
      EXPECT_GE(c.seats * 1000LL, c.quota_milli - 999);
      EXPECT_LE(c.seats * 1000LL, c.quota_milli + 1000);
    }
    EXPECT_EQ(sum, seats);
  }
}

}  // namespace
}  // namespace eduaid::teacher
