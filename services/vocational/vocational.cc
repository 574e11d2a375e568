// The parts of VocationalTraining every RPC shares: construction, start
// and stop, names (encrypted at rest, masked for agencies), and the
// effects applied after a transaction commits.
#include "services/vocational/vocational.h"

#include <set>

#include "services/common/cache.h"
#include "services/common/crypto.h"
#include "services/common/idempotency.h"
#include "services/common/service_host.h"
#include "services/common/status_macros.h"
#include "services/common/validate.h"

namespace eduaid::vocational {

VocationalTraining::VocationalTraining(ServiceHost& host,
                                       VocationalOptions options)
    : host_(host),
      db_(host.db()),
      options_(std::move(options)),
      registry_channel_(
          host.Peer(options_.registry_target, options_.registry_deadline)),
      registry_(std::make_unique<RegistryClient>(*registry_channel_,
                                                 options_.registry_target)),
      outbox_(host.db(), host.crypto(),
              host.Peer(options_.ledger_target, options_.ledger_deadline),
              host.metrics(), options_.outbox),
      enrolments_(prometheus::BuildCounter()
                      .Name("eduaid_vocational_enrolments_total")
                      .Help("Places taken (at application or from the "
                            "waitlist), by course kind and county of the "
                            "course")
                      .Register(host.metrics())),
      offers_created_(prometheus::BuildCounter()
                          .Name("eduaid_vocational_offers_created_total")
                          .Help("Offers of free vocational enrolment made to "
                                "junior-high graduates, by county")
                          .Register(host.metrics())),
      fill_ratio_(prometheus::BuildGauge()
                      .Name("eduaid_vocational_fill_ratio")
                      .Help("Places taken / capacity, per course code")
                      .Register(host.metrics())),
      waitlist_length_(prometheus::BuildGauge()
                           .Name("eduaid_vocational_waitlist_length")
                           .Help("Applicants on the waitlist, per course code")
                           .Register(host.metrics())) {}

VocationalTraining::~VocationalTraining() { StopGrantDelivery(); }

absl::Status VocationalTraining::Start() {
  std::vector<std::string> codes;
  RETURN_IF_ERROR(db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(codes, ListCourseCodes(c));
    return absl::OkStatus();
  }));
  RefreshCourseGauges(codes);
  return outbox_.Start();
}

void VocationalTraining::StopGrantDelivery() { outbox_.Stop(); }

std::string VocationalTraining::Decrypt(const std::string& enc) const {
  if (enc.empty()) return "";
  auto plain = host_.crypto().Decrypt(enc, kCtxApplicantName);
  return plain.ok() ? *plain : "";
}

std::string VocationalTraining::ShowName(const Principal& p,
                                         const std::string& name_enc) const {
  std::string name = Decrypt(name_enc);
  return p.SeesPersonalData() ? name : MaskName(name);
}

std::string VocationalTraining::ShowOfferName(const Principal& p,
                                              const OfferRecord& offer) const {
  auto name = host_.crypto().Decrypt(offer.name_enc, kCtxOfferName);
  const std::string plain = name.ok() ? *name : "";
  return p.SeesPersonalData() ? plain : MaskName(plain);
}

absl::Status VocationalTraining::RestoreNames(
    const Principal& p, const std::vector<pb::Application*>& apps) {
  if (apps.empty()) return absl::OkStatus();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    for (pb::Application* a : apps) {
      ASSIGN_OR_RETURN(auto name_enc, ReadNameEnc(c, a->application_id()));
      if (name_enc) a->set_name(ShowName(p, *name_enc));
    }
    return absl::OkStatus();
  });
}

bool VocationalTraining::Answered(const Principal& caller,
                                  const std::string& request_id) {
  auto seen = host_.requests().Seen(caller, request_id);
  return seen.ok() && *seen;
}

void VocationalTraining::RefreshCourseGauges(
    const std::vector<std::string>& codes) {
  if (codes.empty()) return;
  (void)db_.Read([&](SqlConnection& c) -> absl::Status {
    ASSIGN_OR_RETURN(auto fills, ReadCourseFill(c, codes));
    for (const auto& [code, fill] : fills) {
      fill_ratio_.Add({{"course", code}})
          .Set(fill.capacity > 0 ? static_cast<double>(fill.taken) /
                                       static_cast<double>(fill.capacity)
                                 : 0.0);
      waitlist_length_.Add({{"course", code}})
          .Set(static_cast<double>(fill.waitlisted));
    }
    return absl::OkStatus();
  });
}

void VocationalTraining::AfterCommit(const Effects& fx) {
  if (fx.grants_queued) outbox_.Notify();
  for (const auto& [kind, region] : fx.enrolled_labels) {
    enrolments_.Add({{"kind", kind}, {"region", region}}).Increment();
  }
  std::set<std::string> unique(fx.courses.begin(), fx.courses.end());
  std::vector<std::string> codes(unique.begin(), unique.end());
  RefreshCourseGauges(codes);
  std::vector<std::string> keys;
  for (const auto& code : codes) keys.push_back(CourseCacheKey(code));
  if (!keys.empty()) host_.cache().Invalidate(keys);
  if (fx.grants_queued) (void)outbox_.RefreshBacklog();
}

}  // namespace eduaid::vocational
