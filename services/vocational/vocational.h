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
// caller's region or a role that may not act; NOT_FOUND for an unknown
// course, application, offer or member; FAILED_PRECONDITION with a reason
// (ReasonOf) when state forbids the change or a request_id is reused;
// UNAVAILABLE when the database or the registry cannot be reached (nothing
// was stored; a retry may succeed). The ledger is never called on the
// request path.
#ifndef EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_H_
#define EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/ledger/v1/ledger.pb.h"
#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "services/common/server.h"
#include "services/common/service_host.h"
#include "services/common/sql.h"
#include "services/vocational/grant_outbox.h"

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

 private:
  // A course row as stored (kCourseColumns).
  struct CourseRow {
    std::string code, name, region, trade, school_code, school_name, provider,
        location, schedule, start_date, end_date;
    int64_t kind = 0, capacity = 0, taken = 0, duration_years = 0,
            total_hours = 0, updated_at = 0;
    cpb::Term intake;
  };
  // What a place change did, for metrics and cache after commit.
  struct Effects {
    std::vector<std::string> courses;  // touched course codes
    int64_t enrolled = 0;              // new places taken
    // (course kind, county of the course) of each place taken.
    std::vector<std::pair<std::string, std::string>> enrolled_labels;
    bool grants_queued = false;
  };

  // ---- registry
  // The member from the registry (service token, unmasked). NOT_FOUND /
  // INVALID_ARGUMENT name `field`; UNAVAILABLE when the registry fails.
  absl::StatusOr<rpb::Student> FetchMember(const std::string& field,
                                           const std::string& member_id);
  // The member when the registry knows it and its household's county lies
  // within `p`'s scope. NOT_FOUND with one and the same message whether the
  // member does not exist or belongs to a household outside the scope (an
  // answer must not tell the two apart; member ids are guessable).
  // INVALID_ARGUMENT / UNAVAILABLE as FetchMember.
  absl::StatusOr<rpb::Student> FetchMemberInScope(const Principal& p,
                                                  const std::string& field,
                                                  const std::string& member_id);
  // Junior-high graduates under `region` with no school since, whose
  // graduation the registry recorded in graduation year `year`.
  absl::StatusOr<std::vector<rpb::Student>> FetchGraduates(
      const std::string& region, int year);

  // ---- places (vocational.cc)
  // Locks the course row for the rest of the transaction and reads it.
  absl::StatusOr<CourseRow> LockCourse(SqlConnection& c,
                                       const std::string& code);
  absl::StatusOr<CourseRow> ReadCourse(SqlConnection& c,
                                       const std::string& code);
  // Enrols up to `seats` waitlisted applicants of `course` (locked) in rule
  // order; their grants are queued. Appends them to `promoted`.
  absl::Status PromoteWaitlisted(
      SqlConnection& c, const CourseRow& course, int64_t seats,
      const Principal& p,
      google::protobuf::RepeatedPtrField<pb::Application>* promoted,
      Effects* fx);
  // Queues the grants of application `id` (a major) for `term`, caused
  // by the call of `originator` (its subject is the ledger's originator).
  absl::StatusOr<int> QueueGrants(SqlConnection& c, int64_t id,
                                  const CourseRow& course,
                                  const cpb::Term& term,
                                  const Principal& originator);
  absl::StatusOr<pb::Application> LoadApplication(SqlConnection& c, int64_t id,
                                                  const Principal& p,
                                                  bool with_grants);
  void FillApplication(const SqlRow& r, const Principal& p,
                       pb::Application* a) const;
  absl::Status FillWaitlistPosition(SqlConnection& c, pb::Application* a,
                                    int64_t tier, int64_t applied_at_ms);
  absl::StatusOr<pb::Course> CourseWithCounts(SqlConnection& c,
                                              const CourseRow& row);
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
  // The offer's effective state on `today` (an open offer past its expiry
  // reads EXPIRED).
  static pb::OfferState EffectiveOfferState(int64_t stored,
                                            const std::string& expires_on,
                                            const std::string& today);
  void FillOffer(const SqlRow& r, const Principal& p, const std::string& today,
                 pb::Offer* o) const;

  std::string ShowName(const Principal& p, const std::string& name_enc) const;
  std::string Decrypt(const std::string& enc) const;

  ServiceHost& host_;
  Database& db_;
  const VocationalOptions options_;
  std::unique_ptr<PeerChannel> registry_channel_;
  std::unique_ptr<rpb::StudentRegistryService::Stub> registry_;
  GrantOutbox outbox_;

  prometheus::Family<prometheus::Counter>& enrolments_;
  prometheus::Family<prometheus::Counter>& offers_created_;
  prometheus::Family<prometheus::Gauge>& fill_ratio_;
  prometheus::Family<prometheus::Gauge>& waitlist_length_;
};

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_H_
