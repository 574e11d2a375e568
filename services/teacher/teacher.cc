// The teacher registry, shared helpers, and the audit log.
#include "services/teacher/teacher.h"

#include <ctime>
#include <unordered_map>
#include <unordered_set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "services/common/clock.h"
#include "services/common/idempotency.h"
#include "services/common/keyset_page.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"
#include "services/teacher/round_store.h"
#include "services/teacher/teacher_internal.h"

namespace eduaid::teacher {

using internal::AddRowError;
using internal::AddRowErrors;

// ---------------------------------------------------------------- helpers

namespace internal {

absl::Status ValidateLabel(absl::string_view field, absl::string_view value,
                           size_t max_chars) {
  RETURN_IF_ERROR(ValidateText(field, value, max_chars));
  if (absl::StrContains(value, "|") || absl::StrContains(value, ",")) {
    return InvalidField(field, "must not contain '|' or ','");
  }
  return absl::OkStatus();
}

std::string JoinList(const std::vector<std::string>& items) {
  std::string out = "|";
  for (const auto& i : items) absl::StrAppend(&out, i, "|");
  return out;
}

std::vector<std::string> SplitList(const std::string& text) {
  return absl::StrSplit(text, '|', absl::SkipEmpty());
}

std::string EscapeLike(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

void AddRowError(int64_t rn, absl::string_view field, absl::string_view rule,
                 std::vector<cpb::RowError>* errors) {
  cpb::RowError e;
  e.set_row_number(rn);
  e.set_field(std::string(field));
  e.set_rule(std::string(rule));
  errors->push_back(std::move(e));
}

void AddRowErrors(int64_t rn, const absl::Status& st,
                  std::vector<cpb::RowError>* errors) {
  for (const auto& v : FieldViolationsOf(st)) {
    AddRowError(rn, v.field, v.rule, errors);
  }
}

void SortRowErrors(std::vector<cpb::RowError>* errors) {
  std::stable_sort(errors->begin(), errors->end(),
                   [](const cpb::RowError& a, const cpb::RowError& b) {
                     return a.row_number() < b.row_number();
                   });
}

Scope ScopeOf(const Principal& p, absl::string_view region_prefix) {
  if (p.Covers(region_prefix)) return Scope::kFull;
  if (absl::StartsWith(p.region, region_prefix)) return Scope::kInside;
  return Scope::kNone;
}

absl::Status CheckOverlap(const Principal& p, absl::string_view region_prefix) {
  if (ScopeOf(p, region_prefix) != Scope::kNone) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(
      "the record's region lies outside the caller's region scope '", p.region,
      "'"));
}

}  // namespace internal

std::string TeacherIdString(int64_t id) { return absl::StrCat("t-", id); }

absl::StatusOr<int64_t> ParseTeacherId(absl::string_view field,
                                       absl::string_view teacher_id) {
  int64_t v = 0;
  if (!absl::ConsumePrefix(&teacher_id, "t-") ||
      !absl::SimpleAtoi(teacher_id, &v) || v <= 0) {
    return InvalidField(field, "must be a teacher id like t-123");
  }
  return v;
}

int64_t TermIndex(int year, int season) {
  return static_cast<int64_t>(year) * 2 +
         (season == cpb::SEASON_AUTUMN ? 1 : 0);
}

std::string TermStart(int year, int season) {
  return season == cpb::SEASON_AUTUMN ? absl::StrCat(year, "-09-01")
                                      : absl::StrCat(year, "-02-01");
}

std::string TermEnd(int year, int season) {
  return season == cpb::SEASON_AUTUMN ? absl::StrCat(year + 1, "-01-31")
                                      : absl::StrCat(year, "-07-31");
}

// ---------------------------------------------------------------- setup

TeacherSupport::TeacherSupport(ServiceHost& host, TeacherOptions options)
    : host_(host),
      db_(host.db()),
      options_(std::move(options)),
      registry_channel_(
          host.Peer(options_.registry_target, options_.registry_deadline)),
      registry_(
          rpb::StudentRegistryService::NewStub(registry_channel_->channel())) {
  auto& rows = prometheus::BuildCounter()
                   .Name("eduaid_teacher_import_rows_total")
                   .Help("Teacher rows received by ImportTeachers, by result")
                   .Register(host.metrics());
  rows_accepted_ = &rows.Add({{"result", "accepted"}});
  rows_rejected_ = &rows.Add({{"result", "rejected"}});
  coverage_gauge_ =
      &prometheus::BuildGauge()
           .Name("eduaid_teacher_visit_coverage_ratio")
           .Help(
               "Share of a campaign's households visited, per county and "
               "term")
           .Register(host.metrics());
  unfilled_gauge_ =
      &prometheus::BuildGauge()
           .Name("eduaid_teacher_unfilled_demand")
           .Help(
               "Slots of rural demand left unfilled by a round's last "
               "solution")
           .Register(host.metrics());
  auto& solve = prometheus::BuildHistogram()
                    .Name("eduaid_teacher_assignment_solve_seconds")
                    .Help("Time of one optimal assignment (min-cost flow)")
                    .Register(host.metrics());
  const prometheus::Histogram::BucketBoundaries buckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
      0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  solve_round_seconds_ = &solve.Add({{"kind", "round"}}, buckets);
  solve_campaign_seconds_ = &solve.Add({{"kind", "campaign"}}, buckets);
}

std::string TeacherSupport::IdHash(const std::string& id_number) const {
  return host_.crypto().BlindIndex(id_number, internal::kCtxHash);
}

std::string TeacherSupport::TeacherCacheKey(int64_t id) const {
  return CacheKey("teacher", "teacher", TeacherIdString(id));
}

std::string TeacherSupport::RegistryPeer() const {
  return absl::StrCat("the registry (", options_.registry_target, ")");
}

std::string TeacherSupport::DecryptOrEmpty(const std::string& enc,
                                           absl::string_view context) const {
  if (enc.empty()) return "";
  auto plain = host_.crypto().Decrypt(enc, context);
  return plain.ok() ? *plain : "";
}

absl::StatusOr<std::unordered_map<int64_t, std::string>>
TeacherSupport::TeacherNames(const std::vector<int64_t>& ids,
                             const Principal& p) {
  std::unordered_map<int64_t, std::string> out;
  if (ids.empty()) return out;
  std::vector<int64_t> unique(ids.begin(), ids.end());
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  const bool names = p.SeesPersonalData();
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    constexpr size_t kChunk = 500;
    for (size_t at = 0; at < unique.size(); at += kChunk) {
      size_t n = std::min(kChunk, unique.size() - at);
      std::string sql = "SELECT id, name_enc FROM teachers WHERE id IN (";
      std::vector<SqlValue> params;
      for (size_t i = 0; i < n; ++i) {
        absl::StrAppend(&sql, i ? ",?" : "?");
        params.push_back(unique[at + i]);
      }
      sql += ")";
      auto rows = c.Query(sql, params);
      if (!rows.ok()) return rows.status();
      for (const auto& r : *rows) {
        std::string name = DecryptOrEmpty(r.Str(1), internal::kCtxName);
        out[r.Int(0)] = names ? name : MaskName(name);
      }
    }
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  return out;
}

// ---------------------------------------------------------------- teachers

absl::Status TeacherSupport::ImportTeachers(
    CallContext& call, const pb::ImportTeachersRequest& req,
    pb::ImportTeachersResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  if (req.rows_size() == 0) return InvalidField("rows", "must not be empty");
  if (req.rows_size() > kMaxTeacherRowsPerCall) {
    return InvalidField("rows", absl::StrCat("at most ", kMaxTeacherRowsPerCall,
                                             " rows per call"));
  }
  struct Prepared {
    int64_t row_number;
    std::string id_hash, id_enc, id_masked, name_enc;
    const pb::TeacherRow* row;
    std::vector<std::pair<int64_t, std::string>> history;
  };
  std::vector<Prepared> good;
  good.reserve(req.rows_size());
  std::vector<cpb::RowError> errors;
  std::unordered_map<std::string, int64_t> seen;
  for (int i = 0; i < req.rows_size(); ++i) {
    const auto& row = req.rows(i);
    const int64_t rn = row.row_number() > 0 ? row.row_number() : i + 1;
    const size_t before = errors.size();
    auto bad = [&](const absl::Status& st) { AddRowErrors(rn, st, &errors); };
    auto info = ValidateIdNumber("id_number", row.id_number());
    if (!info.ok()) bad(info.status());
    bad(ValidateText("name", row.name(), 50));
    if (!IsCode(row.school_code(), 20)) {
      bad(InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -"));
    }
    bad(ValidateText("school_name", row.school_name(), 100,
                     /*required=*/false));
    absl::Status region_st =
        ValidateRegionCode("region_code", row.region_code());
    if (!region_st.ok()) {
      bad(region_st);
    } else if (!call.principal.Covers(row.region_code())) {
      return absl::PermissionDeniedError(absl::StrCat(
          "row ", rn, ": region_code lies outside the caller's region scope '",
          call.principal.region, "'; nothing was imported"));
    }
    if (!cpb::SchoolStage_IsValid(row.stage())) {
      bad(InvalidField("stage", "is not a known school stage"));
    }
    if (row.subjects_size() < 1 || row.subjects_size() > 5) {
      bad(InvalidField("subjects", "must list 1..5 subjects"));
    } else {
      std::unordered_set<std::string> subjects;
      for (int s = 0; s < row.subjects_size(); ++s) {
        absl::Status st = internal::ValidateLabel(
            absl::StrCat("subjects[", s, "]"), row.subjects(s), 20);
        if (!st.ok()) {
          bad(st);
        } else if (!subjects.insert(row.subjects(s)).second) {
          bad(InvalidField(absl::StrCat("subjects[", s, "]"),
                           "is listed twice"));
        }
      }
    }
    bad(ValidateText("title", row.title(), 20, /*required=*/false));
    if (row.years_of_service() < 0 || row.years_of_service() > 50) {
      bad(InvalidField("years_of_service", "must be 0..50"));
    }
    std::vector<std::pair<int64_t, std::string>> history;
    if (row.prior_placements_size() > 40) {
      bad(InvalidField("prior_placements", "at most 40 entries"));
    } else {
      std::unordered_set<int64_t> terms;
      for (int p = 0; p < row.prior_placements_size(); ++p) {
        const auto& pp = row.prior_placements(p);
        std::string field = absl::StrCat("prior_placements[", p, "]");
        absl::Status tst = ValidateTerm(field + ".term", pp.term());
        if (!tst.ok()) {
          bad(tst);
          continue;
        }
        if (!IsCode(pp.school_code(), 20)) {
          bad(InvalidField(field + ".school_code",
                           "must be 1..20 of A-Z a-z 0-9 -"));
          continue;
        }
        int64_t ti = TermIndex(pp.term().year(), pp.term().season());
        if (!terms.insert(ti).second) {
          bad(InvalidField(field + ".term", "two placements in one term"));
          continue;
        }
        history.push_back({ti, pp.school_code()});
      }
    }
    std::string id = NormalizeIdNumber(row.id_number());
    if (info.ok()) {
      auto [it, inserted] = seen.emplace(id, rn);
      if (!inserted) {
        bad(InvalidField(
            "id_number",
            absl::StrCat("duplicated in this request (first at row ",
                         it->second, ")")));
      }
    }
    if (errors.size() != before) continue;
    Prepared p;
    p.row_number = rn;
    p.id_hash = IdHash(id);
    p.id_enc = host_.crypto().Encrypt(id, internal::kCtxId);
    p.id_masked = MaskIdNumber(id);
    p.name_enc = host_.crypto().Encrypt(row.name(), internal::kCtxName);
    p.row = &row;
    p.history = std::move(history);
    good.push_back(std::move(p));
  }

  std::vector<int64_t> touched;
  absl::Status st = host_.requests().Run(
      call.principal, "ImportTeachers", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        touched.clear();
        const int64_t now = NowSec();
        for (const auto& p : good) {
          const pb::TeacherRow& row = *p.row;
          auto old =
              c.Query("SELECT id, region_code FROM teachers WHERE id_hash = ?",
                      {p.id_hash});
          if (!old.ok()) return old.status();
          int64_t id = 0;
          bool created = old->empty();
          const std::vector<SqlValue> fields = {
              p.id_enc,
              p.id_masked,
              p.name_enc,
              row.school_code(),
              row.school_name(),
              row.region_code(),
              int64_t{row.rural()},
              int64_t{row.stage()},
              internal::JoinListOf(row.subjects()),
              row.title(),
              int64_t{row.years_of_service()},
              now};
          if (created) {
            std::vector<SqlValue> params = {p.id_hash};
            params.insert(params.end(), fields.begin(), fields.end());
            auto ins = c.Query(
                "INSERT INTO teachers(id_hash, id_enc, id_masked, name_enc, "
                "school_code, school_name, region_code, rural, stage, "
                "subjects, title, years_of_service, updated_at, active, "
                "left_reason) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,1,'') "
                "RETURNING id",
                params);
            if (!ins.ok()) return ins.status();
            id = ins->front().Int(0);
            resp->set_teachers_created(resp->teachers_created() + 1);
          } else {
            id = old->front().Int(0);
            if (!call.principal.Covers(old->front().Str(1))) {
              return absl::PermissionDeniedError(absl::StrCat(
                  "row ", p.row_number,
                  ": the teacher is registered outside the caller's region "
                  "scope; nothing was imported"));
            }
            std::vector<SqlValue> params = fields;
            params.push_back(id);
            auto up = c.Execute(
                "UPDATE teachers SET id_enc = ?, id_masked = ?, name_enc = ?, "
                "school_code = ?, school_name = ?, region_code = ?, rural = ?, "
                "stage = ?, subjects = ?, title = ?, years_of_service = ?, "
                "updated_at = ? WHERE id = ?",
                params);
            if (!up.ok()) return up.status();
            resp->set_teachers_updated(resp->teachers_updated() + 1);
          }
          for (const auto& [term, school] : p.history) {
            auto h = c.Execute(
                "INSERT INTO placement_history(teacher_id, term_index, "
                "school_code, round_id) VALUES(?,?,?,0) "
                "ON CONFLICT(teacher_id, term_index) DO NOTHING",
                {id, term, school});
            if (!h.ok()) return h.status();
          }
          auto* t = resp->add_teachers();
          t->set_row_number(p.row_number);
          t->set_teacher_id(TeacherIdString(id));
          t->set_created(created);
          touched.push_back(id);
        }
        resp->set_accepted_rows(static_cast<int64_t>(good.size()));
        resp->set_rejected_rows(req.rows_size() -
                                static_cast<int64_t>(good.size()));
        internal::SortRowErrors(&errors);
        for (auto& e : errors) *resp->add_errors() = e;
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  rows_accepted_->Increment(static_cast<double>(resp->accepted_rows()));
  rows_rejected_->Increment(static_cast<double>(resp->rejected_rows()));
  std::vector<std::string> keys;
  keys.reserve(touched.size());
  for (int64_t id : touched) keys.push_back(TeacherCacheKey(id));
  if (!keys.empty()) host_.cache().Invalidate(keys);
  call.AddRecord(absl::StrCat("teacher rows:", resp->accepted_rows(), "/",
                              req.rows_size()));
  return absl::OkStatus();
}

absl::StatusOr<pb::Teacher> TeacherSupport::LoadTeacherFromDb(SqlConnection& c,
                                                              int64_t id) {
  auto r = c.Query(
      "SELECT id, id_enc, name_enc, school_code, school_name, region_code, "
      "rural, stage, subjects, title, years_of_service, active, left_reason, "
      "updated_at FROM teachers WHERE id = ?",
      {id});
  if (!r.ok()) return r.status();
  if (r->empty()) return absl::NotFoundError("no such teacher");
  const SqlRow& row = r->front();
  pb::Teacher t;
  t.set_teacher_id(TeacherIdString(row.Int(0)));
  t.set_id_number(DecryptOrEmpty(row.Str(1), internal::kCtxId));
  t.set_name(DecryptOrEmpty(row.Str(2), internal::kCtxName));
  t.set_school_code(row.Str(3));
  t.set_school_name(row.Str(4));
  t.set_region_code(row.Str(5));
  t.set_rural(row.Int(6) != 0);
  t.set_stage(static_cast<cpb::SchoolStage>(row.Int(7)));
  for (auto& s : internal::SplitList(row.Str(8))) t.add_subjects(s);
  t.set_title(row.Str(9));
  t.set_years_of_service(static_cast<int32_t>(row.Int(10)));
  t.set_active(row.Int(11) != 0);
  t.set_left_reason(row.Str(12));
  t.set_updated_at(
      FormatTimestamp(row.Int(13) * 1000, TimestampPrecision::kSeconds));
  auto h = c.Query(
      "SELECT term_index, school_code, round_id FROM placement_history "
      "WHERE teacher_id = ? ORDER BY term_index",
      {id});
  if (!h.ok()) return h.status();
  for (const auto& p : *h) {
    auto* rec = t.add_placements();
    int64_t ti = p.Int(0);
    rec->mutable_term()->set_year(static_cast<int32_t>(ti / 2));
    rec->mutable_term()->set_season(ti % 2 ? cpb::SEASON_AUTUMN
                                           : cpb::SEASON_SPRING);
    rec->set_school_code(p.Str(1));
    rec->set_round_id(p.Int(2));
  }
  return t;
}

absl::StatusOr<pb::Teacher> TeacherSupport::LoadTeacher(int64_t id) {
  const std::string key = TeacherCacheKey(id);
  if (auto cached = host_.cache().Get(key)) {
    auto plain = host_.crypto().Decrypt(*cached, internal::kCtxCache);
    pb::Teacher t;
    if (plain.ok() && t.ParseFromString(*plain)) return t;
  }
  pb::Teacher t;
  absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
    auto loaded = LoadTeacherFromDb(c, id);
    if (!loaded.ok()) return loaded.status();
    t = std::move(*loaded);
    return absl::OkStatus();
  });
  if (!st.ok()) return st;
  host_.cache().Set(
      key, host_.crypto().Encrypt(t.SerializeAsString(), internal::kCtxCache));
  return t;
}

absl::Status TeacherSupport::GetTeacher(CallContext& call,
                                        const pb::GetTeacherRequest& req,
                                        pb::GetTeacherResponse* resp) {
  int64_t id = 0;
  if (req.key_case() == pb::GetTeacherRequest::kTeacherId) {
    auto parsed = ParseTeacherId("teacher_id", req.teacher_id());
    if (!parsed.ok()) return parsed.status();
    id = *parsed;
  } else if (req.key_case() == pb::GetTeacherRequest::kIdNumber) {
    auto info = ValidateIdNumber("id_number", req.id_number());
    if (!info.ok()) return info.status();
    const std::string hash = IdHash(NormalizeIdNumber(req.id_number()));
    absl::Status st = db_.Read([&](SqlConnection& c) -> absl::Status {
      auto r = c.Query("SELECT id FROM teachers WHERE id_hash = ?", {hash});
      if (!r.ok()) return r.status();
      if (r->empty())
        return absl::NotFoundError("no teacher has this ID number");
      id = r->front().Int(0);
      return absl::OkStatus();
    });
    if (!st.ok()) return st;
  } else {
    return InvalidField("key", "set teacher_id or id_number");
  }
  auto t = LoadTeacher(id);
  if (!t.ok()) return t.status();
  return FinishGetTeacher(call, std::move(*t), resp);
}

std::optional<absl::Status> TeacherSupport::GetTeacherFast(
    CallContext& call, const pb::GetTeacherRequest& req,
    pb::GetTeacherResponse* resp) {
  if (req.key_case() != pb::GetTeacherRequest::kTeacherId) return std::nullopt;
  auto id = ParseTeacherId("teacher_id", req.teacher_id());
  if (!id.ok()) return id.status();
  auto cached = host_.cache().GetLocal(TeacherCacheKey(*id));
  if (!cached) return std::nullopt;
  auto plain = host_.crypto().Decrypt(*cached, internal::kCtxCache);
  pb::Teacher t;
  if (!plain.ok() || !t.ParseFromString(*plain)) return std::nullopt;
  return FinishGetTeacher(call, std::move(t), resp);
}

absl::Status TeacherSupport::FinishGetTeacher(CallContext& call, pb::Teacher t,
                                              pb::GetTeacherResponse* resp) {
  RETURN_IF_ERROR(
      CheckRecordScope(call.principal, t.region_code(), t.school_code()));
  if (!call.principal.SeesPersonalData()) {
    t.set_id_number(MaskIdNumber(t.id_number()));
    t.set_name(MaskName(t.name()));
  }
  call.AddRecord(t.teacher_id());
  call.personal_data = call.principal.SeesPersonalData();
  *resp->mutable_teacher() = std::move(t);
  return absl::OkStatus();
}

absl::Status TeacherSupport::ListTeachers(CallContext& call,
                                          const pb::ListTeachersRequest& req,
                                          pb::ListTeachersResponse* resp) {
  RETURN_IF_ERROR(ValidateRegionPrefix("region_prefix", req.region_prefix()));
  if (!req.school_code().empty() && !IsCode(req.school_code(), 20)) {
    return InvalidField("school_code", "must be 1..20 of A-Z a-z 0-9 -");
  }
  if (!req.subject().empty()) {
    RETURN_IF_ERROR(internal::ValidateLabel("subject", req.subject(), 20));
  }
  auto size = ValidatePageSize("page_size", req.page_size(), 100, 1000);
  if (!size.ok()) return size.status();
  auto region = ScopeRegionFilter(call.principal, req.region_prefix());
  if (!region.ok()) return region.status();
  const std::string filters =
      absl::StrCat("teachers|", *region, "|", req.school_code(), "|",
                   req.subject(), "|", req.include_inactive());
  auto after = DecodeIdCursor(req.page_token(), filters);
  if (!after.ok()) return after.status();
  const bool names = call.principal.SeesPersonalData();
  // A school officer lists its own school's teachers only.
  const internal::SchoolScope school = internal::SchoolScopeOf(call.principal);
  return db_.Read([&](SqlConnection& c) -> absl::Status {
    auto rows = c.Query(
        absl::StrCat(
            "SELECT id, id_masked, name_enc, school_code, school_name, "
            "region_code, rural, stage, subjects, title, years_of_service, "
            "active, left_reason, updated_at FROM teachers "
            "WHERE region_code LIKE ? AND (? = '' OR school_code = ?) AND ",
            internal::SchoolClause("school_code"),
            " AND subjects LIKE ? ESCAPE '\\' AND (? = 1 OR active = 1) AND "
            "id > ? ORDER BY id LIMIT ?"),
        {*region + "%", req.school_code(), req.school_code(), school.only,
         school.school,
         req.subject().empty()
             ? std::string("%")
             : absl::StrCat("%|", internal::EscapeLike(req.subject()), "|%"),
         int64_t{req.include_inactive()}, *after, int64_t{*size + 1}});
    if (!rows.ok()) return rows.status();
    int64_t last = 0;
    for (size_t i = 0; i < rows->size() && i < static_cast<size_t>(*size);
         ++i) {
      const SqlRow& r = (*rows)[i];
      last = r.Int(0);
      auto* t = resp->add_teachers();
      t->set_teacher_id(TeacherIdString(last));
      t->set_id_number(r.Str(1));
      std::string name = DecryptOrEmpty(r.Str(2), internal::kCtxName);
      t->set_name(names ? name : MaskName(name));
      t->set_school_code(r.Str(3));
      t->set_school_name(r.Str(4));
      t->set_region_code(r.Str(5));
      t->set_rural(r.Int(6) != 0);
      t->set_stage(static_cast<cpb::SchoolStage>(r.Int(7)));
      for (auto& s : internal::SplitList(r.Str(8))) t->add_subjects(s);
      t->set_title(r.Str(9));
      t->set_years_of_service(static_cast<int32_t>(r.Int(10)));
      t->set_active(r.Int(11) != 0);
      t->set_left_reason(r.Str(12));
      t->set_updated_at(
          FormatTimestamp(r.Int(13) * 1000, TimestampPrecision::kSeconds));
    }
    if (rows->size() > static_cast<size_t>(*size)) {
      resp->set_next_page_token(EncodePageToken(absl::StrCat(last), filters));
    }
    call.NoteBulkRead(static_cast<size_t>(resp->teachers_size()));
    return absl::OkStatus();
  });
}

absl::Status TeacherSupport::DeactivateTeacher(
    CallContext& call, const pb::DeactivateTeacherRequest& req,
    pb::DeactivateTeacherResponse* resp) {
  RETURN_IF_ERROR(ValidateRequestId("request_id", req.request_id()));
  auto id = ParseTeacherId("teacher_id", req.teacher_id());
  if (!id.ok()) return id.status();
  RETURN_IF_ERROR(ValidateText("reason", req.reason(), 200));
  call.AddRecord(req.teacher_id());
  std::vector<int64_t> campaigns_touched;
  absl::Status st = host_.requests().Run(
      call.principal, "DeactivateTeacher", req.request_id(), req, resp,
      [&](SqlConnection& c) -> absl::Status {
        campaigns_touched.clear();
        auto t = c.Query(
            "SELECT region_code, active, school_code FROM teachers WHERE id = "
            "?",
            {*id});
        if (!t.ok()) return t.status();
        if (t->empty()) return absl::NotFoundError("no such teacher");
        RETURN_IF_ERROR(CheckRecordScope(call.principal, t->front().Str(0),
                                         t->front().Str(2)));
        if (t->front().Int(1) == 0) {
          return WithReason(absl::StatusCode::kFailedPrecondition,
                            "ALREADY_INACTIVE",
                            "teacher_id: the teacher has already left");
        }
        const int64_t now = NowSec();
        auto up = c.Execute(
            "UPDATE teachers SET active = 0, left_reason = ?, updated_at = ? "
            "WHERE id = ?",
            {req.reason(), now, *id});
        if (!up.ok()) return up.status();
        // A solution that places the teacher no longer holds.
        RETURN_IF_ERROR(UnsolveRoundsNominating(c, *id));
        auto camps = c.Query(
            "SELECT DISTINCT h.campaign_id FROM campaign_households h JOIN "
            "campaigns k ON k.id = h.campaign_id WHERE h.teacher_id = ? AND "
            "h.visits = 0 AND k.state = ? ORDER BY h.campaign_id",
            {*id, int64_t{pb::CAMPAIGN_STATE_ACTIVE}});
        if (!camps.ok()) return camps.status();
        for (const auto& row : *camps) {
          const int64_t campaign_id = row.Int(0);
          auto campaign = LoadCampaign(c, campaign_id);
          if (!campaign.ok()) return campaign.status();
          auto lock = c.Execute(
              "UPDATE campaigns SET version = version + 1 WHERE id = ?",
              {campaign_id});
          if (!lock.ok()) return lock.status();
          // Only this teacher's households move: households that had no
          // teacher wait for the next AssignCampaign, so that leaving never
          // takes coverage from a household that had it.
          auto mine = c.Query(
              "SELECT household_id, region_code, schools, members FROM "
              "campaign_households WHERE campaign_id = ? AND teacher_id = ? "
              "AND visits = 0 ORDER BY household_id",
              {campaign_id, *id});
          if (!mine.ok()) return mine.status();
          std::vector<HouseholdNeed> needs;
          needs.reserve(mine->size());
          for (const auto& m : *mine) {
            HouseholdNeed n;
            n.household_id = m.Str(0);
            n.region_code = m.Str(1);
            n.schools = internal::SplitList(m.Str(2));
            n.members = internal::SplitList(m.Str(3));
            n.stored = true;
            needs.push_back(std::move(n));
          }
          auto release = c.Execute(
              "UPDATE campaign_households SET teacher_id = 0, updated_at = ? "
              "WHERE campaign_id = ? AND teacher_id = ? AND visits = 0",
              {now, campaign_id, *id});
          if (!release.ok()) return release.status();
          auto done = AssignPending(c, *campaign, needs);
          if (!done.ok()) return done.status();
          std::unordered_set<std::string> still_uncovered(
              done->uncovered_ids.begin(), done->uncovered_ids.end());
          auto* cr = resp->add_campaigns();
          cr->set_campaign_id(campaign_id);
          for (const auto& n : needs) {
            if (still_uncovered.count(n.household_id)) {
              cr->set_uncovered(cr->uncovered() + 1);
            } else {
              cr->set_reassigned(cr->reassigned() + 1);
            }
          }
          campaigns_touched.push_back(campaign_id);
        }
        auto loaded = LoadTeacherFromDb(c, *id);
        if (!loaded.ok()) return loaded.status();
        loaded->set_id_number(MaskIdNumber(loaded->id_number()));
        loaded->clear_name();  // filled after the transaction
        *resp->mutable_teacher() = std::move(*loaded);
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  host_.cache().Invalidate({TeacherCacheKey(*id)});
  for (int64_t cid : campaigns_touched) RefreshCoverageGauges(cid);
  auto names = TeacherNames({*id}, call.principal);
  if (names.ok()) resp->mutable_teacher()->set_name((*names)[*id]);
  return absl::OkStatus();
}

// ---------------------------------------------------------------- audit

absl::Status TeacherSupport::ListAuditEvents(
    CallContext& call, const pb::ListAuditEventsRequest& req,
    pb::ListAuditEventsResponse* resp) {
  return ListAuditPage(host_.audit(), call.principal, req.method(),
                       req.page_size(), req.page_token(), resp);
}

}  // namespace eduaid::teacher
