#include "services/registry/registry_service.h"

namespace eduaid::registry {

RegistryService::RegistryService(ServiceHost& host)
    : host_(host), logic_(std::make_unique<Registry>(host)) {
  // Who may call what is declared once per method in the proto
  // (option (eduaid.common.v1.policy)) and enforced by the runtime.
}

grpc::ServerUnaryReactor* RegistryService::ImportHouseholds(
    grpc::CallbackServerContext* ctx, const pb::ImportHouseholdsRequest* req,
    pb::ImportHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ImportHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->ImportHouseholds(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::UpsertSchool(
    grpc::CallbackServerContext* ctx, const pb::UpsertSchoolRequest* req,
    pb::UpsertSchoolResponse* resp) {
  return host_.runtime().Unary(ctx, "UpsertSchool", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->UpsertSchool(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* RegistryService::ListSchools(
    grpc::CallbackServerContext* ctx, const pb::ListSchoolsRequest* req,
    pb::ListSchoolsResponse* resp) {
  return host_.runtime().Unary(ctx, "ListSchools", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListSchools(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* RegistryService::RecordEnrolments(
    grpc::CallbackServerContext* ctx, const pb::RecordEnrolmentsRequest* req,
    pb::RecordEnrolmentsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "RecordEnrolments", req, [this, req, resp](CallContext& call) {
        return logic_->RecordEnrolments(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::TransferStudent(
    grpc::CallbackServerContext* ctx, const pb::TransferStudentRequest* req,
    pb::TransferStudentResponse* resp) {
  return host_.runtime().Unary(
      ctx, "TransferStudent", req, [this, req, resp](CallContext& call) {
        return logic_->TransferStudent(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::RunIdentification(
    grpc::CallbackServerContext* ctx, const pb::RunIdentificationRequest* req,
    pb::RunIdentificationResponse* resp) {
  return host_.runtime().Unary(
      ctx, "RunIdentification", req, [this, req, resp](CallContext& call) {
        return logic_->RunIdentification(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::GetStudent(
    grpc::CallbackServerContext* ctx, const pb::GetStudentRequest* req,
    pb::GetStudentResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetStudent", req,
      [this, req, resp](CallContext& call) {
        return logic_->GetStudent(call, *req, resp);
      },
      [this, req, resp](CallContext& call) {
        return logic_->GetStudentFast(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::ListStudents(
    grpc::CallbackServerContext* ctx, const pb::ListStudentsRequest* req,
    pb::ListStudentsResponse* resp) {
  return host_.runtime().Unary(ctx, "ListStudents", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListStudents(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* RegistryService::ListOutOfSchool(
    grpc::CallbackServerContext* ctx, const pb::ListOutOfSchoolRequest* req,
    pb::ListOutOfSchoolResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListOutOfSchool", req, [this, req, resp](CallContext& call) {
        return logic_->ListOutOfSchool(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::GetCoverage(
    grpc::CallbackServerContext* ctx, const pb::GetCoverageRequest* req,
    pb::GetCoverageResponse* resp) {
  return host_.runtime().Unary(ctx, "GetCoverage", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetCoverage(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* RegistryService::OpenDropoutCase(
    grpc::CallbackServerContext* ctx, const pb::OpenDropoutCaseRequest* req,
    pb::OpenDropoutCaseResponse* resp) {
  return host_.runtime().Unary(
      ctx, "OpenDropoutCase", req, [this, req, resp](CallContext& call) {
        return logic_->OpenDropoutCase(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::UpdateDropoutCase(
    grpc::CallbackServerContext* ctx, const pb::UpdateDropoutCaseRequest* req,
    pb::UpdateDropoutCaseResponse* resp) {
  return host_.runtime().Unary(
      ctx, "UpdateDropoutCase", req, [this, req, resp](CallContext& call) {
        return logic_->UpdateDropoutCase(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::ListDropoutCases(
    grpc::CallbackServerContext* ctx, const pb::ListDropoutCasesRequest* req,
    pb::ListDropoutCasesResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListDropoutCases", req, [this, req, resp](CallContext& call) {
        return logic_->ListDropoutCases(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::SetLeftBehind(
    grpc::CallbackServerContext* ctx, const pb::SetLeftBehindRequest* req,
    pb::SetLeftBehindResponse* resp) {
  return host_.runtime().Unary(ctx, "SetLeftBehind", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->SetLeftBehind(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* RegistryService::SetDisabilityPlan(
    grpc::CallbackServerContext* ctx, const pb::SetDisabilityPlanRequest* req,
    pb::SetDisabilityPlanResponse* resp) {
  return host_.runtime().Unary(
      ctx, "SetDisabilityPlan", req, [this, req, resp](CallContext& call) {
        return logic_->SetDisabilityPlan(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::ListSpecialGroups(
    grpc::CallbackServerContext* ctx, const pb::ListSpecialGroupsRequest* req,
    pb::ListSpecialGroupsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListSpecialGroups", req, [this, req, resp](CallContext& call) {
        return logic_->ListSpecialGroups(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::ListHouseholds(
    grpc::CallbackServerContext* ctx, const pb::ListHouseholdsRequest* req,
    pb::ListHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->ListHouseholds(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::GetHouseholds(
    grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
    pb::GetHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->GetHouseholds(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* RegistryService::ListAuditEvents(
    grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
    pb::ListAuditEventsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListAuditEvents", req, [this, req, resp](CallContext& call) {
        return logic_->ListAuditEvents(call, *req, resp);
      });
}

}  // namespace eduaid::registry
