// gRPC adapter of the ledger: each method hands its work to
// ServiceRuntime::Unary, which authenticates, refuses writes by read-only
// roles, rate-limits, runs the logic on the worker pool and audits.
#ifndef EDUAID_SERVICES_LEDGER_LEDGER_SERVICE_H_
#define EDUAID_SERVICES_LEDGER_LEDGER_SERVICE_H_

#include <memory>

#include "eduaid/ledger/v1/ledger.grpc.pb.h"
#include "services/common/service_host.h"
#include "services/ledger/ledger.h"

namespace eduaid::ledger {

class LedgerService final : public pb::SubsidyLedgerService::CallbackService {
 public:
  // `host` must outlive the service, and be destroyed first (its worker
  // pool runs the ledger's batch execution).
  explicit LedgerService(ServiceHost& host, LedgerOptions options = {});
  Ledger& logic() { return *logic_; }

  grpc::ServerUnaryReactor* LoadPolicy(grpc::CallbackServerContext* ctx,
                                       const pb::LoadPolicyRequest* req,
                                       pb::LoadPolicyResponse* resp) override;
  grpc::ServerUnaryReactor* ListProgrammes(
      grpc::CallbackServerContext* ctx, const pb::ListProgrammesRequest* req,
      pb::ListProgrammesResponse* resp) override;
  grpc::ServerUnaryReactor* GenerateEntitlements(
      grpc::CallbackServerContext* ctx,
      const pb::GenerateEntitlementsRequest* req,
      pb::GenerateEntitlementsResponse* resp) override;
  grpc::ServerUnaryReactor* CreateEntitlement(
      grpc::CallbackServerContext* ctx, const pb::CreateEntitlementRequest* req,
      pb::CreateEntitlementResponse* resp) override;
  grpc::ServerUnaryReactor* ListEntitlements(
      grpc::CallbackServerContext* ctx, const pb::ListEntitlementsRequest* req,
      pb::ListEntitlementsResponse* resp) override;
  grpc::ServerUnaryReactor* CancelEntitlement(
      grpc::CallbackServerContext* ctx, const pb::CancelEntitlementRequest* req,
      pb::CancelEntitlementResponse* resp) override;
  grpc::ServerUnaryReactor* CreateBatch(grpc::CallbackServerContext* ctx,
                                        const pb::CreateBatchRequest* req,
                                        pb::CreateBatchResponse* resp) override;
  grpc::ServerUnaryReactor* ApproveBatch(
      grpc::CallbackServerContext* ctx, const pb::ApproveBatchRequest* req,
      pb::ApproveBatchResponse* resp) override;
  grpc::ServerUnaryReactor* ExecuteBatch(
      grpc::CallbackServerContext* ctx, const pb::ExecuteBatchRequest* req,
      pb::ExecuteBatchResponse* resp) override;
  grpc::ServerUnaryReactor* CancelBatch(grpc::CallbackServerContext* ctx,
                                        const pb::CancelBatchRequest* req,
                                        pb::CancelBatchResponse* resp) override;
  grpc::ServerUnaryReactor* GetBatch(grpc::CallbackServerContext* ctx,
                                     const pb::GetBatchRequest* req,
                                     pb::GetBatchResponse* resp) override;
  grpc::ServerUnaryReactor* ListBatches(grpc::CallbackServerContext* ctx,
                                        const pb::ListBatchesRequest* req,
                                        pb::ListBatchesResponse* resp) override;
  grpc::ServerUnaryReactor* DisburseEntitlement(
      grpc::CallbackServerContext* ctx,
      const pb::DisburseEntitlementRequest* req,
      pb::DisburseEntitlementResponse* resp) override;
  grpc::ServerUnaryReactor* ListPayments(
      grpc::CallbackServerContext* ctx, const pb::ListPaymentsRequest* req,
      pb::ListPaymentsResponse* resp) override;
  grpc::ServerUnaryReactor* ReversePayment(
      grpc::CallbackServerContext* ctx, const pb::ReversePaymentRequest* req,
      pb::ReversePaymentResponse* resp) override;
  grpc::ServerUnaryReactor* GetNotice(grpc::CallbackServerContext* ctx,
                                      const pb::GetNoticeRequest* req,
                                      pb::GetNoticeResponse* resp) override;
  grpc::ServerUnaryReactor* AcknowledgeNotice(
      grpc::CallbackServerContext* ctx, const pb::AcknowledgeNoticeRequest* req,
      pb::AcknowledgeNoticeResponse* resp) override;
  grpc::ServerUnaryReactor* RecordFollowUp(
      grpc::CallbackServerContext* ctx, const pb::RecordFollowUpRequest* req,
      pb::RecordFollowUpResponse* resp) override;
  grpc::ServerUnaryReactor* OpenGrievance(
      grpc::CallbackServerContext* ctx, const pb::OpenGrievanceRequest* req,
      pb::OpenGrievanceResponse* resp) override;
  grpc::ServerUnaryReactor* ResolveGrievance(
      grpc::CallbackServerContext* ctx, const pb::ResolveGrievanceRequest* req,
      pb::ResolveGrievanceResponse* resp) override;
  grpc::ServerUnaryReactor* ListGrievances(
      grpc::CallbackServerContext* ctx, const pb::ListGrievancesRequest* req,
      pb::ListGrievancesResponse* resp) override;
  grpc::ServerUnaryReactor* GetPaymentChain(
      grpc::CallbackServerContext* ctx, const pb::GetPaymentChainRequest* req,
      pb::GetPaymentChainResponse* resp) override;
  grpc::ServerUnaryReactor* GetHouseholds(
      grpc::CallbackServerContext* ctx, const pb::GetHouseholdsRequest* req,
      pb::GetHouseholdsResponse* resp) override;
  grpc::ServerUnaryReactor* Reconcile(grpc::CallbackServerContext* ctx,
                                      const pb::ReconcileRequest* req,
                                      pb::ReconcileResponse* resp) override;
  grpc::ServerUnaryReactor* CreatePosting(
      grpc::CallbackServerContext* ctx, const pb::CreatePostingRequest* req,
      pb::CreatePostingResponse* resp) override;
  grpc::ServerUnaryReactor* GetPosting(grpc::CallbackServerContext* ctx,
                                       const pb::GetPostingRequest* req,
                                       pb::GetPostingResponse* resp) override;
  grpc::ServerUnaryReactor* FileObjection(
      grpc::CallbackServerContext* ctx, const pb::FileObjectionRequest* req,
      pb::FileObjectionResponse* resp) override;
  grpc::ServerUnaryReactor* VerifyJournal(
      grpc::CallbackServerContext* ctx, const pb::VerifyJournalRequest* req,
      pb::VerifyJournalResponse* resp) override;
  grpc::ServerUnaryReactor* GetTrialBalance(
      grpc::CallbackServerContext* ctx, const pb::GetTrialBalanceRequest* req,
      pb::GetTrialBalanceResponse* resp) override;
  grpc::ServerUnaryReactor* ListJournalEntries(
      grpc::CallbackServerContext* ctx,
      const pb::ListJournalEntriesRequest* req,
      pb::ListJournalEntriesResponse* resp) override;
  grpc::ServerUnaryReactor* ListAuditEvents(
      grpc::CallbackServerContext* ctx, const pb::ListAuditEventsRequest* req,
      pb::ListAuditEventsResponse* resp) override;

 private:
  ServiceHost& host_;
  std::unique_ptr<Ledger> logic_;
};

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_LEDGER_SERVICE_H_
