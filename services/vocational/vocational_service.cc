#include "services/vocational/vocational_service.h"

namespace eduaid::vocational {

VocationalService::VocationalService(ServiceHost& host,
                                     VocationalOptions options)
    : host_(host),
      logic_(std::make_unique<VocationalTraining>(host, std::move(options))) {
  // Who may call what is declared once per method in the proto
  // (option (eduaid.common.v1.policy)) and enforced by the runtime.
}

grpc::ServerUnaryReactor* VocationalService::UpsertCourse(
    grpc::CallbackServerContext* ctx, const pb::UpsertCourseRequest* req,
    pb::UpsertCourseResponse* resp) {
  return host_.runtime().Unary(ctx, "UpsertCourse", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->UpsertCourse(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::GetCourse(
    grpc::CallbackServerContext* ctx, const pb::GetCourseRequest* req,
    pb::GetCourseResponse* resp) {
  return host_.runtime().Unary(ctx, "GetCourse", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetCourse(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::ListCourses(
    grpc::CallbackServerContext* ctx, const pb::ListCoursesRequest* req,
    pb::ListCoursesResponse* resp) {
  return host_.runtime().Unary(ctx, "ListCourses", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListCourses(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::RunOffers(
    grpc::CallbackServerContext* ctx, const pb::RunOffersRequest* req,
    pb::RunOffersResponse* resp) {
  return host_.runtime().Unary(ctx, "RunOffers", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->RunOffers(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::ListOffers(
    grpc::CallbackServerContext* ctx, const pb::ListOffersRequest* req,
    pb::ListOffersResponse* resp) {
  return host_.runtime().Unary(ctx, "ListOffers", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListOffers(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::DeclineOffer(
    grpc::CallbackServerContext* ctx, const pb::DeclineOfferRequest* req,
    pb::DeclineOfferResponse* resp) {
  return host_.runtime().Unary(ctx, "DeclineOffer", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->DeclineOffer(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::ListUnplacedGraduates(
    grpc::CallbackServerContext* ctx,
    const pb::ListUnplacedGraduatesRequest* req,
    pb::ListUnplacedGraduatesResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListUnplacedGraduates", req, [this, req, resp](CallContext& call) {
        return logic_->ListUnplacedGraduates(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* VocationalService::Apply(
    grpc::CallbackServerContext* ctx, const pb::ApplyRequest* req,
    pb::ApplyResponse* resp) {
  return host_.runtime().Unary(ctx, "Apply", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->Apply(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::GetApplication(
    grpc::CallbackServerContext* ctx, const pb::GetApplicationRequest* req,
    pb::GetApplicationResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetApplication", req, [this, req, resp](CallContext& call) {
        return logic_->GetApplication(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* VocationalService::ListApplications(
    grpc::CallbackServerContext* ctx, const pb::ListApplicationsRequest* req,
    pb::ListApplicationsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListApplications", req, [this, req, resp](CallContext& call) {
        return logic_->ListApplications(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* VocationalService::GetWaitlist(
    grpc::CallbackServerContext* ctx, const pb::GetWaitlistRequest* req,
    pb::GetWaitlistResponse* resp) {
  return host_.runtime().Unary(ctx, "GetWaitlist", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetWaitlist(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::Withdraw(
    grpc::CallbackServerContext* ctx, const pb::WithdrawRequest* req,
    pb::WithdrawResponse* resp) {
  return host_.runtime().Unary(ctx, "Withdraw", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->Withdraw(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::RecordAttendance(
    grpc::CallbackServerContext* ctx, const pb::RecordAttendanceRequest* req,
    pb::RecordAttendanceResponse* resp) {
  return host_.runtime().Unary(
      ctx, "RecordAttendance", req, [this, req, resp](CallContext& call) {
        return logic_->RecordAttendance(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* VocationalService::RecordCompletion(
    grpc::CallbackServerContext* ctx, const pb::RecordCompletionRequest* req,
    pb::RecordCompletionResponse* resp) {
  return host_.runtime().Unary(
      ctx, "RecordCompletion", req, [this, req, resp](CallContext& call) {
        return logic_->RecordCompletion(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* VocationalService::RecordOutcome(
    grpc::CallbackServerContext* ctx, const pb::RecordOutcomeRequest* req,
    pb::RecordOutcomeResponse* resp) {
  return host_.runtime().Unary(ctx, "RecordOutcome", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->RecordOutcome(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::GetReport(
    grpc::CallbackServerContext* ctx, const pb::GetReportRequest* req,
    pb::GetReportResponse* resp) {
  return host_.runtime().Unary(ctx, "GetReport", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetReport(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::RaiseTermGrants(
    grpc::CallbackServerContext* ctx, const pb::RaiseTermGrantsRequest* req,
    pb::RaiseTermGrantsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "RaiseTermGrants", req, [this, req, resp](CallContext& call) {
        return logic_->RaiseTermGrants(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* VocationalService::ListGrants(
    grpc::CallbackServerContext* ctx, const pb::ListGrantsRequest* req,
    pb::ListGrantsResponse* resp) {
  return host_.runtime().Unary(ctx, "ListGrants", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListGrants(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::RetryGrants(
    grpc::CallbackServerContext* ctx, const pb::RetryGrantsRequest* req,
    pb::RetryGrantsResponse* resp) {
  return host_.runtime().Unary(ctx, "RetryGrants", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->RetryGrants(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* VocationalService::ListAuditEvents(
    grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
    pb::ListAuditEventsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListAuditEvents", req, [this, req, resp](CallContext& call) {
        return logic_->ListAuditEvents(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* VocationalService::GetHouseholds(
    grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
    pb::GetHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->GetHouseholds(call, *req, resp);
      });
}

}  // namespace eduaid::vocational
