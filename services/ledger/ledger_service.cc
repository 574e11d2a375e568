#include "services/ledger/ledger_service.h"

namespace eduaid::ledger {

LedgerService::LedgerService(ServiceHost& host, LedgerOptions options)
    : host_(host), logic_(std::make_unique<Ledger>(host, std::move(options))) {
  // Who may call what is declared once per method in the proto
  // (option (eduaid.common.v1.policy)) and enforced by the runtime.
}

grpc::ServerUnaryReactor* LedgerService::LoadPolicy(
    grpc::CallbackServerContext* ctx, const pb::LoadPolicyRequest* req,
    pb::LoadPolicyResponse* resp) {
  return host_.runtime().Unary(ctx, "LoadPolicy", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->LoadPolicy(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::ListProgrammes(
    grpc::CallbackServerContext* ctx, const pb::ListProgrammesRequest* req,
    pb::ListProgrammesResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListProgrammes", req, [this, req, resp](CallContext& call) {
        return logic_->ListProgrammes(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::GenerateEntitlements(
    grpc::CallbackServerContext* ctx,
    const pb::GenerateEntitlementsRequest* req,
    pb::GenerateEntitlementsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GenerateEntitlements", req, [this, req, resp](CallContext& call) {
        return logic_->GenerateEntitlements(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::CreateEntitlement(
    grpc::CallbackServerContext* ctx, const pb::CreateEntitlementRequest* req,
    pb::CreateEntitlementResponse* resp) {
  return host_.runtime().Unary(
      ctx, "CreateEntitlement", req, [this, req, resp](CallContext& call) {
        return logic_->CreateEntitlement(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::ListEntitlements(
    grpc::CallbackServerContext* ctx, const pb::ListEntitlementsRequest* req,
    pb::ListEntitlementsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListEntitlements", req, [this, req, resp](CallContext& call) {
        return logic_->ListEntitlements(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::CancelEntitlement(
    grpc::CallbackServerContext* ctx, const pb::CancelEntitlementRequest* req,
    pb::CancelEntitlementResponse* resp) {
  return host_.runtime().Unary(
      ctx, "CancelEntitlement", req, [this, req, resp](CallContext& call) {
        return logic_->CancelEntitlement(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::CreateBatch(
    grpc::CallbackServerContext* ctx, const pb::CreateBatchRequest* req,
    pb::CreateBatchResponse* resp) {
  return host_.runtime().Unary(ctx, "CreateBatch", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->CreateBatch(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::ApproveBatch(
    grpc::CallbackServerContext* ctx, const pb::ApproveBatchRequest* req,
    pb::ApproveBatchResponse* resp) {
  return host_.runtime().Unary(ctx, "ApproveBatch", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ApproveBatch(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::ExecuteBatch(
    grpc::CallbackServerContext* ctx, const pb::ExecuteBatchRequest* req,
    pb::ExecuteBatchResponse* resp) {
  return host_.runtime().Unary(ctx, "ExecuteBatch", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ExecuteBatch(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::CancelBatch(
    grpc::CallbackServerContext* ctx, const pb::CancelBatchRequest* req,
    pb::CancelBatchResponse* resp) {
  return host_.runtime().Unary(ctx, "CancelBatch", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->CancelBatch(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::GetBatch(
    grpc::CallbackServerContext* ctx, const pb::GetBatchRequest* req,
    pb::GetBatchResponse* resp) {
  return host_.runtime().Unary(ctx, "GetBatch", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetBatch(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::ListBatches(
    grpc::CallbackServerContext* ctx, const pb::ListBatchesRequest* req,
    pb::ListBatchesResponse* resp) {
  return host_.runtime().Unary(ctx, "ListBatches", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListBatches(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::DisburseEntitlement(
    grpc::CallbackServerContext* ctx, const pb::DisburseEntitlementRequest* req,
    pb::DisburseEntitlementResponse* resp) {
  return host_.runtime().Unary(
      ctx, "DisburseEntitlement", req, [this, req, resp](CallContext& call) {
        return logic_->DisburseEntitlement(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::ListPayments(
    grpc::CallbackServerContext* ctx, const pb::ListPaymentsRequest* req,
    pb::ListPaymentsResponse* resp) {
  return host_.runtime().Unary(ctx, "ListPayments", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->ListPayments(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::ReversePayment(
    grpc::CallbackServerContext* ctx, const pb::ReversePaymentRequest* req,
    pb::ReversePaymentResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ReversePayment", req, [this, req, resp](CallContext& call) {
        return logic_->ReversePayment(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::GetNotice(
    grpc::CallbackServerContext* ctx, const pb::GetNoticeRequest* req,
    pb::GetNoticeResponse* resp) {
  return host_.runtime().Unary(ctx, "GetNotice", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetNotice(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::AcknowledgeNotice(
    grpc::CallbackServerContext* ctx, const pb::AcknowledgeNoticeRequest* req,
    pb::AcknowledgeNoticeResponse* resp) {
  return host_.runtime().Unary(
      ctx, "AcknowledgeNotice", req, [this, req, resp](CallContext& call) {
        return logic_->AcknowledgeNotice(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::RecordFollowUp(
    grpc::CallbackServerContext* ctx, const pb::RecordFollowUpRequest* req,
    pb::RecordFollowUpResponse* resp) {
  return host_.runtime().Unary(
      ctx, "RecordFollowUp", req, [this, req, resp](CallContext& call) {
        return logic_->RecordFollowUp(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::OpenGrievance(
    grpc::CallbackServerContext* ctx, const pb::OpenGrievanceRequest* req,
    pb::OpenGrievanceResponse* resp) {
  return host_.runtime().Unary(ctx, "OpenGrievance", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->OpenGrievance(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::ResolveGrievance(
    grpc::CallbackServerContext* ctx, const pb::ResolveGrievanceRequest* req,
    pb::ResolveGrievanceResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ResolveGrievance", req, [this, req, resp](CallContext& call) {
        return logic_->ResolveGrievance(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::ListGrievances(
    grpc::CallbackServerContext* ctx, const pb::ListGrievancesRequest* req,
    pb::ListGrievancesResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListGrievances", req, [this, req, resp](CallContext& call) {
        return logic_->ListGrievances(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::GetPaymentChain(
    grpc::CallbackServerContext* ctx, const pb::GetPaymentChainRequest* req,
    pb::GetPaymentChainResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetPaymentChain", req, [this, req, resp](CallContext& call) {
        return logic_->GetPaymentChain(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::GetHouseholds(
    grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
    pb::GetHouseholdsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetHouseholds", req, [this, req, resp](CallContext& call) {
        return logic_->GetHouseholds(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::Reconcile(
    grpc::CallbackServerContext* ctx, const pb::ReconcileRequest* req,
    pb::ReconcileResponse* resp) {
  return host_.runtime().Unary(ctx, "Reconcile", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->Reconcile(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::CreatePosting(
    grpc::CallbackServerContext* ctx, const pb::CreatePostingRequest* req,
    pb::CreatePostingResponse* resp) {
  return host_.runtime().Unary(ctx, "CreatePosting", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->CreatePosting(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::GetPosting(
    grpc::CallbackServerContext* ctx, const pb::GetPostingRequest* req,
    pb::GetPostingResponse* resp) {
  return host_.runtime().Unary(ctx, "GetPosting", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->GetPosting(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::FileObjection(
    grpc::CallbackServerContext* ctx, const pb::FileObjectionRequest* req,
    pb::FileObjectionResponse* resp) {
  return host_.runtime().Unary(ctx, "FileObjection", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->FileObjection(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::VerifyJournal(
    grpc::CallbackServerContext* ctx, const pb::VerifyJournalRequest* req,
    pb::VerifyJournalResponse* resp) {
  return host_.runtime().Unary(ctx, "VerifyJournal", req,
                               [this, req, resp](CallContext& call) {
                                 return logic_->VerifyJournal(call, *req, resp);
                               });
}

grpc::ServerUnaryReactor* LedgerService::GetTrialBalance(
    grpc::CallbackServerContext* ctx, const pb::GetTrialBalanceRequest* req,
    pb::GetTrialBalanceResponse* resp) {
  return host_.runtime().Unary(
      ctx, "GetTrialBalance", req, [this, req, resp](CallContext& call) {
        return logic_->GetTrialBalance(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::ListJournalEntries(
    grpc::CallbackServerContext* ctx, const pb::ListJournalEntriesRequest* req,
    pb::ListJournalEntriesResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListJournalEntries", req, [this, req, resp](CallContext& call) {
        return logic_->ListJournalEntries(call, *req, resp);
      });
}

grpc::ServerUnaryReactor* LedgerService::ListAuditEvents(
    grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
    pb::ListAuditEventsResponse* resp) {
  return host_.runtime().Unary(
      ctx, "ListAuditEvents", req, [this, req, resp](CallContext& call) {
        return logic_->ListAuditEvents(call, *req, resp);
      });
}

}  // namespace eduaid::ledger
