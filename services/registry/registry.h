// The student registry's logic: households and members imported from the
// poverty registration database, schools and enrolments, identification of
// registered students, the out-of-school list, dropout-control cases and
// special groups. Built in-process by tests; served by RegistryService.
//
// Thread-safe: every method may run concurrently on the worker pool.
// Personal data (ID numbers, names) is stored only encrypted, looked up by
// blind index, and masked in lists and for roles that may not see it.
#ifndef EDUAID_SERVICES_REGISTRY_REGISTRY_H_
#define EDUAID_SERVICES_REGISTRY_REGISTRY_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "services/common/server.h"
#include "services/common/service_host.h"
#include "services/common/sql.h"

namespace eduaid::registry {

namespace pb = ::eduaid::registry::v1;

// Schema migrations of the registry database.
std::vector<Migration> Migrations();

// FAILED_PRECONDITION when `db` holds blind indexes in the form of builds
// before the county prefix (32 hex characters): look-ups would miss those
// rows and a re-import would duplicate them. Roster rows of unregistered
// children keep only the index, so the database cannot be re-keyed in
// place; it must be re-created and re-imported.
absl::Status CheckBlindIndexFormat(Database& db);

// Rows per ImportHouseholds / RecordEnrolments call.
inline constexpr int kMaxRowsPerCall = 10000;

class Registry {
 public:
  // `host` must outlive the registry.
  explicit Registry(ServiceHost& host);

  // Each method: OK fills `resp`. INVALID_ARGUMENT names the field and rule
  // (bulk calls instead report bad rows in resp->errors and land the good
  // ones); PERMISSION_DENIED for records outside the caller's region;
  // NOT_FOUND for an unknown key; FAILED_PRECONDITION (with a reason) when
  // state forbids the change or a request_id is reused; UNAVAILABLE when the
  // database is unreachable.
  absl::Status ImportHouseholds(CallContext& call,
                                const pb::ImportHouseholdsRequest& req,
                                pb::ImportHouseholdsResponse* resp);
  absl::Status UpsertSchool(CallContext& call,
                            const pb::UpsertSchoolRequest& req,
                            pb::UpsertSchoolResponse* resp);
  absl::Status ListSchools(CallContext& call, const pb::ListSchoolsRequest& req,
                           pb::ListSchoolsResponse* resp);
  absl::Status RecordEnrolments(CallContext& call,
                                const pb::RecordEnrolmentsRequest& req,
                                pb::RecordEnrolmentsResponse* resp);
  absl::Status TransferStudent(CallContext& call,
                               const pb::TransferStudentRequest& req,
                               pb::TransferStudentResponse* resp);
  absl::Status RunIdentification(CallContext& call,
                                 const pb::RunIdentificationRequest& req,
                                 pb::RunIdentificationResponse* resp);
  absl::Status GetStudent(CallContext& call, const pb::GetStudentRequest& req,
                          pb::GetStudentResponse* resp);
  // GetStudent from the in-process cache alone (never blocks), or nullopt.
  std::optional<absl::Status> GetStudentFast(CallContext& call,
                                             const pb::GetStudentRequest& req,
                                             pb::GetStudentResponse* resp);
  absl::Status ListStudents(CallContext& call,
                            const pb::ListStudentsRequest& req,
                            pb::ListStudentsResponse* resp);
  absl::Status ListOutOfSchool(CallContext& call,
                               const pb::ListOutOfSchoolRequest& req,
                               pb::ListOutOfSchoolResponse* resp);
  absl::Status GetCoverage(CallContext& call, const pb::GetCoverageRequest& req,
                           pb::GetCoverageResponse* resp);
  absl::Status OpenDropoutCase(CallContext& call,
                               const pb::OpenDropoutCaseRequest& req,
                               pb::OpenDropoutCaseResponse* resp);
  absl::Status UpdateDropoutCase(CallContext& call,
                                 const pb::UpdateDropoutCaseRequest& req,
                                 pb::UpdateDropoutCaseResponse* resp);
  absl::Status ListDropoutCases(CallContext& call,
                                const pb::ListDropoutCasesRequest& req,
                                pb::ListDropoutCasesResponse* resp);
  absl::Status SetLeftBehind(CallContext& call,
                             const pb::SetLeftBehindRequest& req,
                             pb::SetLeftBehindResponse* resp);
  absl::Status SetDisabilityPlan(CallContext& call,
                                 const pb::SetDisabilityPlanRequest& req,
                                 pb::SetDisabilityPlanResponse* resp);
  absl::Status ListSpecialGroups(CallContext& call,
                                 const pb::ListSpecialGroupsRequest& req,
                                 pb::ListSpecialGroupsResponse* resp);
  absl::Status ListAuditEvents(CallContext& call,
                               const pb::ListAuditEventsRequest& req,
                               pb::ListAuditEventsResponse* resp);

 private:
  struct MemberRef {
    int64_t id = 0;
    std::string id_hash;
    std::string region_code;
    std::string school_code;  // of the current enrolment, "" when none
  };
  // What a caller may see of counts and lists: a region prefix and, for a
  // school officer, its school (members whose current enrolment is there).
  struct Scope {
    std::string region;
    std::string school;
  };
  // The caller's scope; PERMISSION_DENIED for a school officer without a
  // school claim (never "unrestricted").
  static absl::StatusOr<Scope> ScopeOf(const Principal& p,
                                       absl::string_view region_filter = "");
  // Students with a current enrolment, and those in school per stage.
  struct StageCounts {
    int64_t identified = 0;
    std::vector<std::pair<int, int64_t>> in_school;  // (stage, students)
  };
  absl::StatusOr<StageCounts> CountStages(SqlConnection& c, const Scope& scope);
  // Recomputes the out-of-school list as of `as_of` in `c`'s transaction:
  // for every member when `touched` is null (RunIdentification), else only
  // for the members whose blind indexes `touched` holds (what a write
  // changed). The summary counts only what lies in `scope`. `stages`, when
  // given, supplies the per-stage counts (computed elsewhere, e.g. on a
  // reader in parallel); otherwise they are counted in `c`.
  absl::StatusOr<pb::IdentificationSummary> Identify(
      SqlConnection& c, const std::string& as_of,
      const std::vector<std::string>* touched, const Scope& scope,
      const std::function<absl::StatusOr<StageCounts>()>& stages = nullptr);
  // Upserts the out-of-school rows of the members `member_filter` selects
  // (an SQL condition on `m` with `params`) and resolves theirs no longer
  // out of school; returns the number resolved within `scope`.
  absl::StatusOr<int64_t> RefreshOutOfSchool(
      SqlConnection& c, const std::string& as_of, int64_t run_id,
      const std::string& member_filter, const std::vector<SqlValue>& params,
      const Scope& scope);
  // The full (unmasked) student, from cache or database.
  absl::StatusOr<pb::Student> LoadStudent(const std::string& id_hash);
  absl::StatusOr<pb::Student> LoadStudentFromDb(SqlConnection& c,
                                                const std::string& id_hash);
  absl::StatusOr<MemberRef> FindMember(SqlConnection& c,
                                       const std::string& member_id);
  absl::StatusOr<pb::DropoutCase> LoadCase(SqlConnection& c, int64_t case_id,
                                           const Principal& p);
  void MaskStudent(const Principal& p, pb::Student* s) const;
  // Scope check, masking and audit fields common to both GetStudent paths.
  // A student outside the caller's scope is answered as one that does not
  // exist (NOT_FOUND with `not_found`), and audited as a refusal.
  absl::Status FinishGetStudent(CallContext& call, pb::Student s,
                                absl::string_view not_found,
                                pb::GetStudentResponse* resp) const;
  std::string StudentCacheKey(const std::string& id_hash) const;
  std::string IdHash(const std::string& id_number) const;
  std::string DecryptOrEmpty(const std::string& enc,
                             absl::string_view context) const;

  ServiceHost& host_;
  Database& db_;
  prometheus::Counter* rows_accepted_;
  prometheus::Counter* rows_rejected_;
  prometheus::Family<prometheus::Gauge>* out_of_school_gauge_;
};

// "m-<n>" <-> n.
std::string MemberIdString(int64_t id);
absl::StatusOr<int64_t> ParseMemberId(absl::string_view field,
                                      absl::string_view member_id);

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_REGISTRY_H_
