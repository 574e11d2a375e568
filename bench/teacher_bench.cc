// Teacher assignment benchmarks, each with a baseline in the same run:
//   - support-teaching assignment, 300 teachers x 150 rural schools (exact
//     min-cost flow) vs a greedy pass over the same instance;
//   - home-visit assignment, 100k households to 10k teachers (balanced flow)
//     vs a greedy least-loaded pass.
// The greedy passes are the baselines for time; the tables also show what
// the exact solutions buy (slots filled, cost, worst load).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "services/teacher/assignment.h"

namespace {

using Clock = std::chrono::steady_clock;
using eduaid::teacher::SupportDemand;
using eduaid::teacher::SupportTeacher;

double MedianMs(const std::function<void()>& fn, int runs) {
  std::vector<double> t;
  for (int i = 0; i < runs; ++i) {
    auto t0 = Clock::now();
    fn();
    t.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

}  // namespace

int main() {
  std::mt19937 rng(7);
  const std::vector<std::string> subjects = {"语文", "数学", "英语", "物理",
                                             "化学", "音乐", "体育", "美术"};
  const std::vector<std::string> counties = {
      "411302", "411303", "411321", "411322", "411323",
      "411324", "411325", "411326", "411327", "411328"};
  std::vector<SupportTeacher> teachers;
  for (int i = 0; i < 300; ++i) {
    SupportTeacher t;
    t.id = "t-" + std::to_string(i + 1);
    t.source_school = "U" + std::to_string(i % 40);
    t.region_code = counties[i % 2];
    t.subjects = {subjects[rng() % subjects.size()],
                  subjects[rng() % subjects.size()]};
    t.prior_placements = rng() % 3;
    t.consecutive_terms = rng() % 3;
    if (rng() % 4 == 0) t.last_school = "R" + std::to_string(rng() % 150);
    teachers.push_back(t);
  }
  std::vector<SupportDemand> demands;
  for (int s = 0; s < 150; ++s) {
    SupportDemand d;
    d.school_code = "R" + std::to_string(s);
    d.region_code = counties[2 + s % 8];
    d.subject = subjects[rng() % subjects.size()];
    d.slots = 1 + rng() % 2;
    demands.push_back(d);
  }
  eduaid::teacher::SupportRules rules;
  rules.max_consecutive_terms = 2;
  rules.max_per_source_school = 6;
  absl::StatusOr<eduaid::teacher::SupportSolution> solution;
  double exact_ms = MedianMs(
      [&] {
        solution =
            eduaid::teacher::SolveSupportRound(teachers, demands, rules, {});
      },
      21);
  if (!solution.ok()) {
    fprintf(stderr, "solve failed: %s\n",
            std::string(solution.status().message()).c_str());
    return 1;
  }
  int64_t exact_cost = 0;
  for (const auto& p : solution->placements) exact_cost += p.cost;
  // Greedy baseline: slots in order, each takes the cheapest free teacher
  // that the rules allow.
  int greedy_filled = 0;
  int64_t greedy_cost = 0;
  double greedy_ms = MedianMs(
      [&] {
        greedy_filled = 0;
        greedy_cost = 0;
        std::vector<bool> used(teachers.size());
        std::map<std::string, int> per_source;
        for (const auto& d : demands) {
          for (int k = 0; k < d.slots; ++k) {
            int best = -1;
            int64_t best_cost = 0;
            for (size_t i = 0; i < teachers.size(); ++i) {
              if (used[i] || per_source[teachers[i].source_school] >=
                                 rules.max_per_source_school)
                continue;
              if (!eduaid::teacher::RuleBlock(teachers[i], d, rules, {})
                       .empty())
                continue;
              auto cost = eduaid::teacher::PlacementCost(teachers[i], d);
              if (!cost) continue;
              int64_t c = 0;
              for (const auto& term : *cost) c += term.points;
              if (best < 0 || c < best_cost) {
                best = static_cast<int>(i);
                best_cost = c;
              }
            }
            if (best >= 0) {
              used[best] = true;
              ++per_source[teachers[best].source_school];
              ++greedy_filled;
              greedy_cost += best_cost;
            }
          }
        }
      },
      21);
  int slots = 0;
  for (const auto& d : demands) slots += d.slots;
  printf(
      "## Teacher\n\n### Support-teaching assignment: 300 teachers, 150 rural "
      "schools (%d slots)\n\n",
      slots);
  printf(
      "| solver | median ms | slots filled | total cost | time ratio to greedy "
      "|\n|---|---|---|---|---|\n");
  printf("| greedy pass (baseline) | %.2f | %d | %lld | 1.00x |\n", greedy_ms,
         greedy_filled, static_cast<long long>(greedy_cost));
  printf(
      "| min-cost flow (SolveSupportRound) | %.2f | %zu | %lld | %.2fx |\n\n",
      exact_ms, solution->placements.size(), static_cast<long long>(exact_cost),
      exact_ms / greedy_ms);

  // Visits: 100k households, 10k teachers at 2000 schools.
  std::vector<eduaid::teacher::VisitTeacher> vt;
  for (int i = 0; i < 10000; ++i)
    vt.push_back({"S" + std::to_string(i % 2000), 0});
  std::vector<eduaid::teacher::VisitHousehold> hh;
  for (int i = 0; i < 100000; ++i) {
    eduaid::teacher::VisitHousehold h;
    h.school_codes.push_back("S" + std::to_string(rng() % 2000));
    if (rng() % 3 == 0)
      h.school_codes.push_back("S" + std::to_string(rng() % 2000));
    hh.push_back(h);
  }
  const int cap = 15;
  eduaid::teacher::VisitAssignment va;
  double flow_ms =
      MedianMs([&] { va = eduaid::teacher::AssignVisits(hh, vt, cap); }, 5);
  int covered = 0, worst = 0;
  for (int t : va.teacher_of) covered += t >= 0;
  for (int l : va.load) worst = std::max(worst, l);
  int g_covered = 0, g_worst = 0;
  double g_ms = MedianMs(
      [&] {
        std::map<std::string, std::vector<int>> at;
        for (size_t i = 0; i < vt.size(); ++i)
          at[vt[i].school_code].push_back(static_cast<int>(i));
        std::vector<int> load(vt.size());
        g_covered = 0;
        for (const auto& h : hh) {
          int best = -1;
          for (const auto& s : h.school_codes) {
            for (int t : at[s]) {
              if (load[t] < cap && (best < 0 || load[t] < load[best])) best = t;
            }
          }
          if (best >= 0) {
            ++load[best];
            ++g_covered;
          }
        }
        g_worst = *std::max_element(load.begin(), load.end());
      },
      5);
  printf(
      "### Home-visit assignment: 100,000 households, 10,000 teachers, cap "
      "%d\n\n",
      cap);
  printf(
      "| method | median ms | households covered | heaviest load | time ratio "
      "to greedy |\n|---|---|---|---|---|\n");
  printf("| greedy least-loaded (baseline) | %.1f | %d | %d | 1.00x |\n", g_ms,
         g_covered, g_worst);
  printf(
      "| balanced min-cost flow (AssignVisits) | %.1f | %d | %d | %.2fx |\n\n",
      flow_ms, covered, worst, flow_ms / g_ms);
  return 0;
}
