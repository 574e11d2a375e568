#include "services/registry/registry.h"

#include <ctime>
#include <future>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "services/common/idempotency.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"

namespace eduaid::registry {
namespace {

namespace cpb = ::eduaid::common::v1;

constexpr char kCtxId[] = "registry.members.id_number";
constexpr char kCtxName[] = "registry.members.name";
constexpr char kCtxCarer[] = "registry.left_behind.carer_name";
constexpr char kCtxHash[] = "registry.id_number";

// GetStudent's answers for a key that matches no one the caller may see.
constexpr char kNoSuchIdNumber[] =
    "no registered household member has this ID number";
constexpr char kNoSuchMember[] = "no such member";

#define RETURN_IF_ERROR(expr)  \
  do {                         \
    absl::Status _st = (expr); \
    if (!_st.ok()) return _st; \
  } while (0)

int64_t NowSec() { return static_cast<int64_t>(time(nullptr)); }

std::string FormatTs(int64_t sec) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(sec),
                          absl::UTCTimeZone());
}

// "YYYY-MM-DD" minus `years`.
std::string YearsBefore(const std::string& date, int years) {
  int y = std::stoi(date.substr(0, 4)) - years;
  return absl::StrCat(y, date.substr(4));
}

// The school-age band (6..15 years on `as_of`) by birth month, the only
// birth data kept in clear: born after the first month and no later than
// the second ("YYYY-MM"). A child born in the month six years before
// `as_of` counts as six for the whole month.
std::pair<std::string, std::string> SchoolAgeMonths(const std::string& as_of) {
  return {YearsBefore(as_of, 16).substr(0, 7),
          YearsBefore(as_of, 6).substr(0, 7)};
}

int BirthYearOf(const std::string& birth_month) {
  int y = 0;
  return absl::SimpleAtoi(birth_month.substr(0, 4), &y) ? y : 0;
}

// Whole years on `today` of a child born in `birth_month`, counted from the
// first of the month (the rule of SchoolAgeMonths).
int AgeFromMonth(const std::string& birth_month, const std::string& today) {
  if (birth_month.size() != 7) return 0;
  return AgeOn(birth_month + "-01", today);
}

// An SQL condition: member `m` lies in the scope of `region` (a prefix)
// and `school` ("" = any, else a current enrolment there); appends its
// parameters to `params`. A county code is matched by equality, so a
// county's counts are an index range, not a scan of the province.
std::string MemberInScope(const std::string& region, const std::string& school,
                          std::vector<SqlValue>* params) {
  std::string sql;
  if (region.empty()) {
    sql = "1 = 1";
  } else if (region.size() == 6) {
    sql = "m.region_code = ?";
    params->emplace_back(region);
  } else {
    sql = "m.region_code LIKE ?";
    params->emplace_back(region + "%");
  }
  if (!school.empty()) {
    sql +=
        " AND EXISTS (SELECT 1 FROM enrolments se WHERE se.id_hash = "
        "m.id_hash AND se.current = 1 AND se.school_code = ?)";
    params->emplace_back(school);
  }
  return sql;
}

// An SQL condition: dropout case `d` is of a child whose current enrolment
// is at the school bound twice ('' = any school).
constexpr char kCaseAtSchool[] =
    "(? = '' OR EXISTS (SELECT 1 FROM members cm JOIN enrolments ce ON "
    "ce.id_hash = cm.id_hash AND ce.current = 1 WHERE cm.id = d.member_id AND "
    "ce.school_code = ?))";

// What a write answers about a student: enough to confirm the change, no
// more (the answer is kept as the request's idempotency record): the ID
// number masked, no birth date, no enrolment history.
void TrimWriteAnswer(pb::Student* s) {
  s->set_id_number(MaskIdNumber(s->id_number()));
  s->clear_birth_date();
  s->clear_enrolment_history();
}

bool IsCode(absl::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(c) || c == '-')) return false;
  }
  return true;
}

int MaxGrade(cpb::SchoolStage stage) {
  switch (stage) {
    case cpb::SCHOOL_STAGE_PRESCHOOL:
      return 3;
    case cpb::SCHOOL_STAGE_PRIMARY:
      return 6;
    case cpb::SCHOOL_STAGE_JUNIOR_HIGH:
      return 3;
    case cpb::SCHOOL_STAGE_SENIOR_HIGH:
      return 3;
    case cpb::SCHOOL_STAGE_SECONDARY_VOCATIONAL:
      return 3;
    case cpb::SCHOOL_STAGE_HIGHER:
      return 8;
    default:
      return 0;
  }
}

bool ValidStage(int v) {
  return cpb::SchoolStage_IsValid(v) && v != cpb::SCHOOL_STAGE_UNSPECIFIED;
}

absl::Status ValidateTerm(absl::string_view field, const cpb::Term& term) {
  if (term.year() < 2000 || term.year() > 2100) {
    return InvalidField(absl::StrCat(field, ".year"), "must be 2000..2100");
  }
  if (!cpb::Season_IsValid(term.season()) ||
      term.season() == cpb::SEASON_UNSPECIFIED) {
    return InvalidField(absl::StrCat(field, ".season"),
                        "must be SEASON_AUTUMN or SEASON_SPRING");
  }
  return absl::OkStatus();
}

std::string StagesToText(const google::protobuf::RepeatedField<int>& stages) {
  std::string out = ",";
  for (int s : stages) absl::StrAppend(&out, s, ",");
  return out;
}

void StagesFromText(const std::string& text, pb::School* school) {
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    int v = 0;
    if (absl::SimpleAtoi(part, &v)) {
      school->add_stages(static_cast<cpb::SchoolStage>(v));
    }
  }
}

// Columns: school_code, school_name, stage, grade, term_year, term_season,
// status, boarder, recorded_at, reason, current, school_region.
void FillEnrolment(const SqlRow& r, size_t at, pb::Enrolment* e) {
  e->set_school_code(r.Str(at));
  e->set_school_name(r.Str(at + 1));
  e->set_stage(static_cast<cpb::SchoolStage>(r.Int(at + 2)));
  e->set_grade(static_cast<int32_t>(r.Int(at + 3)));
  e->mutable_term()->set_year(static_cast<int32_t>(r.Int(at + 4)));
  e->mutable_term()->set_season(static_cast<cpb::Season>(r.Int(at + 5)));
  e->set_status(static_cast<pb::EnrolmentStatus>(r.Int(at + 6)));
  e->set_boarder(r.Int(at + 7) != 0);
  e->set_recorded_at(FormatTs(r.Int(at + 8)));
  e->set_reason(r.Str(at + 9));
  e->set_current(r.Int(at + 10) != 0);
  e->set_school_region_code(r.Str(at + 11));
}

constexpr char kEnrolmentCols[] =
    "e.school_code, COALESCE(s.name, ''), e.stage, e.grade, e.term_year, "
    "e.term_season, e.status, e.boarder, e.recorded_at, e.reason, e.current, "
    "COALESCE(s.region_code, '')";

bool AllowedTransition(int64_t from, int64_t to) {
  using S = pb::DropoutCaseState;
  switch (from) {
    case S::DROPOUT_CASE_STATE_OPEN:
    case S::DROPOUT_CASE_STATE_VISITED:
      return to == S::DROPOUT_CASE_STATE_VISITED ||
             to == S::DROPOUT_CASE_STATE_RETURNED ||
             to == S::DROPOUT_CASE_STATE_EXEMPT ||
             to == S::DROPOUT_CASE_STATE_ESCALATED;
    case S::DROPOUT_CASE_STATE_ESCALATED:
      return to == S::DROPOUT_CASE_STATE_VISITED ||
             to == S::DROPOUT_CASE_STATE_RETURNED ||
             to == S::DROPOUT_CASE_STATE_EXEMPT;
    default:
      return false;
  }
}

absl::StatusOr<int64_t> DecodeIdCursor(const std::string& token,
                                       const std::string& filters) {
  auto last = DecodePageToken(token, filters);
  if (!last.ok()) return last.status();
  if (last->empty()) return 0;
  int64_t v = 0;
  if (!absl::SimpleAtoi(*last, &v)) {
    return InvalidField("page_token", "is not a token this service issued");
  }
  return v;
}

}  // namespace

std::string MemberIdString(int64_t id) { return absl::StrCat("m-", id); }

absl::StatusOr<int64_t> ParseMemberId(absl::string_view field,
                                      absl::string_view member_id) {
  int64_t v = 0;
  if (!absl::ConsumePrefix(&member_id, "m-") ||
      !absl::SimpleAtoi(member_id, &v) || v <= 0) {
    return InvalidField(field, "must be a member id like m-123");
  }
  return v;
}

Registry::Registry(ServiceHost& host) : host_(host), db_(host.db()) {
  auto& rows = prometheus::BuildCounter()
                   .Name("eduaid_registry_import_rows_total")
                   .Help("Rows received by bulk imports, by result")
                   .Register(host.metrics());
  rows_accepted_ = &rows.Add({{"result", "accepted"}});
  rows_rejected_ = &rows.Add({{"result", "rejected"}});
  out_of_school_gauge_ =
      &prometheus::BuildGauge()
           .Name("eduaid_registry_out_of_school")
           .Help(
               "School-age children of registered households found in no "
               "school, per county, at the last identification run")
           .Register(host.metrics());
}

absl::Status CheckBlindIndexFormat(Database& db) {
  bool old = false;
  absl::Status st = db.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        "SELECT 1 FROM members WHERE length(id_hash) = 32 UNION ALL "
        "SELECT 1 FROM enrolments WHERE length(id_hash) = 32 LIMIT 1");
    if (!rows.ok()) return rows.status();
    old = !rows->empty();
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  if (old) {
    return absl::FailedPreconditionError(
        "the registry database holds blind indexes written by an earlier "
        "build (before the county prefix) and cannot be re-keyed in place: "
        "re-create it (locally: remove var/registry.db*) and import again");
  }
  return absl::OkStatus();
}

std::string Registry::IdHash(const std::string& id_number) const {
  // 128 bits of the keyed hash (collision-free at any realistic scale, half
  // the index size of the full 256) behind the ID number's first six
  // digits, the county that issued it. With that prefix a county's import
  // lands in one part of the unique index instead of dirtying a random
  // index page per row, which made every commit write most of the index to
  // the WAL (3x less commit time at 400k rows). The prefix says no more
  // than the region stored in clear beside it (and in the masked form).
  return absl::StrCat(id_number.substr(0, 6),
                      host_.crypto().ShortIndex(id_number, kCtxHash));
}

absl::StatusOr<Registry::Scope> Registry::ScopeOf(
    const Principal& p, absl::string_view region_filter) {
  auto region = ScopeRegionFilter(p, region_filter);
  if (!region.ok()) return region.status();
  Scope scope{*region, ""};
  if (p.role == Role::kSchoolOfficer) {
    if (p.school.empty()) {
      return absl::PermissionDeniedError(
          "a school officer's token must name its school");
    }
    scope.school = p.school;
  }
  return scope;
}

std::string Registry::StudentCacheKey(const std::string& id_hash) const {
  return CacheKey("registry", "student", id_hash);
}

std::string Registry::DecryptOrEmpty(const std::string& enc,
                                     absl::string_view context) const {
  if (enc.empty()) return "";
  auto plain = host_.crypto().Decrypt(enc, context);
  return plain.ok() ? *plain : "";
}

// ---------------------------------------------------------------- import

absl::Status Registry::ImportHouseholds(CallContext& call,
                                        const pb::ImportHouseholdsRequest& req,
                                        pb::ImportHouseholdsResponse* resp) {
  // The poverty registration database is loaded by the education bureaus,
  // not by schools.
  RETURN_IF_ERROR(
      CheckRole(call.principal, {Role::kProvinceOfficer, Role::kCityOfficer,
                                 Role::kCountyOfficer, Role::kService}));
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.rows_size() == 0) return InvalidField("rows", "must not be empty");
  if (req.rows_size() > kMaxRowsPerCall) {
    return InvalidField(
        "rows", absl::StrCat("at most ", kMaxRowsPerCall, " rows per call"));
  }
  struct Prepared {
    int64_t row_number;
    std::string household_id, region, id_hash, id_enc, id_masked, name_enc,
        birth_month;
    int64_t year, status, male, relation;
  };
  std::vector<Prepared> good;
  good.reserve(req.rows_size());
  std::vector<cpb::RowError> errors;
  std::unordered_map<std::string, int64_t> seen_ids;
  std::unordered_map<std::string, const pb::HouseholdMemberRow*> households;
  const int this_year = std::stoi(TodayCst().substr(0, 4));
  for (int i = 0; i < req.rows_size(); ++i) {
    const auto& row = req.rows(i);
    int64_t rn = row.row_number() > 0 ? row.row_number() : i + 1;
    size_t before = errors.size();
    auto bad = [&](const absl::Status& st) {
      for (const auto& v : FieldViolationsOf(st)) {
        cpb::RowError e;
        e.set_row_number(rn);
        e.set_field(v.field);
        e.set_rule(v.rule);
        errors.push_back(std::move(e));
      }
    };
    if (!IsCode(row.household_id(), 32)) {
      bad(InvalidField("household_id", "must be 1..32 of A-Z a-z 0-9 -"));
    }
    absl::Status region_st =
        ValidateRegionCode("region_code", row.region_code());
    if (!region_st.ok()) {
      bad(region_st);
    } else if (!call.principal.Covers(row.region_code())) {
      return absl::PermissionDeniedError(absl::StrCat(
          "row ", rn, ": region_code lies outside the caller's region scope '",
          call.principal.region, "'; nothing was imported"));
    }
    if (row.registration_year() < 2013 || row.registration_year() > this_year) {
      bad(InvalidField("registration_year",
                       absl::StrCat("must be 2013..", this_year)));
    }
    if (!cpb::HouseholdStatus_IsValid(row.household_status()) ||
        row.household_status() == cpb::HOUSEHOLD_STATUS_UNSPECIFIED) {
      bad(InvalidField("household_status", "must be POOR or LIFTED"));
    }
    if (!pb::Relation_IsValid(row.relation()) ||
        row.relation() == pb::RELATION_UNSPECIFIED) {
      bad(InvalidField("relation", "must be a known relation to the head"));
    }
    absl::Status name_st = ValidateText("name", row.name(), 50);
    if (!name_st.ok()) bad(name_st);
    auto info = ValidateIdNumber("id_number", row.id_number());
    if (!info.ok()) bad(info.status());
    std::string id = NormalizeIdNumber(row.id_number());
    if (info.ok()) {
      auto [it, inserted] = seen_ids.emplace(id, rn);
      if (!inserted) {
        bad(InvalidField(
            "id_number",
            absl::StrCat("duplicated in this request (first at row ",
                         it->second, ")")));
      }
    }
    if (errors.size() == before) {
      auto [hit, first] = households.emplace(row.household_id(), &row);
      const auto* h = hit->second;
      if (!first && (h->region_code() != row.region_code() ||
                     h->registration_year() != row.registration_year() ||
                     h->household_status() != row.household_status())) {
        bad(InvalidField("household_id",
                         absl::StrCat("conflicts with row ", h->row_number(),
                                      " of the same household (region, year "
                                      "or status differ)")));
      }
    }
    if (errors.size() != before) continue;
    Prepared p;
    p.row_number = rn;
    p.household_id = row.household_id();
    p.region = row.region_code();
    p.year = row.registration_year();
    p.status = row.household_status();
    p.id_hash = IdHash(id);
    p.id_enc = host_.crypto().Encrypt(id, kCtxId);
    p.id_masked = MaskIdNumber(id);
    p.name_enc = host_.crypto().Encrypt(row.name(), kCtxName);
    p.birth_month = info->birth_date().substr(0, 7);
    p.male = info->male;
    p.relation = row.relation();
    good.push_back(std::move(p));
  }

  std::vector<std::string> touched;
  std::vector<std::pair<std::string, int64_t>> gauges;
  absl::Status st = host_.requests().Run(
      call.principal, "ImportHouseholds", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        touched.clear();
        int64_t now = NowSec();
        // New households and members go in with multi-row INSERTs that
        // skip existing keys (ON CONFLICT DO NOTHING RETURNING tells which
        // were new); only the rows that already existed are looked up and
        // updated.
        struct Existing {
          std::string region;
          int64_t year = 0, status = 0, id = 0;
        };
        // Runs `head` + n tuples + `tail` in chunks of 100, 10 and 1 rows
        // (three statement shapes to prepare), `bind(i, params)` adding row
        // i's values; collects the first RETURNING column.
        auto insert_new =
            [&](const std::string& head, const std::string& tuple,
                const std::string& tail, size_t n, auto bind,
                std::unordered_set<std::string>* created) -> absl::Status {
          std::vector<SqlValue> params;
          std::string sql;
          for (size_t i = 0; i < n;) {
            const size_t k = n - i >= 100 ? 100 : n - i >= 10 ? 10 : 1;
            sql = head;
            for (size_t j = 0; j < k; ++j) {
              if (j > 0) sql += ',';
              sql += tuple;
            }
            sql += tail;
            params.clear();
            for (size_t j = 0; j < k; ++j) bind(i + j, params);
            auto rows = c.Query(sql, params);
            if (!rows.ok()) return rows.status();
            for (const auto& r : *rows) created->insert(r.Str(0));
            i += k;
          }
          return absl::OkStatus();
        };
        // Looks `keys` up with `select` + "(?,...)" in chunks of 400.
        auto lookup =
            [&](const char* select, const std::vector<const std::string*>& keys,
                bool member, std::unordered_map<std::string, Existing>* out)
            -> absl::Status {
          constexpr size_t kChunk = 400;
          std::vector<SqlValue> params;
          for (size_t i = 0; i < keys.size(); i += kChunk) {
            const size_t k = std::min(kChunk, keys.size() - i);
            std::string sql = select;
            sql += "(?";
            for (size_t j = 1; j < k; ++j) sql += ",?";
            sql += ")";
            params.clear();
            for (size_t j = 0; j < k; ++j) params.emplace_back(*keys[i + j]);
            auto rows = c.Query(sql, params);
            if (!rows.ok()) return rows.status();
            for (const auto& r : *rows) {
              Existing e;
              e.region = r.Str(1);
              if (member) {
                e.id = r.Int(2);
              } else {
                e.year = r.Int(2);
                e.status = r.Int(3);
              }
              (*out)[r.Str(0)] = std::move(e);
            }
          }
          return absl::OkStatus();
        };

        // Households: the first row of each, in batch order.
        std::vector<const Prepared*> households_first;
        {
          std::unordered_set<std::string> seen;
          for (const auto& p : good) {
            if (seen.insert(p.household_id).second)
              households_first.push_back(&p);
          }
        }
        std::unordered_set<std::string> households_new;
        absl::Status ins = insert_new(
            "INSERT INTO households(household_id, region_code, "
            "registration_year, status, updated_at) VALUES ",
            "(?,?,?,?,?)",
            " ON CONFLICT(household_id) DO NOTHING RETURNING "
            "household_id",
            households_first.size(),
            [&](size_t i, std::vector<SqlValue>& v) {
              const Prepared& p = *households_first[i];
              v.emplace_back(p.household_id);
              v.emplace_back(p.region);
              v.emplace_back(p.year);
              v.emplace_back(p.status);
              v.emplace_back(now);
            },
            &households_new);
        if (!ins.ok()) return ins;
        resp->set_households_created(
            static_cast<int64_t>(households_new.size()));
        std::vector<const std::string*> old_keys;
        for (const Prepared* p : households_first) {
          if (!households_new.count(p->household_id))
            old_keys.push_back(&p->household_id);
        }
        std::unordered_map<std::string, Existing> households_found;
        absl::Status looked = lookup(
            "SELECT household_id, region_code, registration_year, status "
            "FROM households WHERE household_id IN ",
            old_keys, false, &households_found);
        if (!looked.ok()) return looked;
        for (const Prepared* pp : households_first) {
          const Prepared& p = *pp;
          auto found = households_found.find(p.household_id);
          if (found == households_found.end()) continue;  // new
          const Existing& old = found->second;
          if (!call.principal.Covers(old.region)) {
            return absl::PermissionDeniedError(absl::StrCat(
                "row ", p.row_number,
                ": household is registered outside the caller's region "
                "scope; nothing was imported"));
          }
          if (old.region != p.region || old.year != p.year ||
              old.status != p.status) {
            auto up = c.Execute(
                "UPDATE households SET region_code = ?, "
                "registration_year = ?, status = ?, updated_at = ? "
                "WHERE household_id = ?",
                {p.region, p.year, p.status, now, p.household_id});
            if (!up.ok()) return up.status();
            auto mem =
                c.Query("SELECT id_hash FROM members WHERE household_id = ?",
                        {p.household_id});
            if (!mem.ok()) return mem.status();
            for (const auto& m : *mem) touched.push_back(m.Str(0));
            if (old.region != p.region) {
              auto mv = c.Execute(
                  "UPDATE members SET region_code = ? WHERE household_id = ?",
                  {p.region, p.household_id});
              if (!mv.ok()) return mv.status();
            }
          }
          resp->set_households_updated(resp->households_updated() + 1);
        }

        // Members, in row order (member ids follow the file).
        std::unordered_set<std::string> members_new;
        ins = insert_new(
            "INSERT INTO members(id_hash, id_enc, id_masked, name_enc, "
            "household_id, region_code, birth_month, male, relation, "
            "updated_at) VALUES ",
            "(?,?,?,?,?,?,?,?,?,?)",
            " ON CONFLICT(id_hash) DO NOTHING RETURNING id_hash", good.size(),
            [&](size_t i, std::vector<SqlValue>& v) {
              const Prepared& p = good[i];
              v.emplace_back(p.id_hash);
              v.emplace_back(p.id_enc);
              v.emplace_back(p.id_masked);
              v.emplace_back(p.name_enc);
              v.emplace_back(p.household_id);
              v.emplace_back(p.region);
              v.emplace_back(p.birth_month);
              v.emplace_back(p.male);
              v.emplace_back(p.relation);
              v.emplace_back(now);
            },
            &members_new);
        if (!ins.ok()) return ins;
        resp->set_members_created(static_cast<int64_t>(members_new.size()));
        old_keys.clear();
        for (const Prepared& p : good) {
          if (!members_new.count(p.id_hash)) old_keys.push_back(&p.id_hash);
        }
        std::unordered_map<std::string, Existing> members_found;
        looked = lookup(
            "SELECT id_hash, region_code, id FROM members WHERE id_hash IN ",
            old_keys, true, &members_found);
        if (!looked.ok()) return looked;
        for (const auto& p : good) {
          touched.push_back(p.id_hash);
          auto m = members_found.find(p.id_hash);
          if (m == members_found.end()) continue;  // new
          if (!call.principal.Covers(m->second.region)) {
            return absl::PermissionDeniedError(absl::StrCat(
                "row ", p.row_number,
                ": member is registered outside the caller's region scope; "
                "nothing was imported"));
          }
          auto up = c.Execute(
              "UPDATE members SET id_enc = ?, name_enc = ?, household_id = "
              "?, region_code = ?, relation = ?, updated_at = ? WHERE id = ?",
              {p.id_enc, p.name_enc, p.household_id, p.region, p.relation, now,
               m->second.id});
          if (!up.ok()) return up.status();
          resp->set_members_updated(resp->members_updated() + 1);
        }
        resp->set_accepted_rows(static_cast<int64_t>(good.size()));
        resp->set_rejected_rows(req.rows_size() -
                                static_cast<int64_t>(good.size()));
        for (auto& e : errors) *resp->add_errors() = e;
        if (!req.skip_identification()) {
          // Only what this write touched is re-identified, and the caller
          // hears of its own scope only; RunIdentification is the full pass.
          auto scope = ScopeOf(call.principal);
          if (!scope.ok()) return scope.status();
          auto summary = Identify(c, TodayCst(), &touched, *scope);
          if (!summary.ok()) return summary.status();
          *resp->mutable_identification() = *summary;
        }
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  rows_accepted_->Increment(static_cast<double>(resp->accepted_rows()));
  rows_rejected_->Increment(static_cast<double>(resp->rejected_rows()));
  std::vector<std::string> keys;
  keys.reserve(touched.size());
  for (const auto& h : touched) keys.push_back(StudentCacheKey(h));
  if (!keys.empty()) host_.cache().Invalidate(keys);
  call.AddRecord(
      absl::StrCat("rows:", resp->accepted_rows(), "/", req.rows_size()));
  return absl::OkStatus();
}

// ---------------------------------------------------------------- schools

absl::Status Registry::UpsertSchool(CallContext& call,
                                    const pb::UpsertSchoolRequest& req,
                                    pb::UpsertSchoolResponse* resp) {
  RETURN_IF_ERROR(
      CheckRole(call.principal, {Role::kProvinceOfficer, Role::kCityOfficer,
                                 Role::kCountyOfficer, Role::kService}));
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  const auto& s = req.school();
  std::vector<FieldViolation> v;
  if (!IsCode(s.code(), 20)) {
    v.push_back({"school.code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  auto add = [&](const absl::Status& st) {
    for (auto& f : FieldViolationsOf(st))
      v.push_back({"school." + f.field, f.rule});
  };
  add(ValidateText("name", s.name(), 100));
  add(ValidateRegionCode("region_code", s.region_code()));
  if (s.stages_size() == 0) v.push_back({"school.stages", "must not be empty"});
  for (int st : s.stages()) {
    if (!ValidStage(st)) {
      v.push_back({"school.stages", "contains an unknown school stage"});
      break;
    }
  }
  if (!v.empty()) return InvalidFields(v);
  RETURN_IF_ERROR(CheckRegion(call.principal, s.region_code()));
  call.AddRecord(absl::StrCat("school:", s.code()));
  return host_.requests().Run(
      call.principal, "UpsertSchool", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto old = c.Query("SELECT region_code FROM schools WHERE code = ?",
                           {s.code()});
        if (!old.ok()) return old.status();
        if (!old->empty() && !call.principal.Covers(old->front().Str(0))) {
          return CheckRegion(call.principal, old->front().Str(0));
        }
        auto r = c.Execute(
            "INSERT INTO schools(code, name, region_code, stages, rural, "
            "updated_at) VALUES(?,?,?,?,?,?) ON CONFLICT(code) DO UPDATE SET "
            "name = excluded.name, region_code = excluded.region_code, "
            "stages = excluded.stages, rural = excluded.rural, "
            "updated_at = excluded.updated_at",
            {s.code(), s.name(), s.region_code(), StagesToText(s.stages()),
             int64_t{s.rural()}, NowSec()});
        if (!r.ok()) return r.status();
        *resp->mutable_school() = s;
        resp->set_created(old->empty());
        return absl::OkStatus();
      });
}

absl::Status Registry::ListSchools(CallContext& call,
                                   const pb::ListSchoolsRequest& req,
                                   pb::ListSchoolsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!cpb::SchoolStage_IsValid(req.stage())) {
    return InvalidField("stage", "is not a known school stage");
  }
  auto size = ValidatePageSize("page_size", req.page_size());
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  std::string filters = absl::StrCat("schools|", *region, "|", req.stage());
  auto last = DecodePageToken(req.page_token(), filters);
  if (!last.ok()) return last.status();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        "SELECT code, name, region_code, stages, rural FROM schools "
        "WHERE region_code LIKE ? AND (? = 0 OR stages LIKE ?) AND code > ? "
        "ORDER BY code LIMIT ?",
        {*region + "%", int64_t{req.stage()},
         absl::StrCat("%,", req.stage(), ",%"), *last, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      const auto& r = (*rows)[i];
      auto* s = resp->add_schools();
      s->set_code(r.Str(0));
      s->set_name(r.Str(1));
      s->set_region_code(r.Str(2));
      StagesFromText(r.Str(3), s);
      s->set_rural(r.Int(4) != 0);
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(
          EncodePageToken(resp->schools(*size - 1).code(), filters));
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- enrolments

absl::Status Registry::RecordEnrolments(CallContext& call,
                                        const pb::RecordEnrolmentsRequest& req,
                                        pb::RecordEnrolmentsResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.rows_size() == 0) return InvalidField("rows", "must not be empty");
  if (req.rows_size() > kMaxRowsPerCall) {
    return InvalidField(
        "rows", absl::StrCat("at most ", kMaxRowsPerCall, " rows per call"));
  }
  struct Prepared {
    int64_t row_number;
    std::string id_hash;
    const pb::EnrolmentRow* row;
  };
  std::vector<Prepared> good;
  std::vector<cpb::RowError> errors;
  std::unordered_map<std::string, int64_t> seen;
  for (int i = 0; i < req.rows_size(); ++i) {
    const auto& row = req.rows(i);
    int64_t rn = row.row_number() > 0 ? row.row_number() : i + 1;
    size_t before = errors.size();
    auto bad = [&](const absl::Status& st) {
      for (const auto& v : FieldViolationsOf(st)) {
        cpb::RowError e;
        e.set_row_number(rn);
        e.set_field(v.field);
        e.set_rule(v.rule);
        errors.push_back(std::move(e));
      }
    };
    auto info = ValidateIdNumber("id_number", row.id_number());
    if (!info.ok()) bad(info.status());
    if (!IsCode(row.school_code(), 20)) {
      bad(InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -"));
    }
    if (!ValidStage(row.stage())) {
      bad(InvalidField("stage", "must be a known school stage"));
    } else if (row.grade() < 1 || row.grade() > MaxGrade(row.stage())) {
      bad(InvalidField("grade",
                       absl::StrCat("must be 1..", MaxGrade(row.stage()),
                                    " for this stage")));
    }
    absl::Status term_st = ValidateTerm("term", row.term());
    if (!term_st.ok()) bad(term_st);
    if (row.status() != pb::ENROLMENT_STATUS_ENROLLED &&
        row.status() != pb::ENROLMENT_STATUS_SUSPENDED &&
        row.status() != pb::ENROLMENT_STATUS_DROPPED_OUT &&
        row.status() != pb::ENROLMENT_STATUS_GRADUATED) {
      bad(InvalidField(
          "status", "must be ENROLLED, SUSPENDED, DROPPED_OUT or GRADUATED"));
    }
    std::string hash;
    if (info.ok()) {
      hash = IdHash(NormalizeIdNumber(row.id_number()));
      auto [it, inserted] = seen.emplace(hash, rn);
      if (!inserted) {
        bad(InvalidField(
            "id_number",
            absl::StrCat("duplicated in this request (first at row ",
                         it->second, ")")));
      }
    }
    if (errors.size() != before) continue;
    good.push_back({rn, std::move(hash), &row});
  }

  std::vector<std::string> touched;
  absl::Status st = host_.requests().Run(
      call.principal, "RecordEnrolments", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        touched.clear();
        int64_t now = NowSec();
        struct SchoolInfo {
          bool exists;
          std::string region, stages;
        };
        std::unordered_map<std::string, SchoolInfo> schools;
        int64_t accepted = 0, unchanged = 0;
        std::vector<cpb::RowError> tx_errors = errors;
        auto row_error = [&](int64_t rn, const char* field, std::string rule) {
          cpb::RowError e;
          e.set_row_number(rn);
          e.set_field(field);
          e.set_rule(std::move(rule));
          tx_errors.push_back(std::move(e));
        };
        for (const auto& p : good) {
          const auto& row = *p.row;
          auto sit = schools.find(row.school_code());
          if (sit == schools.end()) {
            auto s = c.Query(
                "SELECT region_code, stages FROM schools WHERE code = ?",
                {row.school_code()});
            if (!s.ok()) return s.status();
            SchoolInfo si{!s->empty(), s->empty() ? "" : s->front().Str(0),
                          s->empty() ? "" : s->front().Str(1)};
            sit = schools.emplace(row.school_code(), si).first;
          }
          if (!sit->second.exists) {
            row_error(p.row_number, "school_code",
                      "no such school (UpsertSchool first)");
            continue;
          }
          if (!call.principal.Covers(sit->second.region) ||
              !call.principal.CoversSchool(row.school_code())) {
            return absl::PermissionDeniedError(absl::StrCat(
                "row ", p.row_number,
                ": school lies outside the caller's scope; nothing was "
                "recorded"));
          }
          if (!absl::StrContains(sit->second.stages,
                                 absl::StrCat(",", row.stage(), ","))) {
            row_error(p.row_number, "stage",
                      "the school does not offer this stage");
            continue;
          }
          auto cur = c.Query(
              "SELECT e.id, e.school_code, e.stage, e.grade, e.term_year, "
              "e.term_season, e.status, e.boarder, COALESCE(s.region_code, "
              "'') FROM enrolments e LEFT JOIN schools s ON s.code = "
              "e.school_code WHERE e.id_hash = ? AND e.current = 1",
              {p.id_hash});
          if (!cur.ok()) return cur.status();
          if (!cur->empty()) {
            const SqlRow& o = cur->front();
            // A child whose current enrolment is held outside the caller's
            // scope may move in (a new ENROLLED row here closes the old one
            // as TRANSFERRED); any other status would close or change the
            // other school's record (docs/REGISTRY.md, rosters).
            const bool held_elsewhere = !call.principal.Covers(o.Str(8)) ||
                                        !call.principal.CoversSchool(o.Str(1));
            if (held_elsewhere &&
                row.status() != pb::ENROLMENT_STATUS_ENROLLED) {
              row_error(p.row_number, "status",
                        "the child's current enrolment is held at a school "
                        "outside the caller's scope: only a move-in "
                        "(ENROLLED) may be recorded");
              continue;
            }
            if (o.Str(1) == row.school_code() && o.Int(2) == row.stage() &&
                o.Int(3) == row.grade() && o.Int(4) == row.term().year() &&
                o.Int(5) == row.term().season() && o.Int(6) == row.status() &&
                o.Int(7) == int64_t{row.boarder()}) {
              ++unchanged;
              continue;
            }
            bool moved = o.Str(1) != row.school_code() &&
                         (o.Int(6) == pb::ENROLMENT_STATUS_ENROLLED ||
                          o.Int(6) == pb::ENROLMENT_STATUS_SUSPENDED);
            auto close = c.Execute(
                moved ? "UPDATE enrolments SET current = 0, status = 2 WHERE "
                        "id = ?"
                      : "UPDATE enrolments SET current = 0 WHERE id = ?",
                {o.Int(0)});
            if (!close.ok()) return close.status();
          }
          auto ins = c.Execute(
              "INSERT INTO enrolments(id_hash, school_code, stage, grade, "
              "term_year, term_season, status, boarder, current, recorded_at, "
              "reason) VALUES(?,?,?,?,?,?,?,?,1,?,?)",
              {p.id_hash, row.school_code(), int64_t{row.stage()},
               int64_t{row.grade()}, int64_t{row.term().year()},
               int64_t{row.term().season()}, int64_t{row.status()},
               int64_t{row.boarder()}, now, std::string("roster")});
          if (!ins.ok()) return ins.status();
          ++accepted;
          touched.push_back(p.id_hash);
        }
        std::sort(tx_errors.begin(), tx_errors.end(),
                  [](const cpb::RowError& a, const cpb::RowError& b) {
                    return a.row_number() < b.row_number();
                  });
        for (auto& e : tx_errors) *resp->add_errors() = std::move(e);
        resp->set_accepted_rows(accepted + unchanged);
        resp->set_unchanged_rows(unchanged);
        resp->set_rejected_rows(req.rows_size() - accepted - unchanged);
        if (!req.skip_identification()) {
          // Only what this write touched is re-identified, and the caller
          // hears of its own scope only; RunIdentification is the full pass.
          auto scope = ScopeOf(call.principal);
          if (!scope.ok()) return scope.status();
          auto summary = Identify(c, TodayCst(), &touched, *scope);
          if (!summary.ok()) return summary.status();
          *resp->mutable_identification() = *summary;
        }
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  rows_accepted_->Increment(static_cast<double>(resp->accepted_rows()));
  rows_rejected_->Increment(static_cast<double>(resp->rejected_rows()));
  std::vector<std::string> keys;
  for (const auto& h : touched) keys.push_back(StudentCacheKey(h));
  if (!keys.empty()) host_.cache().Invalidate(keys);
  call.AddRecord(absl::StrCat("enrolment rows:", resp->accepted_rows(), "/",
                              req.rows_size()));
  return absl::OkStatus();
}

absl::Status Registry::TransferStudent(CallContext& call,
                                       const pb::TransferStudentRequest& req,
                                       pb::TransferStudentResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  auto info = ValidateIdNumber("id_number", req.id_number());
  if (!info.ok()) return info.status();
  std::vector<FieldViolation> v;
  if (!IsCode(req.to_school_code(), 20)) {
    v.push_back({"to_school_code", "must be 1..20 of A-Z a-z 0-9 -"});
  }
  if (!ValidStage(req.stage())) {
    v.push_back({"stage", "must be a known school stage"});
  } else if (req.grade() < 1 || req.grade() > MaxGrade(req.stage())) {
    v.push_back({"grade", absl::StrCat("must be 1..", MaxGrade(req.stage()),
                                       " for this stage")});
  }
  for (auto& f : FieldViolationsOf(ValidateTerm("term", req.term())))
    v.push_back(f);
  for (auto& f : FieldViolationsOf(ValidateText("reason", req.reason(), 200))) {
    v.push_back(f);
  }
  if (!v.empty()) return InvalidFields(v);
  std::string hash = IdHash(NormalizeIdNumber(req.id_number()));
  absl::Status st = host_.requests().Run(
      call.principal, "TransferStudent", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto to =
            c.Query("SELECT region_code, stages FROM schools WHERE code = ?",
                    {req.to_school_code()});
        if (!to.ok()) return to.status();
        if (to->empty())
          return InvalidField("to_school_code", "no such school");
        // The receiving side records a move (docs/REGISTRY.md, rosters).
        RETURN_IF_ERROR(CheckRecordScope(call.principal, to->front().Str(0),
                                         req.to_school_code()));
        if (!absl::StrContains(to->front().Str(1),
                               absl::StrCat(",", req.stage(), ","))) {
          return InvalidField("stage",
                              "the new school does not offer this stage");
        }
        auto cur = c.Query(
            absl::StrCat("SELECT e.id, ", kEnrolmentCols,
                         " FROM enrolments e LEFT JOIN schools s ON "
                         "s.code = e.school_code WHERE e.id_hash = ? AND "
                         "e.current = 1"),
            {hash});
        if (!cur.ok()) return cur.status();
        if (cur->empty() ||
            !(cur->front().Int(7) == pb::ENROLMENT_STATUS_ENROLLED ||
              cur->front().Int(7) == pb::ENROLMENT_STATUS_SUSPENDED)) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "NO_CURRENT_ENROLMENT",
              "the child has no current enrolment to transfer from");
        }
        const SqlRow& o = cur->front();
        if (o.Str(1) == req.to_school_code()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "SAME_SCHOOL",
              "to_school_code: the child is already at this school");
        }
        int64_t now = NowSec();
        std::string reason = absl::StrCat("transfer: ", req.reason());
        auto close = c.Execute(
            "UPDATE enrolments SET current = 0, status = 2, reason = ? WHERE "
            "id = ?",
            {reason, o.Int(0)});
        if (!close.ok()) return close.status();
        auto ins = c.Execute(
            "INSERT INTO enrolments(id_hash, school_code, stage, grade, "
            "term_year, term_season, status, boarder, current, recorded_at, "
            "reason) VALUES(?,?,?,?,?,?,1,?,1,?,?)",
            {hash, req.to_school_code(), int64_t{req.stage()},
             int64_t{req.grade()}, int64_t{req.term().year()},
             int64_t{req.term().season()}, o.Int(8), now, reason});
        if (!ins.ok()) return ins.status();
        auto* prev = resp->mutable_previous();
        if (call.principal.Covers(o.Str(12)) &&
            call.principal.CoversSchool(o.Str(1))) {
          FillEnrolment(o, 1, prev);
          prev->set_reason(reason);
        } else {
          // The other side's school is not the caller's to read.
          prev->set_reason(call.principal.Covers(o.Str(12))
                               ? "transferred in from another school"
                               : "transferred in from another county");
        }
        prev->set_status(pb::ENROLMENT_STATUS_TRANSFERRED);
        prev->set_current(false);
        auto* n = resp->mutable_current();
        n->set_school_code(req.to_school_code());
        n->set_stage(req.stage());
        n->set_grade(req.grade());
        *n->mutable_term() = req.term();
        n->set_status(pb::ENROLMENT_STATUS_ENROLLED);
        n->set_boarder(o.Int(8) != 0);
        n->set_recorded_at(FormatTs(now));
        n->set_reason(reason);
        n->set_current(true);
        n->set_school_region_code(to->front().Str(0));
        auto name = c.Query("SELECT name FROM schools WHERE code = ?",
                            {req.to_school_code()});
        if (name.ok() && !name->empty())
          n->set_school_name(name->front().Str(0));
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  host_.cache().Invalidate({StudentCacheKey(hash)});
  call.AddRecord(absl::StrCat("transfer-to:", req.to_school_code()));
  return absl::OkStatus();
}

// ----------------------------------------------------------------
// identification

absl::StatusOr<Registry::StageCounts> Registry::CountStages(
    SqlConnection& c, const Scope& scope) {
  std::vector<SqlValue> params;
  const std::string in_scope =
      MemberInScope(scope.region, scope.school, &params);
  auto rows = c.Query(
      absl::StrCat(
          "SELECT e.stage, CASE WHEN e.status IN (1, 3) THEN 1 ELSE 0 END AS "
          "in_school, COUNT(*) FROM members m JOIN enrolments e ON e.id_hash = "
          "m.id_hash AND e.current = 1 WHERE ",
          in_scope, " GROUP BY e.stage, in_school ORDER BY e.stage"),
      params);
  if (!rows.ok()) return rows.status();
  StageCounts out;
  for (const auto& r : *rows) {
    out.identified += r.Int(2);
    if (r.Int(1) != 0) out.in_school.emplace_back(r.Int(0), r.Int(2));
  }
  return out;
}

absl::StatusOr<int64_t> Registry::RefreshOutOfSchool(
    SqlConnection& c, const std::string& as_of, int64_t run_id,
    const std::string& member_filter, const std::vector<SqlValue>& params,
    const Scope& scope) {
  const auto [lo, hi] = SchoolAgeMonths(as_of);
  // `member_filter` empty: every member (the full pass).
  const std::string and_filter =
      member_filter.empty() ? "" : absl::StrCat(" AND ", member_filter);
  std::vector<SqlValue> up_params = {as_of, run_id, run_id, lo, hi};
  up_params.insert(up_params.end(), params.begin(), params.end());
  auto up = c.Execute(
      absl::StrCat(
          "INSERT INTO out_of_school(member_id, first_seen, since_run, "
          "last_run, resolved_at) SELECT m.id, ?, ?, ?, NULL FROM members m "
          "WHERE m.birth_month > ? AND m.birth_month <= ?",
          and_filter,
          " AND NOT EXISTS ("
          " SELECT 1 FROM enrolments e WHERE e.id_hash = m.id_hash AND "
          " e.current = 1 AND (e.status IN (1, 3) OR (e.status = 5 AND "
          " e.stage >= 3))) "
          "ON CONFLICT(member_id) DO UPDATE SET last_run = excluded.last_run, "
          "first_seen = CASE WHEN out_of_school.resolved_at IS NULL THEN "
          "out_of_school.first_seen ELSE excluded.first_seen END, "
          "since_run = CASE WHEN out_of_school.resolved_at IS NULL THEN "
          "out_of_school.since_run ELSE excluded.since_run END, "
          "resolved_at = NULL"),
      up_params);
  if (!up.ok()) return up.status();
  // The members of the filter still open but not seen by this run are back
  // in school (or aged out): count those in scope, then resolve them all.
  std::vector<SqlValue> back_params = {run_id};
  back_params.insert(back_params.end(), params.begin(), params.end());
  const std::string in_scope =
      MemberInScope(scope.region, scope.school, &back_params);
  auto back = c.Query(
      absl::StrCat("SELECT COUNT(*) FROM out_of_school o JOIN members m ON "
                   "m.id = o.member_id WHERE o.resolved_at IS NULL AND "
                   "o.last_run <> ?",
                   and_filter, " AND ", in_scope),
      back_params);
  if (!back.ok()) return back.status();
  std::vector<SqlValue> res_params = {as_of, run_id};
  res_params.insert(res_params.end(), params.begin(), params.end());
  auto resolved = c.Execute(
      member_filter.empty()
          ? std::string("UPDATE out_of_school SET resolved_at = ? WHERE "
                        "resolved_at IS NULL AND last_run <> ?")
          : absl::StrCat("UPDATE out_of_school SET resolved_at = ? WHERE "
                         "resolved_at IS NULL AND last_run <> ? AND member_id "
                         "IN (SELECT m.id FROM members m WHERE ",
                         member_filter, ")"),
      res_params);
  if (!resolved.ok()) return resolved.status();
  return back->front().Int(0);
}

absl::StatusOr<pb::IdentificationSummary> Registry::Identify(
    SqlConnection& c, const std::string& as_of,
    const std::vector<std::string>* touched, const Scope& scope,
    const std::function<absl::StatusOr<StageCounts>()>& stages) {
  pb::IdentificationSummary sum;
  const auto [lo, hi] = SchoolAgeMonths(as_of);
  auto run = c.Query(
      "INSERT INTO identification_runs(as_of, started_at, summary) "
      "VALUES(?,?,'') RETURNING run_id",
      {as_of, NowSec()});
  if (!run.ok()) return run.status();
  int64_t run_id = run->front().Int(0);
  int64_t back_in_school = 0;
  if (touched == nullptr) {
    auto back = RefreshOutOfSchool(c, as_of, run_id, "", {}, scope);
    if (!back.ok()) return back.status();
    back_in_school = *back;
  } else {
    // The members this write touched, in chunks of 400 blind indexes.
    std::vector<std::string> hashes(touched->begin(), touched->end());
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    constexpr size_t kChunk = 400;
    for (size_t i = 0; i < hashes.size(); i += kChunk) {
      const size_t k = std::min(kChunk, hashes.size() - i);
      std::string filter = "m.id_hash IN (?";
      for (size_t j = 1; j < k; ++j) filter += ",?";
      filter += ")";
      std::vector<SqlValue> params(hashes.begin() + i, hashes.begin() + i + k);
      auto back = RefreshOutOfSchool(c, as_of, run_id, filter, params, scope);
      if (!back.ok()) return back.status();
      back_in_school += *back;
    }
  }
  // Members, the school-age band and the open list in one scan of the
  // members in scope.
  std::vector<SqlValue> params = {lo, hi, run_id};
  const std::string in_scope =
      MemberInScope(scope.region, scope.school, &params);
  auto counts = c.Query(
      absl::StrCat(
          "SELECT COUNT(*), COALESCE(SUM(CASE WHEN m.birth_month > ? AND "
          "m.birth_month <= ? THEN 1 ELSE 0 END), 0), "
          "COALESCE(SUM(CASE WHEN o.member_id IS NOT NULL THEN 1 ELSE 0 END), "
          "0), COALESCE(SUM(CASE WHEN o.since_run = ? THEN 1 ELSE 0 END), 0) "
          "FROM members m LEFT JOIN out_of_school o ON o.member_id = m.id AND "
          "o.resolved_at IS NULL WHERE ",
          in_scope),
      params);
  if (!counts.ok()) return counts.status();
  const SqlRow& r = counts->front();
  sum.set_run_id(run_id);
  sum.set_as_of(as_of);
  sum.set_members(r.Int(0));
  sum.set_school_age(r.Int(1));
  sum.set_out_of_school(r.Int(2));
  sum.set_newly_out_of_school(r.Int(3));
  sum.set_back_in_school(back_in_school);
  absl::StatusOr<StageCounts> counted =
      stages ? stages() : CountStages(c, scope);
  if (!counted.ok()) return counted.status();
  sum.set_identified(counted->identified);
  for (const auto& [stage, students] : counted->in_school) {
    auto* sc = sum.add_by_stage();
    sc->set_stage(static_cast<cpb::SchoolStage>(stage));
    sc->set_students(students);
  }
  auto save =
      c.Execute("UPDATE identification_runs SET summary = ? WHERE run_id = ?",
                {Base64Encode(sum.SerializeAsString()), run_id});
  if (!save.ok()) return save.status();
  auto per_region = c.Query(
      "SELECT m.region_code, COUNT(*) FROM out_of_school o JOIN members m ON "
      "m.id = o.member_id WHERE o.resolved_at IS NULL AND m.region_code LIKE "
      "? GROUP BY m.region_code",
      {scope.region + "%"});
  if (per_region.ok()) {
    for (const auto& pr : *per_region) {
      out_of_school_gauge_->Add({{"region", pr.Str(0)}})
          .Set(static_cast<double>(pr.Int(1)));
    }
  }
  return sum;
}

absl::Status Registry::RunIdentification(
    CallContext& call, const pb::RunIdentificationRequest& req,
    pb::RunIdentificationResponse* resp) {
  // The out-of-school list spans every region; only province-wide callers
  // (province officers and services) may recompute it.
  if (!call.principal.region.empty()) {
    return absl::PermissionDeniedError(
        "identification runs over all regions: province scope required");
  }
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (!req.as_of().empty()) RETURN_IF_ERROR(ValidateDate("as_of", req.as_of()));
  std::string as_of = req.as_of().empty() ? TodayCst() : req.as_of();
  call.AddRecord(absl::StrCat("as_of:", as_of));
  // The per-stage counts are a second full join: count them on a reader,
  // on the other core, while the writer rebuilds the list. The reader's
  // snapshot is taken as the run starts; the writer lock keeps other
  // imports out for the run, so both see the same rows (bar a write that
  // commits in the instant between the two starting).
  auto stages = std::async(std::launch::async, [this] {
    absl::StatusOr<StageCounts> out;
    absl::Status st = db_.Read([&](SqlConnection& c) {
      out = CountStages(c, Scope{});
      return out.status();
    });
    if (!st.ok()) out = st;
    return out;
  });
  return host_.requests().Run(
      call.principal, "RunIdentification", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto s = Identify(c, as_of, nullptr, Scope{}, [&] {
          return stages.valid() ? stages.get() : CountStages(c, Scope{});
        });
        if (!s.ok()) return s.status();
        *resp->mutable_summary() = *s;
        return absl::OkStatus();
      });
}

// ---------------------------------------------------------------- students

absl::StatusOr<pb::Student> Registry::LoadStudentFromDb(
    SqlConnection& c, const std::string& id_hash) {
  auto m = c.Query(
      "SELECT m.id, m.id_enc, m.name_enc, m.household_id, m.region_code, "
      "h.status, h.registration_year, m.birth_month, m.male, m.relation "
      "FROM members m JOIN households h ON h.household_id = m.household_id "
      "WHERE m.id_hash = ?",
      {id_hash});
  if (!m.ok()) return m.status();
  if (m->empty()) return absl::NotFoundError(kNoSuchIdNumber);
  const SqlRow& r = m->front();
  pb::Student s;
  int64_t member = r.Int(0);
  s.set_member_id(MemberIdString(member));
  s.set_id_number(DecryptOrEmpty(r.Str(1), kCtxId));
  s.set_name(DecryptOrEmpty(r.Str(2), kCtxName));
  s.set_household_id(r.Str(3));
  s.set_region_code(r.Str(4));
  s.set_household_status(static_cast<cpb::HouseholdStatus>(r.Int(5)));
  s.set_registration_year(static_cast<int32_t>(r.Int(6)));
  // The birth date is kept in clear nowhere: it is read from the ID number
  // (dropped again wherever the ID number is masked).
  if (auto info = ValidateIdNumber("id_number", s.id_number()); info.ok()) {
    s.set_birth_date(info->birth_date());
  }
  s.set_birth_year(BirthYearOf(r.Str(7)));
  s.set_male(r.Int(8) != 0);
  s.set_relation(static_cast<pb::Relation>(r.Int(9)));
  auto hist =
      c.Query(absl::StrCat("SELECT ", kEnrolmentCols,
                           " FROM enrolments e LEFT JOIN schools s ON s.code = "
                           "e.school_code WHERE e.id_hash = ? ORDER BY e.id"),
              {id_hash});
  if (!hist.ok()) return hist.status();
  for (const auto& h : *hist) {
    auto* e = s.add_enrolment_history();
    FillEnrolment(h, 0, e);
    if (e->current()) *s.mutable_current_enrolment() = *e;
  }
  auto lb = c.Query(
      "SELECT carer_name_enc, carer_relation, parents_location, updated_at "
      "FROM left_behind WHERE member_id = ?",
      {member});
  if (!lb.ok()) return lb.status();
  if (!lb->empty()) {
    auto* l = s.mutable_left_behind();
    l->set_carer_name(DecryptOrEmpty(lb->front().Str(0), kCtxCarer));
    l->set_carer_relation(lb->front().Str(1));
    l->set_parents_location(lb->front().Str(2));
    l->set_updated_at(FormatTs(lb->front().Int(3)));
  }
  auto dp = c.Query(
      "SELECT category, placement, school_code, note, updated_at FROM "
      "disability_plans WHERE member_id = ?",
      {member});
  if (!dp.ok()) return dp.status();
  if (!dp->empty()) {
    auto* d = s.mutable_disability_plan();
    d->set_category(dp->front().Str(0));
    d->set_placement(static_cast<pb::Placement>(dp->front().Int(1)));
    d->set_school_code(dp->front().Str(2));
    d->set_note(dp->front().Str(3));
    d->set_updated_at(FormatTs(dp->front().Int(4)));
  }
  return s;
}

absl::StatusOr<pb::Student> Registry::LoadStudent(const std::string& id_hash) {
  // Each value is bound to its own key (associated data): a value copied
  // under another student's key does not decrypt, and the read falls back
  // to the database.
  const std::string key = StudentCacheKey(id_hash);
  if (auto cached = host_.cache().Get(key)) {
    auto plain = host_.crypto().Decrypt(*cached, key);
    pb::Student s;
    if (plain.ok() && s.ParseFromString(*plain)) return s;
  }
  pb::Student s;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto loaded = LoadStudentFromDb(c, id_hash);
    if (!loaded.ok()) return loaded.status();
    s = std::move(*loaded);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  host_.cache().Set(key, host_.crypto().Encrypt(s.SerializeAsString(), key));
  return s;
}

void Registry::MaskStudent(const Principal& p, pb::Student* s) const {
  if (p.SeesPersonalData()) return;
  s->set_id_number(MaskIdNumber(s->id_number()));
  s->clear_birth_date();
  s->set_name(MaskName(s->name()));
  if (s->has_left_behind()) {
    s->mutable_left_behind()->set_carer_name(
        MaskName(s->left_behind().carer_name()));
  }
}

absl::Status Registry::GetStudent(CallContext& call,
                                  const pb::GetStudentRequest& req,
                                  pb::GetStudentResponse* resp) {
  std::string hash;
  if (req.key_case() == pb::GetStudentRequest::kIdNumber) {
    auto info = ValidateIdNumber("id_number", req.id_number());
    if (!info.ok()) return info.status();
    hash = IdHash(NormalizeIdNumber(req.id_number()));
  } else if (req.key_case() == pb::GetStudentRequest::kMemberId) {
    auto id = ParseMemberId("member_id", req.member_id());
    if (!id.ok()) return id.status();
    absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
      auto r = c.Query("SELECT id_hash FROM members WHERE id = ?", {*id});
      if (!r.ok()) return r.status();
      if (r->empty()) return absl::NotFoundError(kNoSuchMember);
      hash = r->front().Str(0);
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
  } else {
    return InvalidField("key", "set id_number or member_id");
  }
  auto s = LoadStudent(hash);
  if (!s.ok()) return s.status();
  return FinishGetStudent(call, std::move(*s),
                          req.key_case() == pb::GetStudentRequest::kIdNumber
                              ? kNoSuchIdNumber
                              : kNoSuchMember,
                          resp);
}

absl::Status Registry::FinishGetStudent(CallContext& call, pb::Student s,
                                        absl::string_view not_found,
                                        pb::GetStudentResponse* resp) const {
  // Whether a child outside the caller's scope is registered at all is
  // itself personal data (a registered poor household): such a child is
  // answered exactly as one that does not exist. The audit still records
  // the refusal.
  if (!CheckRecordScope(call.principal, s.region_code(),
                        s.current_enrolment().school_code())
           .ok()) {
    call.NoteHiddenDenial(s.member_id());
    return absl::NotFoundError(not_found);
  }
  MaskStudent(call.principal, &s);
  call.AddRecord(s.member_id());
  call.personal_data = call.principal.SeesPersonalData();
  *resp->mutable_student() = std::move(s);
  return absl::OkStatus();
}

std::optional<absl::Status> Registry::GetStudentFast(
    CallContext& call, const pb::GetStudentRequest& req,
    pb::GetStudentResponse* resp) {
  if (req.key_case() != pb::GetStudentRequest::kIdNumber) return std::nullopt;
  auto info = ValidateIdNumber("id_number", req.id_number());
  if (!info.ok()) return info.status();
  const std::string key =
      StudentCacheKey(IdHash(NormalizeIdNumber(req.id_number())));
  auto cached = host_.cache().GetLocal(key);
  if (!cached) return std::nullopt;
  auto plain = host_.crypto().Decrypt(*cached, key);
  pb::Student s;
  if (!plain.ok() || !s.ParseFromString(*plain)) return std::nullopt;
  return FinishGetStudent(call, std::move(s), kNoSuchIdNumber, resp);
}

absl::Status Registry::ListStudents(CallContext& call,
                                    const pb::ListStudentsRequest& req,
                                    pb::ListStudentsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!req.school_code().empty() && !IsCode(req.school_code(), 20)) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  if (!cpb::SchoolStage_IsValid(req.stage())) {
    return InvalidField("stage", "is not a known school stage");
  }
  if (!pb::EnrolmentStatus_IsValid(req.status())) {
    return InvalidField("status", "is not a known enrolment status");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto scope = ScopeOf(call.principal, req.region_prefix());
  if (!scope.ok()) return scope.status();
  const std::string* region = &scope->region;
  std::string school = req.school_code();
  if (!scope->school.empty()) {
    RETURN_IF_ERROR(
        CheckSchool(call.principal, school.empty() ? scope->school : school));
    school = scope->school;
  }
  int64_t status = req.status() == pb::ENROLMENT_STATUS_UNSPECIFIED
                       ? pb::ENROLMENT_STATUS_ENROLLED
                       : req.status();
  std::string filters = absl::StrCat("students|", *region, "|", school, "|",
                                     req.stage(), "|", status);
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  const bool names = call.principal.SeesPersonalData();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat(
            "SELECT m.id, m.id_masked, m.name_enc, m.household_id, "
            "m.region_code, h.status, h.registration_year, m.birth_month, "
            "m.male, m.relation, ",
            kEnrolmentCols,
            " FROM members m JOIN households h ON h.household_id = "
            "m.household_id JOIN enrolments e ON e.id_hash = m.id_hash AND "
            "e.current = 1 LEFT JOIN schools s ON s.code = e.school_code "
            "WHERE m.region_code LIKE ? AND (? = '' OR e.school_code = ?) AND "
            "(? = 0 OR e.stage = ?) AND e.status = ? AND m.id > ? "
            "ORDER BY m.id LIMIT ?"),
        {*region + "%", school, school, int64_t{req.stage()},
         int64_t{req.stage()}, status, *after, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      const SqlRow& r = (*rows)[i];
      auto* s = resp->add_students();
      last = r.Int(0);
      s->set_member_id(MemberIdString(last));
      s->set_id_number(r.Str(1));
      std::string name = DecryptOrEmpty(r.Str(2), kCtxName);
      s->set_name(names ? name : MaskName(name));
      s->set_household_id(r.Str(3));
      s->set_region_code(r.Str(4));
      s->set_household_status(static_cast<cpb::HouseholdStatus>(r.Int(5)));
      s->set_registration_year(static_cast<int32_t>(r.Int(6)));
      s->set_birth_year(BirthYearOf(r.Str(7)));
      s->set_male(r.Int(8) != 0);
      s->set_relation(static_cast<pb::Relation>(r.Int(9)));
      FillEnrolment(r, 10, s->mutable_current_enrolment());
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    call.NoteBulkRead(resp->students_size());
    return absl::OkStatus();
  });
}

absl::Status Registry::ListOutOfSchool(CallContext& call,
                                       const pb::ListOutOfSchoolRequest& req,
                                       pb::ListOutOfSchoolResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  // A school officer sees the children whose last enrolment is at its
  // school (dropped out of it).
  auto scope = ScopeOf(call.principal, req.region_prefix());
  if (!scope.ok()) return scope.status();
  const std::string& school = scope->school;
  std::string filters = absl::StrCat("oos|", scope->region, "|", school);
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  const bool names = call.principal.SeesPersonalData();
  const std::string today = TodayCst();
  const std::string region_like = scope->region + "%";
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat(
            "SELECT m.id, m.id_masked, m.name_enc, m.household_id, "
            "m.region_code, m.birth_month, o.first_seen, "
            "(SELECT d.state FROM dropout_cases d WHERE d.member_id = m.id "
            " ORDER BY d.id DESC LIMIT 1), "
            "CASE WHEN e.id IS NULL THEN 0 ELSE 1 END, ",
            kEnrolmentCols,
            " FROM out_of_school o JOIN members m ON m.id = o.member_id "
            "LEFT JOIN enrolments e ON e.id_hash = m.id_hash AND e.current = 1 "
            "LEFT JOIN schools s ON s.code = e.school_code "
            "WHERE o.resolved_at IS NULL AND m.region_code LIKE ? AND "
            "(? = '' OR e.school_code = ?) AND m.id > ? "
            "ORDER BY m.id LIMIT ?"),
        {region_like, school, school, *after, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      const SqlRow& r = (*rows)[i];
      auto* ch = resp->add_children();
      last = r.Int(0);
      ch->set_member_id(MemberIdString(last));
      ch->set_id_number(r.Str(1));
      std::string name = DecryptOrEmpty(r.Str(2), kCtxName);
      ch->set_name(names ? name : MaskName(name));
      ch->set_household_id(r.Str(3));
      ch->set_region_code(r.Str(4));
      ch->set_birth_year(BirthYearOf(r.Str(5)));
      ch->set_age(AgeFromMonth(r.Str(5), today));
      ch->set_first_seen(r.Str(6));
      absl::CivilDay first, now;
      if (absl::ParseCivilTime(r.Str(6), &first) &&
          absl::ParseCivilTime(today, &now)) {
        ch->set_days_open(static_cast<int32_t>(now - first));
      }
      if (!r.IsNull(7)) {
        ch->set_case_state(static_cast<pb::DropoutCaseState>(r.Int(7)));
      }
      if (r.Int(8)) FillEnrolment(r, 9, ch->mutable_last_enrolment());
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    std::vector<SqlValue> params;
    const std::string in_scope = MemberInScope(scope->region, school, &params);
    auto total = c.Query(
        absl::StrCat("SELECT COUNT(*) FROM out_of_school o JOIN members m ON "
                     "m.id = o.member_id WHERE o.resolved_at IS NULL AND ",
                     in_scope),
        params);
    if (!total.ok()) return total.status();
    resp->set_total(total->front().Int(0));
    call.NoteBulkRead(resp->children_size());
    return absl::OkStatus();
  });
}

absl::Status Registry::GetCoverage(CallContext& call,
                                   const pb::GetCoverageRequest& req,
                                   pb::GetCoverageResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  // A school officer gets its school's figures: the members whose current
  // enrolment is there (its out-of-school children are those who dropped
  // out of it).
  auto scope = ScopeOf(call.principal, req.region_prefix());
  if (!scope.ok()) return scope.status();
  const std::string* region = &scope->region;
  const std::string& school = scope->school;
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto run = c.Query(
        "SELECT run_id, as_of FROM identification_runs ORDER BY run_id DESC "
        "LIMIT 1");
    if (!run.ok()) return run.status();
    std::string as_of = TodayCst();
    if (!run->empty()) {
      resp->set_run_id(run->front().Int(0));
      as_of = run->front().Str(1);
    }
    resp->set_as_of(as_of);
    auto rows = c.Query(
        "SELECT m.region_code, COUNT(DISTINCT m.household_id), COUNT(*), "
        "SUM(CASE WHEN m.birth_month > ? AND m.birth_month <= ? THEN 1 ELSE "
        "0 END), "
        "SUM(CASE WHEN e.id IS NOT NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN e.status IN (1, 3) THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN o.member_id IS NOT NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN lb.member_id IS NOT NULL THEN 1 ELSE 0 END), "
        "SUM(CASE WHEN dp.member_id IS NOT NULL THEN 1 ELSE 0 END) "
        "FROM members m "
        "LEFT JOIN enrolments e ON e.id_hash = m.id_hash AND e.current = 1 "
        "LEFT JOIN out_of_school o ON o.member_id = m.id AND "
        " o.resolved_at IS NULL "
        "LEFT JOIN left_behind lb ON lb.member_id = m.id "
        "LEFT JOIN disability_plans dp ON dp.member_id = m.id "
        "WHERE m.region_code LIKE ? AND (? = '' OR e.school_code = ?) "
        "GROUP BY m.region_code ORDER BY m.region_code",
        {SchoolAgeMonths(as_of).first, SchoolAgeMonths(as_of).second,
         *region + "%", school, school});
    if (!rows.ok()) return rows.status();
    auto cases = c.Query(
        absl::StrCat("SELECT d.region_code, COUNT(*) FROM dropout_cases d "
                     "WHERE d.region_code LIKE ? AND d.state NOT IN (3, 4) "
                     "AND ",
                     kCaseAtSchool, " GROUP BY d.region_code"),
        {*region + "%", school, school});
    if (!cases.ok()) return cases.status();
    std::unordered_map<std::string, int64_t> open;
    for (const auto& r : *cases) open[r.Str(0)] = r.Int(1);
    auto* total = resp->mutable_total();
    total->set_region_code(*region);
    for (const auto& r : *rows) {
      auto* g = resp->add_regions();
      g->set_region_code(r.Str(0));
      g->set_households(r.Int(1));
      g->set_members(r.Int(2));
      g->set_school_age(r.Int(3));
      g->set_identified(r.Int(4));
      g->set_in_school(r.Int(5));
      g->set_out_of_school(r.Int(6));
      g->set_left_behind(r.Int(7));
      g->set_disability_plans(r.Int(8));
      g->set_open_cases(open[r.Str(0)]);
      total->set_households(total->households() + g->households());
      total->set_members(total->members() + g->members());
      total->set_school_age(total->school_age() + g->school_age());
      total->set_identified(total->identified() + g->identified());
      total->set_in_school(total->in_school() + g->in_school());
      total->set_out_of_school(total->out_of_school() + g->out_of_school());
      total->set_open_cases(total->open_cases() + g->open_cases());
      total->set_left_behind(total->left_behind() + g->left_behind());
      total->set_disability_plans(total->disability_plans() +
                                  g->disability_plans());
    }
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- dropout
// cases

absl::StatusOr<Registry::MemberRef> Registry::FindMember(
    SqlConnection& c, const std::string& member_id) {
  auto id = ParseMemberId("member_id", member_id);
  if (!id.ok()) return id.status();
  auto r = c.Query(
      "SELECT m.id, m.id_hash, m.region_code, COALESCE((SELECT e.school_code "
      "FROM enrolments e WHERE e.id_hash = m.id_hash AND e.current = 1), '') "
      "FROM members m WHERE m.id = ?",
      {*id});
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::NotFoundError("no such member");
  return MemberRef{r->front().Int(0), r->front().Str(1), r->front().Str(2),
                   r->front().Str(3)};
}

absl::StatusOr<pb::DropoutCase> Registry::LoadCase(SqlConnection& c,
                                                   int64_t case_id,
                                                   const Principal& p) {
  auto r = c.Query(
      "SELECT d.id, d.member_id, d.region_code, d.state, d.opened_at, "
      "d.updated_at, m.id_masked, m.name_enc FROM dropout_cases d JOIN "
      "members m ON m.id = d.member_id WHERE d.id = ?",
      {case_id});
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::NotFoundError("no such dropout case");
  const SqlRow& row = r->front();
  pb::DropoutCase dc;
  dc.set_case_id(row.Int(0));
  dc.set_member_id(MemberIdString(row.Int(1)));
  dc.set_region_code(row.Str(2));
  dc.set_state(static_cast<pb::DropoutCaseState>(row.Int(3)));
  dc.set_opened_at(FormatTs(row.Int(4)));
  dc.set_updated_at(FormatTs(row.Int(5)));
  dc.set_id_number(row.Str(6));
  std::string name = DecryptOrEmpty(row.Str(7), kCtxName);
  dc.set_name(p.SeesPersonalData() ? name : MaskName(name));
  auto ev = c.Query(
      "SELECT from_state, to_state, note, actor, at FROM dropout_case_events "
      "WHERE case_id = ? ORDER BY id",
      {case_id});
  if (!ev.ok()) return ev.status();
  for (const auto& e : *ev) {
    auto* h = dc.add_history();
    h->set_from_state(static_cast<pb::DropoutCaseState>(e.Int(0)));
    h->set_to_state(static_cast<pb::DropoutCaseState>(e.Int(1)));
    h->set_note(e.Str(2));
    h->set_actor(e.Str(3));
    h->set_at(FormatTs(e.Int(4)));
  }
  return dc;
}

absl::Status Registry::OpenDropoutCase(CallContext& call,
                                       const pb::OpenDropoutCaseRequest& req,
                                       pb::OpenDropoutCaseResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  auto id = ParseMemberId("member_id", req.member_id());
  if (!id.ok()) return id.status();
  RETURN_IF_ERROR(ValidateText("note", req.note(), 500, /*required=*/false));
  call.AddRecord(req.member_id());
  return host_.requests().Run(
      call.principal, "OpenDropoutCase", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto m = FindMember(c, req.member_id());
        if (!m.ok()) return m.status();
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, m->region_code, m->school_code));
        auto oos = c.Query(
            "SELECT 1 FROM out_of_school WHERE member_id = ? AND "
            "resolved_at IS NULL",
            {m->id});
        if (!oos.ok()) return oos.status();
        if (oos->empty()) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "NOT_OUT_OF_SCHOOL",
                            "member_id: the child is not on the out-of-school "
                            "list (run identification first)");
        }
        auto active = c.Query(
            "SELECT id FROM dropout_cases WHERE member_id = ? AND state NOT IN "
            "(3, 4)",
            {m->id});
        if (!active.ok()) return active.status();
        if (!active->empty()) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "CASE_ALREADY_OPEN",
              absl::StrCat("member_id: case ", active->front().Int(0),
                           " is still open for this child"));
        }
        int64_t now = NowSec();
        auto ins = c.Query(
            "INSERT INTO dropout_cases(member_id, region_code, state, "
            "opened_at, updated_at) VALUES(?,?,1,?,?) RETURNING id",
            {m->id, m->region_code, now, now});
        if (!ins.ok()) return ins.status();
        int64_t case_id = ins->front().Int(0);
        auto ev = c.Execute(
            "INSERT INTO dropout_case_events(case_id, from_state, to_state, "
            "note, actor, at) VALUES(?,0,1,?,?,?)",
            {case_id, req.note(), call.principal.subject, now});
        if (!ev.ok()) return ev.status();
        auto dc = LoadCase(c, case_id, call.principal);
        if (!dc.ok()) return dc.status();
        *resp->mutable_dropout_case() = std::move(*dc);
        return absl::OkStatus();
      });
}

absl::Status Registry::UpdateDropoutCase(
    CallContext& call, const pb::UpdateDropoutCaseRequest& req,
    pb::UpdateDropoutCaseResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.case_id() <= 0) return InvalidField("case_id", "must be positive");
  if (!pb::DropoutCaseState_IsValid(req.state()) ||
      req.state() == pb::DROPOUT_CASE_STATE_UNSPECIFIED ||
      req.state() == pb::DROPOUT_CASE_STATE_OPEN) {
    return InvalidField("state",
                        "must be VISITED, RETURNED, EXEMPT or ESCALATED");
  }
  RETURN_IF_ERROR(ValidateText("note", req.note(), 500));
  call.AddRecord(absl::StrCat("case:", req.case_id()));
  return host_.requests().Run(
      call.principal, "UpdateDropoutCase", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto cur = c.Query(
            "SELECT d.state, d.region_code, COALESCE((SELECT ce.school_code "
            "FROM members cm JOIN enrolments ce ON ce.id_hash = cm.id_hash AND "
            "ce.current = 1 WHERE cm.id = d.member_id), '') FROM "
            "dropout_cases d WHERE d.id = ?",
            {req.case_id()});
        if (!cur.ok()) return cur.status();
        if (cur->empty()) return absl::NotFoundError("no such dropout case");
        RETURN_IF_ERROR(CheckRecordScope(call.principal, cur->front().Str(1),
                                         cur->front().Str(2)));
        int64_t from = cur->front().Int(0);
        if (!AllowedTransition(from, req.state())) {
          return WithReason(
              absl::StatusCode::kFailedPrecondition, "INVALID_TRANSITION",
              absl::StrCat("state: a case in ",
                           pb::DropoutCaseState_Name(
                               static_cast<pb::DropoutCaseState>(from)),
                           " cannot move to ",
                           pb::DropoutCaseState_Name(req.state())));
        }
        int64_t now = NowSec();
        auto up = c.Execute(
            "UPDATE dropout_cases SET state = ?, updated_at = ? WHERE id = ?",
            {int64_t{req.state()}, now, req.case_id()});
        if (!up.ok()) return up.status();
        auto ev = c.Execute(
            "INSERT INTO dropout_case_events(case_id, from_state, to_state, "
            "note, actor, at) VALUES(?,?,?,?,?,?)",
            {req.case_id(), from, int64_t{req.state()}, req.note(),
             call.principal.subject, now});
        if (!ev.ok()) return ev.status();
        auto dc = LoadCase(c, req.case_id(), call.principal);
        if (!dc.ok()) return dc.status();
        *resp->mutable_dropout_case() = std::move(*dc);
        return absl::OkStatus();
      });
}

absl::Status Registry::ListDropoutCases(CallContext& call,
                                        const pb::ListDropoutCasesRequest& req,
                                        pb::ListDropoutCasesResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!pb::DropoutCaseState_IsValid(req.state())) {
    return InvalidField("state", "is not a known case state");
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 50, 500);
  if (!size.ok()) return size.status();
  // A school officer sees the cases of children whose current enrolment
  // is at its school.
  auto scope = ScopeOf(call.principal, req.region_prefix());
  if (!scope.ok()) return scope.status();
  std::string filters = absl::StrCat("cases|", scope->region, "|",
                                     scope->school, "|", req.state());
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto ids = c.Query(
        absl::StrCat("SELECT d.id FROM dropout_cases d WHERE d.region_code "
                     "LIKE ? AND ",
                     kCaseAtSchool,
                     " AND (? = 0 OR d.state = ?) AND d.id > ? ORDER BY d.id "
                     "LIMIT ?"),
        {scope->region + "%", scope->school, scope->school,
         int64_t{req.state()}, int64_t{req.state()}, *after,
         int64_t{*size + 1}});
    if (!ids.ok()) return ids.status();
    for (size_t i = 0; i < ids->size() && i < static_cast<size_t>(*size); ++i) {
      auto dc = LoadCase(c, (*ids)[i].Int(0), call.principal);
      if (!dc.ok()) return dc.status();
      *resp->add_cases() = std::move(*dc);
    }
    if (ids->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(
          EncodePageToken(absl::StrCat((*ids)[*size - 1].Int(0)), filters));
    }
    call.NoteBulkRead(resp->cases_size());
    return absl::OkStatus();
  });
}

// ---------------------------------------------------------------- special
// groups

absl::Status Registry::SetLeftBehind(CallContext& call,
                                     const pb::SetLeftBehindRequest& req,
                                     pb::SetLeftBehindResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  auto id = ParseMemberId("member_id", req.member_id());
  if (!id.ok()) return id.status();
  if (!req.clear()) {
    std::vector<FieldViolation> v;
    for (auto& f : FieldViolationsOf(ValidateText(
             "left_behind.carer_name", req.left_behind().carer_name(), 50))) {
      v.push_back(f);
    }
    for (auto& f : FieldViolationsOf(
             ValidateText("left_behind.carer_relation",
                          req.left_behind().carer_relation(), 20))) {
      v.push_back(f);
    }
    for (auto& f : FieldViolationsOf(
             ValidateText("left_behind.parents_location",
                          req.left_behind().parents_location(), 100, false))) {
      v.push_back(f);
    }
    if (!v.empty()) return InvalidFields(v);
  }
  call.AddRecord(req.member_id());
  std::string hash;
  absl::Status st = host_.requests().Run(
      call.principal, "SetLeftBehind", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto m = FindMember(c, req.member_id());
        if (!m.ok()) return m.status();
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, m->region_code, m->school_code));
        hash = m->id_hash;
        absl::StatusOr<int64_t> r;
        if (req.clear()) {
          r = c.Execute("DELETE FROM left_behind WHERE member_id = ?", {m->id});
        } else {
          r = c.Execute(
              "INSERT INTO left_behind(member_id, carer_name_enc, "
              "carer_relation, parents_location, updated_at) VALUES(?,?,?,?,?) "
              "ON CONFLICT(member_id) DO UPDATE SET carer_name_enc = "
              "excluded.carer_name_enc, carer_relation = "
              "excluded.carer_relation, "
              "parents_location = excluded.parents_location, updated_at = "
              "excluded.updated_at",
              {m->id,
               host_.crypto().Encrypt(req.left_behind().carer_name(),
                                      kCtxCarer),
               req.left_behind().carer_relation(),
               req.left_behind().parents_location(), NowSec()});
        }
        if (!r.ok()) return r.status();
        auto s = LoadStudentFromDb(c, m->id_hash);
        if (!s.ok()) return s.status();
        TrimWriteAnswer(&*s);
        *resp->mutable_student() = std::move(*s);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  if (!hash.empty()) host_.cache().Invalidate({StudentCacheKey(hash)});
  MaskStudent(call.principal, resp->mutable_student());
  call.personal_data = call.principal.SeesPersonalData();
  return absl::OkStatus();
}

absl::Status Registry::SetDisabilityPlan(
    CallContext& call, const pb::SetDisabilityPlanRequest& req,
    pb::SetDisabilityPlanResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  auto id = ParseMemberId("member_id", req.member_id());
  if (!id.ok()) return id.status();
  const auto& plan = req.plan();
  std::vector<FieldViolation> v;
  for (auto& f :
       FieldViolationsOf(ValidateText("plan.category", plan.category(), 20))) {
    v.push_back(f);
  }
  if (!pb::Placement_IsValid(plan.placement()) ||
      plan.placement() == pb::PLACEMENT_UNSPECIFIED) {
    v.push_back({"plan.placement",
                 "must be REGULAR_CLASS, SPECIAL_SCHOOL or HOME_TEACHING"});
  }
  bool needs_school = plan.placement() == pb::PLACEMENT_REGULAR_CLASS ||
                      plan.placement() == pb::PLACEMENT_SPECIAL_SCHOOL;
  if (needs_school && !IsCode(plan.school_code(), 20)) {
    v.push_back(
        {"plan.school_code",
         "is required for REGULAR_CLASS and SPECIAL_SCHOOL placements"});
  }
  for (auto& f :
       FieldViolationsOf(ValidateText("plan.note", plan.note(), 500, false))) {
    v.push_back(f);
  }
  if (!v.empty()) return InvalidFields(v);
  call.AddRecord(req.member_id());
  std::string hash;
  absl::Status st = host_.requests().Run(
      call.principal, "SetDisabilityPlan", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        auto m = FindMember(c, req.member_id());
        if (!m.ok()) return m.status();
        RETURN_IF_ERROR(
            CheckRecordScope(call.principal, m->region_code, m->school_code));
        hash = m->id_hash;
        if (needs_school) {
          auto s = c.Query("SELECT region_code FROM schools WHERE code = ?",
                           {plan.school_code()});
          if (!s.ok()) return s.status();
          if (s->empty())
            return InvalidField("plan.school_code", "no such school");
          RETURN_IF_ERROR(CheckRecordScope(call.principal, s->front().Str(0),
                                           plan.school_code()));
        }
        auto r = c.Execute(
            "INSERT INTO disability_plans(member_id, category, placement, "
            "school_code, note, updated_at) VALUES(?,?,?,?,?,?) "
            "ON CONFLICT(member_id) DO UPDATE SET category = "
            "excluded.category, "
            "placement = excluded.placement, school_code = "
            "excluded.school_code, "
            "note = excluded.note, updated_at = excluded.updated_at",
            {m->id, plan.category(), int64_t{plan.placement()},
             needs_school ? plan.school_code() : std::string(), plan.note(),
             NowSec()});
        if (!r.ok()) return r.status();
        auto s = LoadStudentFromDb(c, m->id_hash);
        if (!s.ok()) return s.status();
        TrimWriteAnswer(&*s);
        *resp->mutable_student() = std::move(*s);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  if (!hash.empty()) host_.cache().Invalidate({StudentCacheKey(hash)});
  MaskStudent(call.principal, resp->mutable_student());
  call.personal_data = call.principal.SeesPersonalData();
  return absl::OkStatus();
}

absl::Status Registry::ListSpecialGroups(
    CallContext& call, const pb::ListSpecialGroupsRequest& req,
    pb::ListSpecialGroupsResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto scope = ScopeOf(call.principal, req.region_prefix());
  if (!scope.ok()) return scope.status();
  std::string filters =
      absl::StrCat("special|", scope->region, "|", scope->school);
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  const bool names = call.principal.SeesPersonalData();
  std::vector<SqlValue> scope_params;
  const std::string in_scope =
      MemberInScope(scope->region, scope->school, &scope_params);
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    std::vector<SqlValue> params = scope_params;
    params.emplace_back(*after);
    params.emplace_back(int64_t{*size + 1});
    auto rows = c.Query(
        absl::StrCat(
            "SELECT m.id, m.id_masked, m.name_enc, m.region_code, "
            "lb.member_id, lb.carer_name_enc, lb.carer_relation, "
            "lb.parents_location, lb.updated_at, dp.member_id, dp.category, "
            "dp.placement, dp.school_code, dp.note, dp.updated_at "
            "FROM members m LEFT JOIN left_behind lb ON lb.member_id = m.id "
            "LEFT JOIN disability_plans dp ON dp.member_id = m.id "
            "WHERE (lb.member_id IS NOT NULL OR dp.member_id IS NOT NULL) AND ",
            in_scope, " AND m.id > ? ORDER BY m.id LIMIT ?"),
        params);
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      const SqlRow& r = (*rows)[i];
      auto* e = resp->add_entries();
      last = r.Int(0);
      e->set_member_id(MemberIdString(last));
      e->set_id_number(r.Str(1));
      std::string name = DecryptOrEmpty(r.Str(2), kCtxName);
      e->set_name(names ? name : MaskName(name));
      e->set_region_code(r.Str(3));
      if (!r.IsNull(4)) {
        auto* l = e->mutable_left_behind();
        std::string carer = DecryptOrEmpty(r.Str(5), kCtxCarer);
        l->set_carer_name(names ? carer : MaskName(carer));
        l->set_carer_relation(r.Str(6));
        l->set_parents_location(r.Str(7));
        l->set_updated_at(FormatTs(r.Int(8)));
      }
      if (!r.IsNull(9)) {
        auto* d = e->mutable_disability_plan();
        d->set_category(r.Str(10));
        d->set_placement(static_cast<pb::Placement>(r.Int(11)));
        d->set_school_code(r.Str(12));
        d->set_note(r.Str(13));
        d->set_updated_at(FormatTs(r.Int(14)));
      }
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    std::vector<SqlValue> both = scope_params;
    both.insert(both.end(), scope_params.begin(), scope_params.end());
    auto totals = c.Query(
        absl::StrCat("SELECT (SELECT COUNT(*) FROM left_behind lb JOIN "
                     "members m ON m.id = lb.member_id WHERE ",
                     in_scope,
                     "), (SELECT COUNT(*) FROM disability_plans dp JOIN "
                     "members m ON m.id = dp.member_id WHERE ",
                     in_scope, ")"),
        both);
    if (!totals.ok()) return totals.status();
    resp->set_left_behind_total(totals->front().Int(0));
    resp->set_disability_plan_total(totals->front().Int(1));
    call.NoteBulkRead(resp->entries_size());
    return absl::OkStatus();
  });
}

absl::Status Registry::ListAuditEvents(CallContext& call,
                                       const pb::ListAuditEventsRequest& req,
                                       pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

}  // namespace eduaid::registry
