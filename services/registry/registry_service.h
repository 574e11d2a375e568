// gRPC adapter of the registry: each method hands its work to
// ServiceRuntime::Unary, which authenticates, runs the logic on the worker
// pool and audits.
#ifndef EDUAID_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
#define EDUAID_SERVICES_REGISTRY_REGISTRY_SERVICE_H_

#include <memory>

#include "eduaid/registry/v1/registry.grpc.pb.h"
#include "services/common/service_host.h"
#include "services/registry/registry.h"

namespace eduaid::registry {

class RegistryService final
    : public pb::StudentRegistryService::CallbackService {
 public:
  // `host` must outlive the service.
  explicit RegistryService(ServiceHost& host);
  Registry& logic() { return *logic_; }

  grpc::ServerUnaryReactor* ImportHouseholds(
      grpc::CallbackServerContext* ctx, const pb::ImportHouseholdsRequest* req,
      pb::ImportHouseholdsResponse* resp) override;
  grpc::ServerUnaryReactor* UpsertSchool(
      grpc::CallbackServerContext* ctx, const pb::UpsertSchoolRequest* req,
      pb::UpsertSchoolResponse* resp) override;
  grpc::ServerUnaryReactor* ListSchools(grpc::CallbackServerContext* ctx,
                                        const pb::ListSchoolsRequest* req,
                                        pb::ListSchoolsResponse* resp) override;
  grpc::ServerUnaryReactor* RecordEnrolments(
      grpc::CallbackServerContext* ctx, const pb::RecordEnrolmentsRequest* req,
      pb::RecordEnrolmentsResponse* resp) override;
  grpc::ServerUnaryReactor* TransferStudent(
      grpc::CallbackServerContext* ctx, const pb::TransferStudentRequest* req,
      pb::TransferStudentResponse* resp) override;
  grpc::ServerUnaryReactor* RunIdentification(
      grpc::CallbackServerContext* ctx, const pb::RunIdentificationRequest* req,
      pb::RunIdentificationResponse* resp) override;
  grpc::ServerUnaryReactor* GetStudent(grpc::CallbackServerContext* ctx,
                                       const pb::GetStudentRequest* req,
                                       pb::GetStudentResponse* resp) override;
  grpc::ServerUnaryReactor* ListStudents(
      grpc::CallbackServerContext* ctx, const pb::ListStudentsRequest* req,
      pb::ListStudentsResponse* resp) override;
  grpc::ServerUnaryReactor* ListOutOfSchool(
      grpc::CallbackServerContext* ctx, const pb::ListOutOfSchoolRequest* req,
      pb::ListOutOfSchoolResponse* resp) override;
  grpc::ServerUnaryReactor* GetCoverage(grpc::CallbackServerContext* ctx,
                                        const pb::GetCoverageRequest* req,
                                        pb::GetCoverageResponse* resp) override;
  grpc::ServerUnaryReactor* OpenDropoutCase(
      grpc::CallbackServerContext* ctx, const pb::OpenDropoutCaseRequest* req,
      pb::OpenDropoutCaseResponse* resp) override;
  grpc::ServerUnaryReactor* UpdateDropoutCase(
      grpc::CallbackServerContext* ctx, const pb::UpdateDropoutCaseRequest* req,
      pb::UpdateDropoutCaseResponse* resp) override;
  grpc::ServerUnaryReactor* ListDropoutCases(
      grpc::CallbackServerContext* ctx, const pb::ListDropoutCasesRequest* req,
      pb::ListDropoutCasesResponse* resp) override;
  grpc::ServerUnaryReactor* SetLeftBehind(
      grpc::CallbackServerContext* ctx, const pb::SetLeftBehindRequest* req,
      pb::SetLeftBehindResponse* resp) override;
  grpc::ServerUnaryReactor* SetDisabilityPlan(
      grpc::CallbackServerContext* ctx, const pb::SetDisabilityPlanRequest* req,
      pb::SetDisabilityPlanResponse* resp) override;
  grpc::ServerUnaryReactor* ListSpecialGroups(
      grpc::CallbackServerContext* ctx, const pb::ListSpecialGroupsRequest* req,
      pb::ListSpecialGroupsResponse* resp) override;
  grpc::ServerUnaryReactor* ListHouseholds(
      grpc::CallbackServerContext* ctx, const pb::ListHouseholdsRequest* req,
      pb::ListHouseholdsResponse* resp) override;
  grpc::ServerUnaryReactor* GetHouseholds(
      grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
      pb::GetHouseholdsResponse* resp) override;
  grpc::ServerUnaryReactor* ListAuditEvents(
      grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
      pb::ListAuditEventsResponse* resp) override;

 private:
  ServiceHost& host_;
  std::unique_ptr<Registry> logic_;
};

}  // namespace eduaid::registry

#endif  // EDUAID_SERVICES_REGISTRY_REGISTRY_SERVICE_H_
