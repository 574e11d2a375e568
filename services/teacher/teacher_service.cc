#include "services/teacher/teacher_service.h"

namespace eduaid::teacher {

TeacherService::TeacherService(ServiceHost& host, TeacherOptions options)
    : host_(host),
      logic_(std::make_unique<TeacherSupport>(host, std::move(options))) {
  // Who may call what is declared once per method in the proto
  // (option (eduaid.common.v1.policy)) and enforced by the runtime.
}

grpc::ServerUnaryReactor* TeacherService::ImportTeachers(
    grpc::CallbackServerContext* ctx, const pb::ImportTeachersRequest* req,
    pb::ImportTeachersResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ImportTeachers", req, [this, req, resp](CallContext& call) {
        return logic_->ImportTeachers(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::GetTeacher(
    grpc::CallbackServerContext* ctx, const pb::GetTeacherRequest* req,
    pb::GetTeacherResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetTeacher", req,
      [this, req, resp](CallContext& call) {
        return logic_->GetTeacher(call, *req, resp);
      },
      [this, req, resp](CallContext& call) {
        return logic_->GetTeacherFast(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::ListTeachers(
    grpc::CallbackServerContext* ctx, const pb::ListTeachersRequest* req,
    pb::ListTeachersResponse* resp) {
  return host_.runtime().Unary(ctx, "ListTeachers", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListTeachers(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::DeactivateTeacher(
    grpc::CallbackServerContext* ctx, const pb::DeactivateTeacherRequest* req,
    pb::DeactivateTeacherResponse* resp) {
  return host_.runtime().Unary(
      ctx, "DeactivateTeacher", req, [this, req, resp](CallContext& call) {
        return logic_->DeactivateTeacher(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::CreateRound(
    grpc::CallbackServerContext* ctx, const pb::CreateRoundRequest* req,
    pb::CreateRoundResponse* resp) {
  return host_.runtime().Unary(ctx, "CreateRound", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->CreateRound(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::PostDemand(
    grpc::CallbackServerContext* ctx, const pb::PostDemandRequest* req,
    pb::PostDemandResponse* resp) {
  return host_.runtime().Unary(ctx, "PostDemand", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->PostDemand(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::NominateTeachers(
    grpc::CallbackServerContext* ctx, const pb::NominateTeachersRequest* req,
    pb::NominateTeachersResponse* resp) {
  return host_.runtime().Unary(
      ctx, "NominateTeachers", req, [this, req, resp](CallContext& call) {
        return logic_->NominateTeachers(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::SetPlacementConstraint(
    grpc::CallbackServerContext* ctx,
    const pb::SetPlacementConstraintRequest* req,
    pb::SetPlacementConstraintResponse* resp) {
  return host_.runtime().Unary(
      ctx, "SetPlacementConstraint", req, [this, req, resp](CallContext& call) {
        return logic_->SetPlacementConstraint(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::SolveRound(
    grpc::CallbackServerContext* ctx, const pb::SolveRoundRequest* req,
    pb::SolveRoundResponse* resp) {
  return host_.runtime().Unary(ctx, "SolveRound", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->SolveRound(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::PublishRound(
    grpc::CallbackServerContext* ctx, const pb::PublishRoundRequest* req,
    pb::PublishRoundResponse* resp) {
  return host_.runtime().Unary(ctx, "PublishRound", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->PublishRound(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::GetRound(
    grpc::CallbackServerContext* ctx, const pb::GetRoundRequest* req,
    pb::GetRoundResponse* resp) {
  return host_.runtime().Unary(ctx, "GetRound", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetRound(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::ListRounds(
    grpc::CallbackServerContext* ctx, const pb::ListRoundsRequest* req,
    pb::ListRoundsResponse* resp) {
  return host_.runtime().Unary(ctx, "ListRounds", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListRounds(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::CreateCampaign(
    grpc::CallbackServerContext* ctx, const pb::CreateCampaignRequest* req,
    pb::CreateCampaignResponse* resp) {
  return host_.runtime().Unary(
      ctx, "CreateCampaign", req, [this, req, resp](CallContext& call) {
        return logic_->CreateCampaign(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::AssignCampaign(
    grpc::CallbackServerContext* ctx, const pb::AssignCampaignRequest* req,
    pb::AssignCampaignResponse* resp) {
  return host_.runtime().Unary(
      ctx, "AssignCampaign", req, [this, req, resp](CallContext& call) {
        return logic_->AssignCampaign(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::RecordVisit(
    grpc::CallbackServerContext* ctx, const pb::RecordVisitRequest* req,
    pb::RecordVisitResponse* resp) {
  return host_.runtime().Unary(ctx, "RecordVisit", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->RecordVisit(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::GetHouseholds(
    grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
    pb::GetHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->GetHouseholds(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::RetryFindings(
    grpc::CallbackServerContext* ctx, const pb::RetryFindingsRequest* req,
    pb::RetryFindingsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "RetryFindings", req, [this, req, resp](CallContext& call) {
        return logic_->RetryFindings(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::GetCampaignCoverage(
    grpc::CallbackServerContext* ctx, const pb::GetCampaignCoverageRequest* req,
    pb::GetCampaignCoverageResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetCampaignCoverage", req, [this, req, resp](CallContext& call) {
        return logic_->GetCampaignCoverage(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::ListCampaignHouseholds(
    grpc::CallbackServerContext* ctx,
    const pb::ListCampaignHouseholdsRequest* req,
    pb::ListCampaignHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListCampaignHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->ListCampaignHouseholds(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::ListMyHouseholds(
    grpc::CallbackServerContext* ctx, const pb::ListMyHouseholdsRequest* req,
    pb::ListMyHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListMyHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->ListMyHouseholds(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::ListCampaigns(
    grpc::CallbackServerContext* ctx, const pb::ListCampaignsRequest* req,
    pb::ListCampaignsResponse* resp) {
  return host_.runtime().Unary(ctx, "ListCampaigns", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListCampaigns(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::AllocateTrainingQuota(
    grpc::CallbackServerContext* ctx,
    const pb::AllocateTrainingQuotaRequest* req,
    pb::AllocateTrainingQuotaResponse* resp) {
  return host_.runtime().Unary(
      ctx, "AllocateTrainingQuota", req, [this, req, resp](CallContext& call) {
        return logic_->AllocateTrainingQuota(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::EnrolTraining(
    grpc::CallbackServerContext* ctx, const pb::EnrolTrainingRequest* req,
    pb::EnrolTrainingResponse* resp) {
  return host_.runtime().Unary(ctx, "EnrolTraining", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->EnrolTraining(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::RecordTrainingAttendance(
    grpc::CallbackServerContext* ctx,
    const pb::RecordTrainingAttendanceRequest* req,
    pb::RecordTrainingAttendanceResponse* resp) {
  return host_.runtime().Unary(ctx, "RecordTrainingAttendance", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->RecordTrainingAttendance(
                                     call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* TeacherService::CompleteTraining(
    grpc::CallbackServerContext* ctx, const pb::CompleteTrainingRequest* req,
    pb::CompleteTrainingResponse* resp) {
  return host_.runtime().Unary(
      ctx, "CompleteTraining", req, [this, req, resp](CallContext& call) {
        return logic_->CompleteTraining(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::GetTrainingProgramme(
    grpc::CallbackServerContext* ctx,
    const pb::GetTrainingProgrammeRequest* req,
    pb::GetTrainingProgrammeResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetTrainingProgramme", req, [this, req, resp](CallContext& call) {
        return logic_->GetTrainingProgramme(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::ListTrainingProgrammes(
    grpc::CallbackServerContext* ctx,
    const pb::ListTrainingProgrammesRequest* req,
    pb::ListTrainingProgrammesResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListTrainingProgrammes", req, [this, req, resp](CallContext& call) {
        return logic_->ListTrainingProgrammes(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* TeacherService::ListAuditEvents(
    grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
    pb::ListAuditEventsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListAuditEvents", req, [this, req, resp](CallContext& call) {
        return logic_->ListAuditEvents(call, *req, resp);
      });
}

}  // namespace eduaid::teacher
