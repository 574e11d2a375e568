// The vocational service's logic (work point 6): the catalogue of
// secondary vocational majors and skills-training classes, offers to
// junior-high graduates who did not go on, applications with eligibility
// from the registry, capacity and an explained waitlist, attendance,
// completion, certificates and outcomes, reports, and the grants of each
// enrolment raised in the ledger through the transactional outbox
// (grant_outbox.h). Built in-process by tests; served by VocationalService.
//
// Thread-safe: every RPC method may run concurrently on the worker pool.
// Capacity holds under any concurrency: every change of a course's places
// locks the course row first (an UPDATE of that row: the SQLite writer lock,
// a PostgreSQL row lock), then counts and inserts in the same transaction,
// and a CHECK constraint (taken <= capacity) backs it.
// Applicants' names are stored only encrypted and masked for agencies; ID
// numbers are never stored (applicants are the registry's member ids).
//
// Each RPC method: OK fills `resp`. INVALID_ARGUMENT names the field and
// the rule and stores nothing; PERMISSION_DENIED for records outside the
// caller's region or school (who may call each RPC at all is declared in
// the proto and enforced by the runtime before the method runs); NOT_FOUND
// for an unknown course, application, offer or member; FAILED_PRECONDITION
// with a reason (ReasonOf) when state forbids the change or a request_id
// is reused; UNAVAILABLE when the database or the registry cannot be reached
// (nothing was stored; a retry may succeed); other registry failures as
// PeerError (services/common/peer.h). The ledger is never called on the request
// path.
#ifndef EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_H_
#define EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "services/common/call_context.h"
#include "services/common/clients/registry_client.h"
#include "services/common/peer.h"
#include "services/common/sql.h"
#include "services/vocational/application_store.h"
#include "services/vocational/course_store.h"
#include "services/vocational/grant_outbox.h"
#include "services/vocational/offer_store.h"

namespace eduaid {
class ServiceHost;
}  // namespace eduaid

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;
namespace cpb = ::eduaid::common::v1;
namespace rpb = ::eduaid::registry::v1;

// Schema migrations of the vocational database.
std::vector<Migration> Migrations();

struct VocationalOptions {
  // Peers (host:port or a gRPC target) and the deadline of each call.
  std::string registry_target = "127.0.0.1:50051";
  std::string ledger_target = "127.0.0.1:50052";
  std::chrono::milliseconds registry_deadline{10000};
  std::chrono::milliseconds ledger_deadline{5000};
  // Ledger programmes raised for a secondary vocational enrolment, per
  // term (see policy/henan-2018.textproto): tuition waiver, national grant,
  // Rain and Dew (雨露计划).
  std::vector<std::string> grant_programmes = {
      "VOCATIONAL_TUITION_WAIVER", "VOCATIONAL_GRANT", "RAIN_AND_DEW"};
  // Days an offer stays open when RunOffers names no expiry.
  int offer_days = 60;
  GrantOutboxOptions outbox;
};

class VocationalTraining {
 public:
  // `host` must outlive this object. Nothing runs until Start().
  VocationalTraining(ServiceHost& host, VocationalOptions options);
  // Stops grant delivery (StopGrantDelivery()).
  ~VocationalTraining();
  VocationalTraining(const VocationalTraining&) = delete;
  VocationalTraining& operator=(const VocationalTraining&) = delete;

  // Sets the per-course gauges from the database and starts grant delivery.
  // Call once before serving. UNAVAILABLE when the database is unreachable.
  absl::Status Start();

  // Stops the grant delivery thread; undelivered grants stay in the outbox.
  // Call after the server drained and before the host is destroyed.
  // Idempotent.
  void StopGrantDelivery();

  // ---- RPCs (see protos/eduaid/vocational/v1/vocational.proto).
  absl::Status UpsertCourse(CallContext& call,
                            const pb::UpsertCourseRequest& req,
                            pb::UpsertCourseResponse* resp);
  absl::Status GetCourse(CallContext& call, const pb::GetCourseRequest& req,
                         pb::GetCourseResponse* resp);
  absl::Status ListCourses(CallContext& call, const pb::ListCoursesRequest& req,
                           pb::ListCoursesResponse* resp);
  absl::Status RunOffers(CallContext& call, const pb::RunOffersRequest& req,
                         pb::RunOffersResponse* resp);
  absl::Status ListOffers(CallContext& call, const pb::ListOffersRequest& req,
                          pb::ListOffersResponse* resp);
  absl::Status DeclineOffer(CallContext& call,
                            const pb::DeclineOfferRequest& req,
                            pb::DeclineOfferResponse* resp);
  absl::Status ListUnplacedGraduates(
      CallContext& call, const pb::ListUnplacedGraduatesRequest& req,
      pb::ListUnplacedGraduatesResponse* resp);
  absl::Status Apply(CallContext& call, const pb::ApplyRequest& req,
                     pb::ApplyResponse* resp);
  absl::Status GetApplication(CallContext& call,
                              const pb::GetApplicationRequest& req,
                              pb::GetApplicationResponse* resp);
  absl::Status ListApplications(CallContext& call,
                                const pb::ListApplicationsRequest& req,
                                pb::ListApplicationsResponse* resp);
  absl::Status GetWaitlist(CallContext& call, const pb::GetWaitlistRequest& req,
                           pb::GetWaitlistResponse* resp);
  absl::Status Withdraw(CallContext& call, const pb::WithdrawRequest& req,
                        pb::WithdrawResponse* resp);
  absl::Status RecordAttendance(CallContext& call,
                                const pb::RecordAttendanceRequest& req,
                                pb::RecordAttendanceResponse* resp);
  absl::Status RecordCompletion(CallContext& call,
                                const pb::RecordCompletionRequest& req,
                                pb::RecordCompletionResponse* resp);
  absl::Status RecordOutcome(CallContext& call,
                             const pb::RecordOutcomeRequest& req,
                             pb::RecordOutcomeResponse* resp);
  absl::Status GetReport(CallContext& call, const pb::GetReportRequest& req,
                         pb::GetReportResponse* resp);
  absl::Status RaiseTermGrants(CallContext& call,
                               const pb::RaiseTermGrantsRequest& req,
                               pb::RaiseTermGrantsResponse* resp);
  absl::Status ListGrants(CallContext& call, const pb::ListGrantsRequest& req,
                          pb::ListGrantsResponse* resp);
  absl::Status RetryGrants(CallContext& call, const pb::RetryGrantsRequest& req,
                           pb::RetryGrantsResponse* resp);
  absl::Status ListAuditEvents(CallContext& call,
                               const pb::ListAuditEventsRequest& req,
                               pb::ListAuditEventsResponse* resp);
  absl::Status GetHouseholds(CallContext& call,
                             const pb::GetHouseholdsRequest& req,
                             pb::GetHouseholdsResponse* resp);

 private:
  using Applications = google::protobuf::RepeatedPtrField<pb::Application>;
  // What a place change did, for metrics and cache after commit.
  struct Effects {
    std::vector<std::string> courses;  // touched course codes
    int64_t enrolled = 0;              // new places taken
    // (course kind, county of the course) of each place taken.
    std::vector<std::pair<std::string, std::string>> enrolled_labels;
    bool grants_queued = false;
  };

  // ---- registry (registry_peer.cc)
  // The member from the registry (service token, unmasked). NOT_FOUND /
  // INVALID_ARGUMENT name `field`; other failures as PeerError.
  absl::StatusOr<rpb::Student> FetchMember(const std::string& field,
                                           const std::string& member_id);
  // The member when the registry knows it and its household's county lies
  // within `p`'s scope. NOT_FOUND with one and the same message whether the
  // member does not exist or belongs to a household outside the scope (an
  // answer must not tell the two apart; member ids are guessable).
  // INVALID_ARGUMENT and other failures as FetchMember.
  absl::StatusOr<rpb::Student> FetchMemberInScope(const Principal& p,
                                                  const std::string& field,
                                                  const std::string& member_id);
  // NOT_FOUND naming `field`: the one answer for a member id the registry
  // does not know and for one whose household lies outside the caller's
  // scope.
  static absl::Status MemberNotInScope(const std::string& field);
  // The registry as named in errors ("the registry (<target>)").
  std::string RegistryPeer() const;
  // Junior-high graduates under `region` with no school since, whose
  // graduation the registry recorded in graduation year `year`.
  absl::StatusOr<std::vector<rpb::Student>> FetchGraduates(
      const std::string& region, int year);
  // Open offers of `region` and `year` whose graduate the registry now
  // shows at a school: (offer id, where the graduate went).
  absl::StatusOr<std::vector<std::pair<int64_t, std::string>>> FindWentOn(
      const Principal& p, const std::string& region, int year,
      const std::vector<rpb::Student>& graduates);

  // ---- transaction bodies of the RPCs: inside `c`, effects into `fx`.
  // Inserts or changes `course` (vocational_courses.cc).
  absl::Status StoreCourse(SqlConnection& c, const Principal& p,
                           const pb::Course& course,
                           pb::UpsertCourseResponse* resp, Effects* fx);
  absl::Status ChangeCourse(SqlConnection& c, const Principal& p,
                            const pb::Course& course, int64_t now_ms,
                            Applications* promoted, Effects* fx);
  // The applicant of `req` from the registry, eligible for the course
  // (vocational_applications.cc); read before the transaction.
  absl::StatusOr<rpb::Student> EligibleApplicant(CallContext& call,
                                                 const pb::ApplyRequest& req);
  absl::Status StoreApplication(SqlConnection& c, const Principal& p,
                                const pb::ApplyRequest& req,
                                const rpb::Student& member,
                                const std::string& today,
                                pb::ApplyResponse* resp, Effects* fx);
  absl::Status StoreWithdrawal(SqlConnection& c, const Principal& p,
                               const pb::WithdrawRequest& req,
                               pb::WithdrawResponse* resp, Effects* fx);
  // vocational_progress.cc
  absl::Status StoreAttendance(SqlConnection& c, const Principal& p,
                               const pb::RecordAttendanceRequest& req,
                               pb::RecordAttendanceResponse* resp);
  absl::Status StoreCompletion(SqlConnection& c, const Principal& p,
                               const pb::RecordCompletionRequest& req,
                               pb::RecordCompletionResponse* resp,
                               std::string* course_code);
  absl::Status StoreOutcome(SqlConnection& c, const Principal& p,
                            const pb::RecordOutcomeRequest& req,
                            pb::RecordOutcomeResponse* resp);
  // vocational_offers.cc
  absl::Status StoreOffers(
      SqlConnection& c, const pb::RunOffersRequest& req,
      const std::string& region, const std::vector<rpb::Student>& graduates,
      const std::vector<std::pair<int64_t, std::string>>& went_on,
      const std::string& today, const std::string& expires,
      pb::RunOffersResponse* resp,
      std::map<std::string, int64_t>* created_per_region);
  // vocational_grants.cc
  absl::Status StoreTermGrants(SqlConnection& c, const Principal& p,
                               const pb::RaiseTermGrantsRequest& req,
                               const std::string& region,
                               pb::RaiseTermGrantsResponse* resp);
  absl::Status StoreRetries(SqlConnection& c, CallContext& call,
                            const pb::RetryGrantsRequest& req,
                            pb::RetryGrantsResponse* resp);

  // ---- households (vocational_households.cc)
  // The offers, applications and grants of the members of the households
  // (member id -> household id) into `out` (household id -> its answer).
  absl::Status FillHouseholds(
      SqlConnection& c, const Principal& p,
      const std::map<std::string, std::string>& household_of,
      std::map<std::string, pb::HouseholdVocational>& out);

  // ---- places (vocational_places.cc)
  // Enrols up to `seats` waitlisted applicants of `course` (locked) in rule
  // order; their grants are queued. Appends them to `promoted`.
  absl::Status PromoteWaitlisted(SqlConnection& c, const CourseRecord& course,
                                 int64_t seats, const Principal& p,
                                 Applications* promoted, Effects* fx);
  // Queues the grants of application `id` (a major) for `term`, caused
  // by the call of `originator` (its subject is the ledger's originator).
  absl::StatusOr<int> QueueGrants(SqlConnection& c, int64_t id,
                                  const CourseRecord& course,
                                  const cpb::Term& term,
                                  const Principal& originator);
  // The application as `p` sees it, with its waitlist position and, when
  // asked, its grants.
  absl::StatusOr<pb::Application> LoadApplication(SqlConnection& c, int64_t id,
                                                  const Principal& p,
                                                  bool with_grants);
  // Sets the waitlist position of waitlisted `a` and why it stands there.
  static absl::Status FillWaitlistPosition(SqlConnection& c,
                                           const ApplicationRecord& r,
                                           pb::Application* a);
  // Names are kept out of stored responses (request_log is not
  // encrypted): they are filled in from the encrypted column after the
  // transaction, full or masked for `p`.
  absl::Status RestoreNames(const Principal& p,
                            const std::vector<pb::Application*>& apps);
  // True when `caller` sent request_id before (then RequestLog::Run answers
  // from the log without calling a peer).
  bool Answered(const Principal& caller, const std::string& request_id);
  // After commit: notify the outbox, count, refresh gauges, drop cache.
  void AfterCommit(const Effects& fx);
  void RefreshCourseGauges(const std::vector<std::string>& codes);

  std::string ShowName(const Principal& p, const std::string& name_enc) const;
  // The graduate's name on `offer`, full or masked for `p`.
  std::string ShowOfferName(const Principal& p, const OfferRecord& offer) const;
  std::string Decrypt(const std::string& enc) const;

  ServiceHost& host_;
  Database& db_;
  const VocationalOptions options_;
  std::unique_ptr<PeerChannel> registry_channel_;
  std::unique_ptr<RegistryClient> registry_;
  GrantOutbox outbox_;

  prometheus::Family<prometheus::Counter>& enrolments_;
  prometheus::Family<prometheus::Counter>& offers_created_;
  prometheus::Family<prometheus::Gauge>& fill_ratio_;
  prometheus::Family<prometheus::Gauge>& waitlist_length_;
};

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_H_
