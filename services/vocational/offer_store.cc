#include "services/vocational/offer_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/household_ids.h"
#include "services/common/status_macros.h"

namespace eduaid::vocational {

namespace cpb = ::eduaid::common::v1;

OfferRecord OfferFromRow(const SqlRow& r) {
  OfferRecord o;
  o.id = r.Int(0);
  o.member_id = r.Str(1);
  o.name_enc = r.Str(2);
  o.region = r.Str(3);
  o.graduation_year = r.Int(4);
  o.junior_high_school = r.Str(5);
  o.household_status = r.Int(6);
  o.state = r.Int(7);
  o.offered_on = r.Str(8);
  o.expires_on = r.Str(9);
  o.closed_on = r.Str(10);
  o.note = r.Str(11);
  o.application_id = r.Int(12);
  return o;
}

pb::OfferState EffectiveOfferState(int64_t stored,
                                   const std::string& expires_on,
                                   const std::string& today) {
  if (stored == pb::OFFER_STATE_OPEN && expires_on < today) {
    return pb::OFFER_STATE_EXPIRED;
  }
  return static_cast<pb::OfferState>(stored);
}

pb::Offer ToProto(const OfferRecord& r, const std::string& shown_name,
                  const std::string& today) {
  pb::Offer o;
  o.set_offer_id(r.id);
  o.set_member_id(r.member_id);
  o.set_name(shown_name);
  o.set_region_code(r.region);
  o.set_graduation_year(static_cast<int32_t>(r.graduation_year));
  o.set_junior_high_school_code(r.junior_high_school);
  o.set_household_status(static_cast<cpb::HouseholdStatus>(r.household_status));
  o.set_state(EffectiveOfferState(r.state, r.expires_on, today));
  o.set_offered_on(r.offered_on);
  o.set_expires_on(r.expires_on);
  o.set_closed_on(o.state() == pb::OFFER_STATE_EXPIRED && r.closed_on.empty()
                      ? r.expires_on
                      : r.closed_on);
  o.set_note(r.note);
  o.set_application_id(r.application_id);
  return o;
}

absl::StatusOr<OfferRecord> ReadOffer(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows, c.Query(absl::StrCat("SELECT ", kOfferColumns,
                                                   " FROM offers WHERE id = ?"),
                                      {id}));
  if (rows.empty()) return absl::NotFoundError("offer_id: no such offer");
  return OfferFromRow(rows.front());
}

absl::StatusOr<std::vector<OfferRecord>> ListOfferPage(
    SqlConnection& c, const std::string& region_prefix, int64_t year,
    pb::OfferState state, const std::string& today, const SchoolScope& school,
    int64_t after, int64_t limit) {
  std::vector<SqlValue> params = {region_prefix + "%", year,          year,
                                  school.only,         school.school, after};
  std::string state_clause;
  switch (state) {
    case pb::OFFER_STATE_UNSPECIFIED:
      break;
    case pb::OFFER_STATE_OPEN:
      state_clause = " AND state = 1 AND expires_on >= ?";
      params.push_back(today);
      break;
    case pb::OFFER_STATE_EXPIRED:
      state_clause = " AND (state = 4 OR (state = 1 AND expires_on < ?))";
      params.push_back(today);
      break;
    default:
      state_clause = " AND state = ?";
      params.push_back(int64_t{state});
  }
  params.push_back(limit);
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kOfferColumns,
                           " FROM offers WHERE region_code LIKE ? AND (? = 0 "
                           "OR graduation_year = ?) AND ",
                           SchoolClause("junior_high_school"), " AND id > ?",
                           state_clause, " ORDER BY id LIMIT ?"),
              params));
  std::vector<OfferRecord> out;
  for (const auto& r : rows) out.push_back(OfferFromRow(r));
  return out;
}

absl::StatusOr<std::vector<OfferRef>> OpenOffers(
    SqlConnection& c, const std::string& region_prefix, int64_t year) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT id, member_id FROM offers WHERE region_code LIKE ? AND "
              "graduation_year = ? AND state = 1",
              {region_prefix + "%", year}));
  std::vector<OfferRef> out;
  for (const auto& r : rows) {
    OfferRef o;
    o.id = r.Int(0);
    o.member_id = r.Str(1);
    o.state = pb::OFFER_STATE_OPEN;
    out.push_back(std::move(o));
  }
  return out;
}

absl::StatusOr<std::vector<OfferRecord>> OffersOfMembers(
    SqlConnection& c, const std::vector<std::string>& member_ids) {
  std::vector<OfferRecord> out;
  if (member_ids.empty()) return out;
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(absl::StrCat("SELECT ", kOfferColumns,
                           " FROM offers WHERE member_id IN ",
                           SqlInList(member_ids.size()), " ORDER BY id"),
              std::vector<SqlValue>(member_ids.begin(), member_ids.end())));
  for (const auto& r : rows) out.push_back(OfferFromRow(r));
  return out;
}

absl::StatusOr<std::vector<OfferRef>> OffersOfYear(
    SqlConnection& c, const std::string& region_prefix, int64_t year) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT member_id, id, state, expires_on, note FROM offers "
              "WHERE region_code LIKE ? AND graduation_year = ? ORDER BY id",
              {region_prefix + "%", year}));
  std::vector<OfferRef> out;
  for (const auto& r : rows) {
    out.push_back({r.Int(1), r.Str(0), r.Int(2), r.Str(3), r.Str(4)});
  }
  return out;
}

absl::StatusOr<std::optional<int64_t>> OpenOfferOf(SqlConnection& c,
                                                   const std::string& member_id,
                                                   const std::string& today) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query("SELECT id FROM offers WHERE member_id = ? AND "
                           "state = 1 AND expires_on >= ? ORDER BY id DESC "
                           "LIMIT 1",
                           {member_id, today}));
  if (rows.empty()) return std::nullopt;
  return rows.front().Int(0);
}

absl::Status ExpireOffers(SqlConnection& c, const std::string& region_prefix,
                          const std::string& today) {
  return c
      .Execute(
          "UPDATE offers SET state = 4, closed_on = expires_on WHERE "
          "region_code LIKE ? AND state = 1 AND expires_on < ?",
          {region_prefix + "%", today})
      .status();
}

absl::StatusOr<bool> InsertOffer(SqlConnection& c, const NewOffer& o) {
  ASSIGN_OR_RETURN(
      const int64_t n,
      c.Execute("INSERT INTO offers(member_id, region_code, graduation_year, "
                "name_enc, junior_high_school, household_status, state, "
                "offered_on, expires_on, closed_on, note, application_id, "
                "created_at) VALUES(?,?,?,?,?,?,1,?,?,'','',0,?) "
                "ON CONFLICT(member_id, graduation_year) DO NOTHING",
                {o.member_id, o.region, o.graduation_year, o.name_enc,
                 o.junior_high_school, o.household_status, o.offered_on,
                 o.expires_on, o.created_at}));
  return n == 1;
}

absl::StatusOr<bool> WithdrawOffer(SqlConnection& c, int64_t id,
                                   const std::string& note,
                                   const std::string& today) {
  ASSIGN_OR_RETURN(const int64_t n,
                   c.Execute("UPDATE offers SET state = 5, note = ?, "
                             "closed_on = ? WHERE id = ? AND state = 1",
                             {note, today, id}));
  return n > 0;
}

absl::Status DeclineOpenOffer(SqlConnection& c, int64_t id,
                              const std::string& reason,
                              const std::string& today) {
  return c
      .Execute(
          "UPDATE offers SET state = 3, note = ?, closed_on = ? WHERE "
          "id = ? AND state = 1",
          {reason, today, id})
      .status();
}

absl::Status AcceptOffer(SqlConnection& c, int64_t id, int64_t application_id,
                         const std::string& today) {
  return c
      .Execute(
          "UPDATE offers SET state = 2, application_id = ?, closed_on = ? "
          "WHERE id = ?",
          {application_id, today, id})
      .status();
}

}  // namespace eduaid::vocational
