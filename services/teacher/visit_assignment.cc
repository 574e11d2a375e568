// AssignVisits (assignment.h): home-visit households to teachers of their
// students' schools, balanced under a cap, as a min-cost flow with convex
// load costs (LEMON NetworkSimplex).
#include <lemon/network_simplex.h>
#include <lemon/smart_graph.h>

#include <algorithm>
#include <functional>
#include <map>
#include <queue>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "services/teacher/assignment.h"

namespace eduaid::teacher {
namespace {

using Graph = lemon::SmartDigraph;
using Solver = lemon::NetworkSimplex<Graph, int64_t, int64_t>;

}  // namespace

namespace {

// Schools with teachers, and households grouped by the set of those
// schools they reach (households of one group are interchangeable).
struct VisitGroups {
  std::unordered_map<std::string, int> school_index;
  std::vector<std::vector<int>> teachers_of_school;
  std::vector<std::vector<int>> schools;  // per group, sorted school indexes
  std::vector<std::vector<int>> members;  // per group, household indexes
};

// Groups the households; marks those reaching no staffed school.
VisitGroups GroupHouseholds(const std::vector<VisitHousehold>& households,
                            const std::vector<VisitTeacher>& teachers,
                            VisitAssignment* out) {
  VisitGroups v;
  for (size_t i = 0; i < teachers.size(); ++i) {
    auto [it, fresh] = v.school_index.emplace(
        teachers[i].school_code, static_cast<int>(v.teachers_of_school.size()));
    if (fresh) v.teachers_of_school.emplace_back();
    v.teachers_of_school[it->second].push_back(static_cast<int>(i));
  }
  std::map<std::vector<int>, int> group_of_key;
  for (int h = 0; h < static_cast<int>(households.size()); ++h) {
    std::vector<int> key;
    for (const auto& code : households[h].school_codes) {
      auto it = v.school_index.find(code);
      if (it != v.school_index.end()) key.push_back(it->second);
    }
    std::sort(key.begin(), key.end());
    key.erase(std::unique(key.begin(), key.end()), key.end());
    if (key.empty()) {
      out->cause[h] = UncoveredCause::kNoTeacherAtSchool;
      continue;
    }
    auto [it, fresh] =
        group_of_key.emplace(key, static_cast<int>(v.schools.size()));
    if (fresh) {
      v.schools.push_back(key);
      v.members.emplace_back();
    }
    v.members[it->second].push_back(h);
  }
  return v;
}

// A school's places to the sink: at cost k, as many as it has teachers
// carrying fewer than k households (`loads`), for k = 1..cap.
void AddLevelArcs(Graph& g, Graph::ArcMap<int64_t>& upper,
                  Graph::ArcMap<int64_t>& cost, Graph::Node school,
                  Graph::Node sink, std::vector<int> loads, int cap) {
  std::sort(loads.begin(), loads.end());
  size_t below = 0;
  for (int k = 1; k <= cap; ++k) {
    while (below < loads.size() && loads[below] < k) ++below;
    if (below == 0) continue;
    Graph::Arc a = g.addArc(school, sink);
    upper[a] = static_cast<int64_t>(below);
    cost[a] = k;
  }
}

// The households each school takes, by min-cost flow; those left over are
// marked kTeachersAtCapacity.
//
// group -> school (free) -> sink through level arcs: the k-th household
// of a teacher costs k, so a school offers, at cost k, as many places as
// it has teachers carrying fewer than k households. group -> sink costs
// more than any such path: uncovered only when nothing else is possible.
std::vector<std::vector<int>> FlowToSchools(
    const VisitGroups& v, const std::vector<VisitTeacher>& teachers, int cap,
    VisitAssignment* out) {
  const int ns = static_cast<int>(v.teachers_of_school.size());
  const int ng = static_cast<int>(v.schools.size());
  Graph g;
  Graph::ArcMap<int64_t> upper(g), cost(g);
  Graph::NodeMap<int64_t> supply(g);
  const Graph::Node sink = g.addNode();
  std::vector<Graph::Node> school_node(ns), group_node(ng);
  std::vector<bool> school_used(ns, false);
  for (const auto& key : v.schools) {
    for (int si : key) school_used[si] = true;
  }
  for (int si = 0; si < ns; ++si) {
    school_node[si] = g.addNode();
    supply[school_node[si]] = 0;
    if (!school_used[si]) continue;
    std::vector<int> loads;
    for (int t : v.teachers_of_school[si]) loads.push_back(teachers[t].load);
    AddLevelArcs(g, upper, cost, school_node[si], sink, std::move(loads), cap);
  }
  const int64_t penalty = 2 * static_cast<int64_t>(cap) + 2;
  int64_t total = 0;
  std::vector<std::vector<std::pair<int, Graph::Arc>>> group_arcs(ng);
  std::vector<Graph::Arc> bypass(ng);
  for (int gi = 0; gi < ng; ++gi) {
    group_node[gi] = g.addNode();
    int64_t n = static_cast<int64_t>(v.members[gi].size());
    supply[group_node[gi]] = n;
    total += n;
    for (int si : v.schools[gi]) {
      Graph::Arc a = g.addArc(group_node[gi], school_node[si]);
      upper[a] = n;
      cost[a] = 0;
      group_arcs[gi].push_back({si, a});
    }
    bypass[gi] = g.addArc(group_node[gi], sink);
    upper[bypass[gi]] = n;
    cost[bypass[gi]] = penalty;
  }
  supply[sink] = -total;
  Solver solver(g);
  solver.upperMap(upper).costMap(cost).supplyMap(supply);
  solver.run();  // always feasible: every group can bypass

  std::vector<std::vector<int>> to_school(ns);
  for (int gi = 0; gi < ng; ++gi) {
    size_t next = 0;
    const auto& members = v.members[gi];
    for (const auto& [si, arc] : group_arcs[gi]) {
      int64_t f = solver.flow(arc);
      for (int64_t j = 0; j < f && next < members.size(); ++j) {
        to_school[si].push_back(members[next++]);
      }
    }
    for (; next < members.size(); ++next) {
      out->cause[members[next]] = UncoveredCause::kTeachersAtCapacity;
    }
  }
  return to_school;
}

// Within each school, each household to the least-loaded teacher.
void HandOutToTeachers(const VisitGroups& v,
                       const std::vector<std::vector<int>>& to_school, int cap,
                       VisitAssignment* out) {
  using Slot = std::pair<int, int>;  // (load, teacher)
  for (size_t si = 0; si < to_school.size(); ++si) {
    if (to_school[si].empty()) continue;
    std::priority_queue<Slot, std::vector<Slot>, std::greater<Slot>> heap;
    for (int t : v.teachers_of_school[si]) {
      if (out->load[t] < cap) heap.push({out->load[t], t});
    }
    for (int h : to_school[si]) {
      if (heap.empty()) {  // cannot happen: the level arcs bound the flow
        out->cause[h] = UncoveredCause::kTeachersAtCapacity;
        continue;
      }
      auto [load, t] = heap.top();
      heap.pop();
      out->teacher_of[h] = t;
      out->load[t] = load + 1;
      if (load + 1 < cap) heap.push({load + 1, t});
    }
  }
}

}  // namespace

VisitAssignment AssignVisits(const std::vector<VisitHousehold>& households,
                             const std::vector<VisitTeacher>& teachers,
                             int cap) {
  VisitAssignment out;
  const int nh = static_cast<int>(households.size());
  out.teacher_of.assign(nh, -1);
  out.cause.assign(nh, UncoveredCause::kNone);
  out.load.resize(teachers.size());
  for (size_t i = 0; i < teachers.size(); ++i) out.load[i] = teachers[i].load;
  const VisitGroups groups = GroupHouseholds(households, teachers, &out);
  if (groups.schools.empty() || cap <= 0) {
    for (int h = 0; h < nh; ++h) {
      if (out.cause[h] == UncoveredCause::kNone) {
        out.cause[h] = UncoveredCause::kTeachersAtCapacity;
      }
    }
    return out;
  }
  const auto to_school = FlowToSchools(groups, teachers, cap, &out);
  HandOutToTeachers(groups, to_school, cap, &out);
  return out;
}

}  // namespace eduaid::teacher
