// gRPC adapter of the teacher service: each method hands its work to
// ServiceRuntime::Unary, which authenticates, refuses writes by read-only
// roles, runs the logic on the worker pool (never on a gRPC thread) and
// audits.
#ifndef EDUAID_SERVICES_TEACHER_TEACHER_SERVICE_H_
#define EDUAID_SERVICES_TEACHER_TEACHER_SERVICE_H_

#include <memory>

#include "eduaid/teacher/v1/teacher.grpc.pb.h"
#include "services/common/server.h"
#include "services/common/service_host.h"
#include "services/teacher/teacher.h"

namespace eduaid::teacher {

class TeacherService final : public pb::TeacherSupportService::CallbackService {
 public:
  // `host` must outlive the service.
  explicit TeacherService(ServiceHost& host, TeacherOptions options = {});
  TeacherSupport& logic() { return *logic_; }

  grpc::ServerUnaryReactor* ImportTeachers(
      grpc::CallbackServerContext* ctx, const pb::ImportTeachersRequest* req,
      pb::ImportTeachersResponse* resp) override;
  grpc::ServerUnaryReactor* GetTeacher(grpc::CallbackServerContext* ctx,
                                       const pb::GetTeacherRequest* req,
                                       pb::GetTeacherResponse* resp) override;
  grpc::ServerUnaryReactor* ListTeachers(
      grpc::CallbackServerContext* ctx, const pb::ListTeachersRequest* req,
      pb::ListTeachersResponse* resp) override;
  grpc::ServerUnaryReactor* DeactivateTeacher(
      grpc::CallbackServerContext* ctx, const pb::DeactivateTeacherRequest* req,
      pb::DeactivateTeacherResponse* resp) override;
  grpc::ServerUnaryReactor* CreateRound(grpc::CallbackServerContext* ctx,
                                        const pb::CreateRoundRequest* req,
                                        pb::CreateRoundResponse* resp) override;
  grpc::ServerUnaryReactor* PostDemand(grpc::CallbackServerContext* ctx,
                                       const pb::PostDemandRequest* req,
                                       pb::PostDemandResponse* resp) override;
  grpc::ServerUnaryReactor* NominateTeachers(
      grpc::CallbackServerContext* ctx, const pb::NominateTeachersRequest* req,
      pb::NominateTeachersResponse* resp) override;
  grpc::ServerUnaryReactor* SetPlacementConstraint(
      grpc::CallbackServerContext* ctx,
      const pb::SetPlacementConstraintRequest* req,
      pb::SetPlacementConstraintResponse* resp) override;
  grpc::ServerUnaryReactor* SolveRound(grpc::CallbackServerContext* ctx,
                                       const pb::SolveRoundRequest* req,
                                       pb::SolveRoundResponse* resp) override;
  grpc::ServerUnaryReactor* PublishRound(
      grpc::CallbackServerContext* ctx, const pb::PublishRoundRequest* req,
      pb::PublishRoundResponse* resp) override;
  grpc::ServerUnaryReactor* GetRound(grpc::CallbackServerContext* ctx,
                                     const pb::GetRoundRequest* req,
                                     pb::GetRoundResponse* resp) override;
  grpc::ServerUnaryReactor* ListRounds(grpc::CallbackServerContext* ctx,
                                       const pb::ListRoundsRequest* req,
                                       pb::ListRoundsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateCampaign(
      grpc::CallbackServerContext* ctx, const pb::CreateCampaignRequest* req,
      pb::CreateCampaignResponse* resp) override;
  grpc::ServerUnaryReactor* AssignCampaign(
      grpc::CallbackServerContext* ctx, const pb::AssignCampaignRequest* req,
      pb::AssignCampaignResponse* resp) override;
  grpc::ServerUnaryReactor* RecordVisit(grpc::CallbackServerContext* ctx,
                                        const pb::RecordVisitRequest* req,
                                        pb::RecordVisitResponse* resp) override;
  grpc::ServerUnaryReactor* GetHouseholds(
      grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
      pb::GetHouseholdsResponse* resp) override;
  grpc::ServerUnaryReactor* RetryFindings(
      grpc::CallbackServerContext* ctx, const pb::RetryFindingsRequest* req,
      pb::RetryFindingsResponse* resp) override;
  grpc::ServerUnaryReactor* GetCampaignCoverage(
      grpc::CallbackServerContext* ctx,
      const pb::GetCampaignCoverageRequest* req,
      pb::GetCampaignCoverageResponse* resp) override;
  grpc::ServerUnaryReactor* ListMyHouseholds(
      grpc::CallbackServerContext* ctx,
      const pb::ListMyHouseholdsRequest* req,
      pb::ListMyHouseholdsResponse* resp) override;
  grpc::ServerUnaryReactor* ListCampaignHouseholds(
      grpc::CallbackServerContext* ctx,
      const pb::ListCampaignHouseholdsRequest* req,
      pb::ListCampaignHouseholdsResponse* resp) override;
  grpc::ServerUnaryReactor* ListCampaigns(
      grpc::CallbackServerContext* ctx, const pb::ListCampaignsRequest* req,
      pb::ListCampaignsResponse* resp) override;
  grpc::ServerUnaryReactor* AllocateTrainingQuota(
      grpc::CallbackServerContext* ctx,
      const pb::AllocateTrainingQuotaRequest* req,
      pb::AllocateTrainingQuotaResponse* resp) override;
  grpc::ServerUnaryReactor* EnrolTraining(
      grpc::CallbackServerContext* ctx, const pb::EnrolTrainingRequest* req,
      pb::EnrolTrainingResponse* resp) override;
  grpc::ServerUnaryReactor* RecordTrainingAttendance(
      grpc::CallbackServerContext* ctx,
      const pb::RecordTrainingAttendanceRequest* req,
      pb::RecordTrainingAttendanceResponse* resp) override;
  grpc::ServerUnaryReactor* CompleteTraining(
      grpc::CallbackServerContext* ctx, const pb::CompleteTrainingRequest* req,
      pb::CompleteTrainingResponse* resp) override;
  grpc::ServerUnaryReactor* GetTrainingProgramme(
      grpc::CallbackServerContext* ctx,
      const pb::GetTrainingProgrammeRequest* req,
      pb::GetTrainingProgrammeResponse* resp) override;
  grpc::ServerUnaryReactor* ListTrainingProgrammes(
      grpc::CallbackServerContext* ctx,
      const pb::ListTrainingProgrammesRequest* req,
      pb::ListTrainingProgrammesResponse* resp) override;
  grpc::ServerUnaryReactor* ListAuditEvents(
      grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
      pb::ListAuditEventsResponse* resp) override;

 private:
  ServiceHost& host_;
  std::unique_ptr<TeacherSupport> logic_;
};

}  // namespace eduaid::teacher

#endif  // EDUAID_SERVICES_TEACHER_TEACHER_SERVICE_H_
