// The teacher support service's logic: the teacher registry, support-
// teaching rounds (对口交流支教, 交流轮岗), home-visit campaigns
// (万名教师大走访) and training quotas. Built in-process by tests; served by
// TeacherService.
//
// Thread-safe: every method may run concurrently on the worker pool.
// Personal data (ID numbers, names, visit notes) is stored only encrypted;
// ID numbers are found by blind index and masked in lists; names are masked
// for agencies. Personal data never enters stored idempotent responses:
// names are filled in after the transaction.
//
// Each RPC method: OK fills `resp`. INVALID_ARGUMENT names the field and the
// rule (bulk calls instead report bad rows in resp->errors and land the good
// ones); PERMISSION_DENIED for records outside the caller's region;
// NOT_FOUND for an unknown id; FAILED_PRECONDITION with a reason (ReasonOf)
// when state forbids the change (ROUND_PUBLISHED, NOT_SOLVED, ...) or a
// request_id is reused; UNAVAILABLE when the database or the registry cannot
// be reached (nothing was stored, a retry may succeed).
#ifndef EDUAID_SERVICES_TEACHER_TEACHER_H_
#define EDUAID_SERVICES_TEACHER_TEACHER_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/teacher/v1/teacher.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "services/common/call_context.h"
#include "services/common/clients/registry_client.h"
#include "services/common/peer.h"
#include "services/common/sql.h"
#include "services/teacher/assignment.h"
#include "services/teacher/campaign_store.h"
#include "services/teacher/finding_outbox.h"

namespace eduaid {
class ServiceHost;
}  // namespace eduaid

namespace eduaid::teacher {

namespace pb = ::eduaid::teacher::v1;
namespace rpb = ::eduaid::registry::v1;
namespace lpb = ::eduaid::ledger::v1;

// Schema migrations of the teacher database.
std::vector<Migration> Migrations();

// Rows per ImportTeachers call; demand lines and nominations per call.
inline constexpr int kMaxTeacherRowsPerCall = 5000;
inline constexpr int kMaxLinesPerCall = 5000;
// Households one campaign may hold (split larger regions by county).
inline constexpr int64_t kMaxCampaignHouseholds = 2000000;

struct TeacherOptions {
  // The registry peer (host:port or a gRPC target).
  std::string registry_target = "127.0.0.1:50051";
  // Deadline of each call to the registry.
  std::chrono::milliseconds registry_deadline{10000};
  // The ledger peer: what was paid to a household this term, and where a
  // visit's subsidy findings and follow-ups go.
  std::string ledger_target = "127.0.0.1:50052";
  std::chrono::milliseconds ledger_deadline{10000};
  // Delivery of visit findings and follow-ups (finding_outbox.h).
  FindingOutboxOptions outbox;
};

class TeacherSupport {
 public:
  // `host` must outlive this object.
  TeacherSupport(ServiceHost& host, TeacherOptions options);

  // Starts the delivery of visit findings when options.outbox.start was
  // false (it starts with the service otherwise). Idempotent.
  void StartFindingDelivery();
  // Stops it (joins the thread): before the host goes when the service
  // outlives it (tests). Idempotent.
  void StopFindingDelivery();

  // ---- teachers
  // Lands the good rows (insert or update by ID number), reports bad ones.
  absl::Status ImportTeachers(CallContext& call,
                              const pb::ImportTeachersRequest& req,
                              pb::ImportTeachersResponse* resp);
  // The full record (ID number unmasked for roles that see personal data),
  // read through the Redis cache.
  absl::Status GetTeacher(CallContext& call, const pb::GetTeacherRequest& req,
                          pb::GetTeacherResponse* resp);
  // GetTeacher by teacher_id from the in-process cache tier only; never
  // blocks (runs on the gRPC thread). nullopt when it cannot answer, and
  // GetTeacher runs on the worker pool instead.
  std::optional<absl::Status> GetTeacherFast(CallContext& call,
                                             const pb::GetTeacherRequest& req,
                                             pb::GetTeacherResponse* resp);
  absl::Status ListTeachers(CallContext& call,
                            const pb::ListTeachersRequest& req,
                            pb::ListTeachersResponse* resp);
  // FAILED_PRECONDITION (ALREADY_INACTIVE) for a teacher who already left.
  // Re-assigns the teacher's unvisited households in every active campaign
  // in the same transaction.
  absl::Status DeactivateTeacher(CallContext& call,
                                 const pb::DeactivateTeacherRequest& req,
                                 pb::DeactivateTeacherResponse* resp);

  // ---- support-teaching rounds
  absl::Status CreateRound(CallContext& call, const pb::CreateRoundRequest& req,
                           pb::CreateRoundResponse* resp);
  absl::Status PostDemand(CallContext& call, const pb::PostDemandRequest& req,
                          pb::PostDemandResponse* resp);
  absl::Status NominateTeachers(CallContext& call,
                                const pb::NominateTeachersRequest& req,
                                pb::NominateTeachersResponse* resp);
  // FAILED_PRECONDITION: NOT_NOMINATED, NO_DEMAND_AT_SCHOOL.
  absl::Status SetPlacementConstraint(
      CallContext& call, const pb::SetPlacementConstraintRequest& req,
      pb::SetPlacementConstraintResponse* resp);
  // FAILED_PRECONDITION: NO_DEMAND, NO_NOMINATIONS, PIN_INFEASIBLE.
  absl::Status SolveRound(CallContext& call, const pb::SolveRoundRequest& req,
                          pb::SolveRoundResponse* resp);
  // FAILED_PRECONDITION: NOT_SOLVED (no solution for the current inputs),
  // TEACHER_ALREADY_PLACED (another round of the term placed a teacher).
  absl::Status PublishRound(CallContext& call,
                            const pb::PublishRoundRequest& req,
                            pb::PublishRoundResponse* resp);
  absl::Status GetRound(CallContext& call, const pb::GetRoundRequest& req,
                        pb::GetRoundResponse* resp);
  absl::Status ListRounds(CallContext& call, const pb::ListRoundsRequest& req,
                          pb::ListRoundsResponse* resp);

  // ---- home-visit campaigns
  // FAILED_PRECONDITION (CAMPAIGN_OVERLAPS) when another campaign of the
  // term covers an overlapping region.
  absl::Status CreateCampaign(CallContext& call,
                              const pb::CreateCampaignRequest& req,
                              pb::CreateCampaignResponse* resp);
  // Calls the registry (ListHouseholds, paged) before its transaction;
  // UNAVAILABLE naming the registry when it fails.
  absl::Status AssignCampaign(CallContext& call,
                              const pb::AssignCampaignRequest& req,
                              pb::AssignCampaignResponse* resp);
  // FAILED_PRECONDITION: CAMPAIGN_NOT_ASSIGNED, TEACHER_INACTIVE. A
  // teacher records only visits to households assigned to them
  // (PERMISSION_DENIED, the same whether or not the household exists).
  // With findings, reads the household from the registry (and, for a
  // subsidy not received, the term's payments from the ledger) before the
  // transaction; the findings and their outbox rows are stored with the
  // visit and delivered in the background (teacher_visits.cc).
  absl::Status RecordVisit(CallContext& call, const pb::RecordVisitRequest& req,
                           pb::RecordVisitResponse* resp);
  // Up to 100 households: assignments, visits newest first with findings
  // and follow-ups; outside the caller's scope = not_found.
  absl::Status GetHouseholds(CallContext& call,
                             const pb::GetHouseholdsRequest& req,
                             pb::GetHouseholdsResponse* resp);
  // FAILED deliveries of one visit (or all in scope) back to PENDING.
  absl::Status RetryFindings(CallContext& call,
                             const pb::RetryFindingsRequest& req,
                             pb::RetryFindingsResponse* resp);
  absl::Status GetCampaignCoverage(CallContext& call,
                                   const pb::GetCampaignCoverageRequest& req,
                                   pb::GetCampaignCoverageResponse* resp);
  absl::Status ListCampaignHouseholds(
      CallContext& call, const pb::ListCampaignHouseholdsRequest& req,
      pb::ListCampaignHouseholdsResponse* resp);
  absl::Status ListCampaigns(CallContext& call,
                             const pb::ListCampaignsRequest& req,
                             pb::ListCampaignsResponse* resp);
  // A teacher's own households (role T; the token's subject is the teacher
  // id): PERMISSION_DENIED unless the teacher exists, is active and is of
  // the token's county. Calls the registry (GetHouseholds) and the ledger
  // (GetHouseholds) once per page after its read; UNAVAILABLE naming the
  // peer when either is away (no partial list).
  absl::Status ListMyHouseholds(CallContext& call,
                                const pb::ListMyHouseholdsRequest& req,
                                pb::ListMyHouseholdsResponse* resp);

  // ---- training quotas
  // With students_from_registry, calls the registry's GetCoverage first.
  absl::Status AllocateTrainingQuota(
      CallContext& call, const pb::AllocateTrainingQuotaRequest& req,
      pb::AllocateTrainingQuotaResponse* resp);
  absl::Status EnrolTraining(CallContext& call,
                             const pb::EnrolTrainingRequest& req,
                             pb::EnrolTrainingResponse* resp);
  // FAILED_PRECONDITION (NOT_ENROLLED) for a teacher not enrolled.
  absl::Status RecordTrainingAttendance(
      CallContext& call, const pb::RecordTrainingAttendanceRequest& req,
      pb::RecordTrainingAttendanceResponse* resp);
  // FAILED_PRECONDITION: NOT_ENROLLED, NO_ATTENDANCE, ALREADY_COMPLETED.
  absl::Status CompleteTraining(CallContext& call,
                                const pb::CompleteTrainingRequest& req,
                                pb::CompleteTrainingResponse* resp);
  absl::Status GetTrainingProgramme(CallContext& call,
                                    const pb::GetTrainingProgrammeRequest& req,
                                    pb::GetTrainingProgrammeResponse* resp);
  absl::Status ListTrainingProgrammes(
      CallContext& call, const pb::ListTrainingProgrammesRequest& req,
      pb::ListTrainingProgrammesResponse* resp);

  absl::Status ListAuditEvents(CallContext& call,
                               const pb::ListAuditEventsRequest& req,
                               pb::ListAuditEventsResponse* resp);

 private:
  // Teachers.
  absl::StatusOr<pb::Teacher> LoadTeacherFromDb(SqlConnection& c, int64_t id);
  absl::StatusOr<pb::Teacher> LoadTeacher(int64_t id);
  absl::Status FinishGetTeacher(CallContext& call, pb::Teacher t,
                                pb::GetTeacherResponse* resp);
  std::string TeacherCacheKey(int64_t id) const;
  std::string IdHash(const std::string& id_number) const;
  std::string DecryptOrEmpty(const std::string& enc,
                             absl::string_view context) const;
  // Names of teachers by numeric id (decrypted, masked for agencies).
  absl::StatusOr<std::unordered_map<int64_t, std::string>> TeacherNames(
      const std::vector<int64_t>& ids, const Principal& p);

  // Rounds.
  absl::Status FillSolutionNames(const Principal& p, pb::Solution* s);

  // Campaigns.
  // What FetchHouseholds counted on the way.
  struct FetchCounts {
    int64_t students = 0;          // members on a roster
    int64_t without_students = 0;  // households with none on a roster
  };
  // Every registered household of the region (the registry's
  // ListHouseholds), by id; FAILED_PRECONDITION (CAMPAIGN_TOO_LARGE) past
  // kMaxCampaignHouseholds.
  absl::StatusOr<std::vector<HouseholdNeed>> FetchHouseholds(
      const std::string& region_prefix, FetchCounts* counts);
  // What AssignPending did.
  struct PendingResult {
    int64_t assigned = 0;
    int64_t uncovered = 0;
    int64_t by_county = 0;  // of `assigned`, by the county rule
    std::vector<std::string> uncovered_ids;
    int teachers_used = 0;           // teachers carrying at least one household
    int max_load = 0, min_load = 0;  // over the candidate teachers
    int64_t micros = 0;
  };
  // Assigns `needs` (households without a teacher; `stored` ones are rows
  // of the campaign already, the others are inserted) to active teachers of
  // their schools under the campaign's cap, given the loads the campaign's
  // other households put on them; those left to the least-loaded active
  // teacher of their county with room (the county rule, AssignByCounty).
  // Uncovered ones are written with reason.
  absl::StatusOr<PendingResult> AssignPending(
      SqlConnection& c, const CampaignRecord& campaign,
      const std::vector<HouseholdNeed>& needs);
  // The assigned campaign and its first uncovered households.
  absl::Status FillAssignedCampaign(SqlConnection& c,
                                    const CampaignRecord& campaign,
                                    pb::AssignCampaignResponse* resp);
  // RecordVisit's transaction: checks, the visit row, its household's
  // counts; `region` is the household's county.
  absl::Status StoreVisit(SqlConnection& c, const Principal& p,
                          const pb::Visit& v, int64_t teacher,
                          const std::string& today,
                          pb::RecordVisitResponse* resp, std::string* region);
  // What RecordVisit read before its transaction.
  struct VisitPeers {
    int64_t term_year = 0;
    int term_season = 0;
    std::string term_key;
    rpb::Household household;          // only when the visit has findings
    std::vector<int64_t> payment_of;   // per finding (NOT_RECEIVED)
  };
  // The campaign's term, a teacher caller's own assignment (`teacher` set
  // to them), and for findings the registry's household and the ledger's
  // payments, each finding checked against them.
  absl::StatusOr<VisitPeers> ReadVisitPeers(const Principal& p,
                                            const pb::Visit& v,
                                            int64_t* teacher);
  absl::Status CheckOwnHousehold(const Principal& p, const pb::Visit& v,
                                 int64_t* teacher, VisitPeers* out);
  absl::StatusOr<std::vector<int64_t>> CheckFindingsFit(
      const pb::Visit& v, const VisitPeers& peers);
  // RecordVisit's findings and their outbox rows, in its transaction.
  absl::Status StoreFindings(SqlConnection& c, const pb::Visit& v,
                             const VisitPeers& peers,
                             const std::string& region,
                             pb::RecordVisitResponse* resp);
  // One household of GetHouseholds; false when outside the scope.
  absl::StatusOr<bool> ReadHouseholdVisits(SqlConnection& c,
                                           const Principal& p,
                                           const std::string& household_id,
                                           pb::HouseholdVisits* out);
  absl::Status FillVisits(SqlConnection& c, const Principal& p,
                          const std::string& household_id,
                          pb::HouseholdVisits* out);
  // Moves the teacher's unvisited households in the campaign to other
  // teachers (DeactivateTeacher), counting the outcome into `out`.
  absl::Status ReassignHouseholdsOf(SqlConnection& c, int64_t campaign_id,
                                    int64_t teacher_id, int64_t now,
                                    pb::CampaignReassignment* out);
  // Sets eduaid_teacher_visit_coverage_ratio for the campaign's counties
  // (only `region` when not empty). Best effort: a failed read is skipped.
  void RefreshCoverageGauges(int64_t campaign_id,
                             const std::string& region = "");
  // ListMyHouseholds: the calling teacher stands (exists, active, of the
  // token's county); the page filled from the registry and the ledger.
  absl::Status CheckOwnStanding(SqlConnection& c, const Principal& p,
                                int64_t teacher);
  absl::Status FillMyHouseholds(
      const std::vector<HouseholdRecord>& rows,
      const std::map<int64_t, CampaignRecord>& campaigns,
      pb::ListMyHouseholdsResponse* resp);
  // "the ledger (<target>)".
  std::string LedgerPeer() const;
  // Teacher names into households (masked for agencies).
  absl::Status FillHouseholdNames(
      const Principal& p,
      google::protobuf::RepeatedPtrField<pb::CampaignHousehold>* households);

  // Training.
  // The counties a quota request weighs: its own figures, with registered
  // students from the registry (GetCoverage) when students_from_registry.
  absl::StatusOr<std::vector<CountyWeight>> CountyWeights(
      const pb::AllocateTrainingQuotaRequest& req);

  // The registry as PeerError names it ("the registry (<target>)").
  // Registry calls are made before, never inside, a transaction.
  std::string RegistryPeer() const;

  // Every member is set in the constructor and never reassigned; the
  // objects they point to are thread-safe, so no mutex is needed here.

  ServiceHost& host_;
  Database& db_;
  const TeacherOptions options_;
  std::unique_ptr<PeerChannel> registry_channel_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> registry_;
  // The same registry channel, typed (households, students).
  std::unique_ptr<RegistryClient> registry_client_;
  std::unique_ptr<PeerChannel> ledger_channel_;
  std::unique_ptr<lpb::SubsidyLedgerService::Stub> ledger_;
  prometheus::Counter* rows_accepted_;
  prometheus::Counter* rows_rejected_;
  prometheus::Family<prometheus::Gauge>* coverage_gauge_;
  prometheus::Family<prometheus::Gauge>* unfilled_gauge_;
  prometheus::Histogram* solve_round_seconds_;
  prometheus::Histogram* solve_campaign_seconds_;
  // Last: stopped (and joined) before the channels it uses go.
  std::unique_ptr<FindingOutbox> outbox_;
};

// "t-<n>" <-> n.
std::string TeacherIdString(int64_t id);
absl::StatusOr<int64_t> ParseTeacherId(absl::string_view field,
                                       absl::string_view teacher_id);

// Term arithmetic: spring Y (Feb..Jul of Y) comes before autumn Y (Sep of Y
// .. Jan of Y+1), which comes before spring Y+1.
int64_t TermIndex(int year, int season);
// The last day of the term (YYYY-MM-DD): autumn Y ends Jan 31 of Y+1,
// spring Y ends Jul 31 of Y. Its first day is eduaid::TermStart (term.h).
std::string TermEnd(const ::eduaid::common::v1::Term& term);

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_TEACHER_H_
