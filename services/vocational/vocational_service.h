// gRPC adapter of the vocational service: each method hands its work to
// ServiceRuntime::Unary, which authenticates, refuses writes by read-only
// roles, runs the logic on the worker pool (never on a gRPC thread) and
// audits.
#ifndef EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_SERVICE_H_
#define EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_SERVICE_H_

#include <memory>

#include "eduaid/vocational/v1/vocational.grpc.pb.h"
#include "services/common/service_host.h"
#include "services/vocational/vocational.h"

namespace eduaid::vocational {

class VocationalService final
    : public pb::VocationalTrainingService::CallbackService {
 public:
  // `host` must outlive the service. Call logic().Start() before serving.
  VocationalService(ServiceHost& host, VocationalOptions options);
  VocationalTraining& logic() { return *logic_; }

  grpc::ServerUnaryReactor* UpsertCourse(
      grpc::CallbackServerContext* ctx, const pb::UpsertCourseRequest* req,
      pb::UpsertCourseResponse* resp) override;
  grpc::ServerUnaryReactor* GetCourse(grpc::CallbackServerContext* ctx,
                                      const pb::GetCourseRequest* req,
                                      pb::GetCourseResponse* resp) override;
  grpc::ServerUnaryReactor* ListCourses(grpc::CallbackServerContext* ctx,
                                        const pb::ListCoursesRequest* req,
                                        pb::ListCoursesResponse* resp) override;
  grpc::ServerUnaryReactor* RunOffers(grpc::CallbackServerContext* ctx,
                                      const pb::RunOffersRequest* req,
                                      pb::RunOffersResponse* resp) override;
  grpc::ServerUnaryReactor* ListOffers(grpc::CallbackServerContext* ctx,
                                       const pb::ListOffersRequest* req,
                                       pb::ListOffersResponse* resp) override;
  grpc::ServerUnaryReactor* DeclineOffer(
      grpc::CallbackServerContext* ctx, const pb::DeclineOfferRequest* req,
      pb::DeclineOfferResponse* resp) override;
  grpc::ServerUnaryReactor* ListUnplacedGraduates(
      grpc::CallbackServerContext* ctx,
      const pb::ListUnplacedGraduatesRequest* req,
      pb::ListUnplacedGraduatesResponse* resp) override;
  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* ctx,
                                  const pb::ApplyRequest* req,
                                  pb::ApplyResponse* resp) override;
  grpc::ServerUnaryReactor* GetApplication(
      grpc::CallbackServerContext* ctx, const pb::GetApplicationRequest* req,
      pb::GetApplicationResponse* resp) override;
  grpc::ServerUnaryReactor* ListApplications(
      grpc::CallbackServerContext* ctx, const pb::ListApplicationsRequest* req,
      pb::ListApplicationsResponse* resp) override;
  grpc::ServerUnaryReactor* GetWaitlist(grpc::CallbackServerContext* ctx,
                                        const pb::GetWaitlistRequest* req,
                                        pb::GetWaitlistResponse* resp) override;
  grpc::ServerUnaryReactor* Withdraw(grpc::CallbackServerContext* ctx,
                                     const pb::WithdrawRequest* req,
                                     pb::WithdrawResponse* resp) override;
  grpc::ServerUnaryReactor* RecordAttendance(
      grpc::CallbackServerContext* ctx, const pb::RecordAttendanceRequest* req,
      pb::RecordAttendanceResponse* resp) override;
  grpc::ServerUnaryReactor* RecordCompletion(
      grpc::CallbackServerContext* ctx, const pb::RecordCompletionRequest* req,
      pb::RecordCompletionResponse* resp) override;
  grpc::ServerUnaryReactor* RecordOutcome(
      grpc::CallbackServerContext* ctx, const pb::RecordOutcomeRequest* req,
      pb::RecordOutcomeResponse* resp) override;
  grpc::ServerUnaryReactor* GetReport(grpc::CallbackServerContext* ctx,
                                      const pb::GetReportRequest* req,
                                      pb::GetReportResponse* resp) override;
  grpc::ServerUnaryReactor* RaiseTermGrants(
      grpc::CallbackServerContext* ctx, const pb::RaiseTermGrantsRequest* req,
      pb::RaiseTermGrantsResponse* resp) override;
  grpc::ServerUnaryReactor* ListGrants(grpc::CallbackServerContext* ctx,
                                       const pb::ListGrantsRequest* req,
                                       pb::ListGrantsResponse* resp) override;
  grpc::ServerUnaryReactor* RetryGrants(grpc::CallbackServerContext* ctx,
                                        const pb::RetryGrantsRequest* req,
                                        pb::RetryGrantsResponse* resp) override;
  grpc::ServerUnaryReactor* ListAuditEvents(
      grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
      pb::ListAuditEventsResponse* resp) override;
  grpc::ServerUnaryReactor* GetHouseholds(
      grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
      pb::GetHouseholdsResponse* resp) override;

 private:
  ServiceHost& host_;
  std::unique_ptr<VocationalTraining> logic_;
};

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_VOCATIONAL_SERVICE_H_
