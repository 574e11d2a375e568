// Offers of free vocational enrolment to junior-high graduates (table
// offers): the typed offer record, its columns beside its row reader,
// every statement on the table, and the proto mapping. Every function
// runs inside the caller's transaction or read on `c` and returns the
// database's error unchanged.
#ifndef EDUAID_SERVICES_VOCATIONAL_OFFER_STORE_H_
#define EDUAID_SERVICES_VOCATIONAL_OFFER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "eduaid/vocational/v1/vocational.pb.h"
#include "services/common/school_scope.h"
#include "services/common/sql.h"

namespace eduaid::vocational {

namespace pb = ::eduaid::vocational::v1;

// Associated data of the encrypted graduate name.
inline constexpr char kCtxOfferName[] = "vocational.offers.name";

struct OfferRecord {
  int64_t id = 0;
  std::string member_id, name_enc, region;
  int64_t graduation_year = 0;
  std::string junior_high_school;
  int64_t household_status = 0, state = 0;
  std::string offered_on, expires_on, closed_on, note;
  int64_t application_id = 0;
};

// Columns in the order OfferFromRow() reads them.
inline constexpr char kOfferColumns[] =
    "id, member_id, name_enc, region_code, graduation_year, "
    "junior_high_school, household_status, state, offered_on, expires_on, "
    "closed_on, note, application_id";

OfferRecord OfferFromRow(const SqlRow& r);

// The offer's effective state on `today`: an open offer past its expiry
// reads EXPIRED.
pb::OfferState EffectiveOfferState(int64_t stored,
                                   const std::string& expires_on,
                                   const std::string& today);
// The offer as answered on `today` with `shown_name` (full or masked).
pb::Offer ToProto(const OfferRecord& o, const std::string& shown_name,
                  const std::string& today);

// NOT_FOUND naming offer_id when there is none.
absl::StatusOr<OfferRecord> ReadOffer(SqlConnection& c, int64_t id);

// One page of offers with id > `after`: region prefix, graduation year
// (0 = any), state as of `today` (0 = any) and school scope.
absl::StatusOr<std::vector<OfferRecord>> ListOfferPage(
    SqlConnection& c, const std::string& region_prefix, int64_t year,
    pb::OfferState state, const std::string& today, const SchoolScope& school,
    int64_t after, int64_t limit);

// Every offer of `member_ids`, in id order.
absl::StatusOr<std::vector<OfferRecord>> OffersOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids);
// Open offers of the region and graduation year: (id, member_id).
struct OfferRef {
  int64_t id = 0;
  std::string member_id;
  int64_t state = 0;
  std::string expires_on, note;
};
absl::StatusOr<std::vector<OfferRef>> OpenOffers(
    SqlConnection& c, const std::string& region_prefix, int64_t year);
// Every offer of the region and graduation year, in id order.
absl::StatusOr<std::vector<OfferRef>> OffersOfYear(
    SqlConnection& c, const std::string& region_prefix, int64_t year);
// The member's latest offer still open on `today`.
absl::StatusOr<std::optional<int64_t>> OpenOfferOf(SqlConnection& c,
                                                   const std::string& member_id,
                                                   const std::string& today);

// Open offers of the region past their expiry become EXPIRED.
absl::Status ExpireOffers(SqlConnection& c, const std::string& region_prefix,
                          const std::string& today);
struct NewOffer {
  std::string member_id, region;
  int64_t graduation_year = 0;
  std::string name_enc, junior_high_school;
  int64_t household_status = 0;
  std::string offered_on, expires_on;
  int64_t created_at = 0;
};
// True when added; false when the member has an offer of that year.
absl::StatusOr<bool> InsertOffer(SqlConnection& c, const NewOffer& o);
// Open -> WITHDRAWN (the graduate went on, `note` says where); true when
// it was open.
absl::StatusOr<bool> WithdrawOffer(SqlConnection& c, int64_t id,
                                   const std::string& note,
                                   const std::string& today);
// Open -> DECLINED.
absl::Status DeclineOpenOffer(SqlConnection& c, int64_t id,
                              const std::string& reason,
                              const std::string& today);
// -> ACCEPTED by application `application_id`.
absl::Status AcceptOffer(SqlConnection& c, int64_t id, int64_t application_id,
                         const std::string& today);

}  // namespace eduaid::vocational

#endif  // EDUAID_SERVICES_VOCATIONAL_OFFER_STORE_H_
