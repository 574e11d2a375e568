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
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/registry/v1/registry.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "services/common/call_context.h"
#include "services/common/sql.h"
#include "services/registry/arrangement_store.h"
#include "services/registry/enrolment_store.h"
#include "services/registry/household_store.h"
#include "services/registry/member_scope.h"
#include "services/registry/member_store.h"
#include "services/registry/rules.h"

namespace eduaid {
class ServiceHost;
}  // namespace eduaid

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
  absl::Status ListHouseholds(CallContext& call,
                              const pb::ListHouseholdsRequest& req,
                              pb::ListHouseholdsResponse* resp);
  absl::Status GetHouseholds(CallContext& call,
                             const pb::GetHouseholdsRequest& req,
                             pb::GetHouseholdsResponse* resp);
  absl::Status ListAuditEvents(CallContext& call,
                               const pb::ListAuditEventsRequest& req,
                               pb::ListAuditEventsResponse* resp);

 private:
  // What a caller may see of counts and lists: a region prefix and, for a
  // school officer, its school (members whose current enrolment is there).
  using Scope = MemberScope;
  // The caller's scope; PERMISSION_DENIED for a school officer without a
  // school claim (never "unrestricted").
  static absl::StatusOr<Scope> ScopeOf(const Principal& p,
                                       absl::string_view region_filter = "");

  // What a write changes outside its transaction, collected inside it and
  // applied by AfterCommit() once it committed.
  struct Effects {
    std::vector<std::string> stale_students;  // blind indexes to uncache
    int64_t rows_accepted = 0;                // bulk rows, for the metrics
    int64_t rows_rejected = 0;
  };
  void AfterCommit(const Effects& fx);

  // ImportHouseholds, by step (registry_households.cc).
  struct HouseholdImport;
  absl::StatusOr<HouseholdImport> CheckHouseholdRows(
      const Principal& p, const pb::ImportHouseholdsRequest& req) const;
  absl::Status WriteHouseholdRows(SqlConnection& c, const Principal& p,
                                  const pb::ImportHouseholdsRequest& req,
                                  const HouseholdImport& import,
                                  pb::ImportHouseholdsResponse* resp,
                                  Effects* fx);

  // RecordEnrolments and TransferStudent, by step (registry_enrolments.cc).
  struct RosterImport;
  RosterImport CheckRosterRows(const pb::RecordEnrolmentsRequest& req) const;
  absl::Status WriteRosterRows(SqlConnection& c, const Principal& p,
                               const pb::RecordEnrolmentsRequest& req,
                               const RosterImport& roster,
                               pb::RecordEnrolmentsResponse* resp, Effects* fx);
  absl::Status WriteTransfer(SqlConnection& c, const Principal& p,
                             const pb::TransferStudentRequest& req,
                             const std::string& id_hash,
                             pb::TransferStudentResponse* resp);

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
  // After a bulk write: Identify() over what it `touched`, today, in the
  // caller's scope (RunIdentification is the full pass).
  absl::StatusOr<pb::IdentificationSummary> IdentifyTouched(
      SqlConnection& c, const Principal& p,
      const std::vector<std::string>& touched);
  // Sets the out-of-school gauge of every county of the region prefix.
  void UpdateOutOfSchoolGauge(SqlConnection& c, const std::string& region);

  // The full (unmasked) student, from cache or database.
  absl::StatusOr<pb::Student> LoadStudent(const std::string& id_hash);
  absl::StatusOr<pb::Student> ReadStudent(SqlConnection& c,
                                          const std::string& id_hash) const;
  // The member `member_id` names; NOT_FOUND when there is none.
  static absl::StatusOr<MemberRef> FindMember(SqlConnection& c,
                                              const std::string& member_id);
  // Case `case_id` as `p` may see it; NOT_FOUND when there is none.
  absl::StatusOr<pb::DropoutCase> ReadCase(SqlConnection& c, int64_t case_id,
                                           const Principal& p) const;
  // The answer of a write to a student's record (trimmed in the
  // transaction), masked for the caller after commit.
  static void FinishStudentWrite(CallContext& call, pb::Student* s);
  // Scope check, masking and audit fields common to both GetStudent paths.
  // A student outside the caller's scope is answered as one that does not
  // exist (NOT_FOUND with `not_found`), and audited as a refusal.
  absl::Status FinishGetStudent(CallContext& call, pb::Student s,
                                absl::string_view not_found,
                                pb::GetStudentResponse* resp) const;
  // GetHouseholds' answer for `households` (in scope, in request order),
  // names masked unless `names` (registry_household_views.cc).
  absl::Status FillHouseholds(
      SqlConnection& c, const std::vector<const HouseholdRecord*>& households,
      bool names, pb::GetHouseholdsResponse* resp) const;
  // An arrangement as a caller sees it: texts decrypted, the child's name
  // masked unless `names`.
  pb::SchoolingArrangement ArrangementProto(const ArrangementRecord& a,
                                            bool names) const;

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

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_REGISTRY_H_
