#include "services/ledger/posting_store.h"

#include "absl/strings/str_cat.h"
#include "services/common/status.h"
#include "services/common/status_macros.h"
#include "services/common/term.h"

namespace eduaid::ledger {

PostingRecord PostingFromRow(const SqlRow& r) {
  PostingRecord p;
  p.id = r.Int(0);
  p.school_code = r.Str(1);
  p.school_name = r.Str(2);
  p.region_code = r.Str(3);
  p.term = r.Str(4);
  p.published_on = r.Str(5);
  p.objection_until = r.Str(6);
  p.created_by = r.Str(7);
  p.total_fen = r.Int(8);
  return p;
}

void ToProto(const PostingRecord& r, pb::Posting* p) {
  p->set_posting_id(r.id);
  p->set_school_code(r.school_code);
  p->set_school_name(r.school_name);
  p->set_region_code(r.region_code);
  if (auto term = ParseTermKey(r.term)) *p->mutable_term() = *term;
  p->set_published_on(r.published_on);
  p->set_objection_until(r.objection_until);
  p->set_created_by(r.created_by);
  p->set_total_fen(r.total_fen);
}

absl::StatusOr<PostingRecord> LoadPostingRecord(SqlConnection& c, int64_t id) {
  ASSIGN_OR_RETURN(auto rows,
                   c.Query(absl::StrCat("SELECT ", kPostingColumns,
                                        " FROM postings WHERE id = ?"),
                           {id}));
  if (rows.empty()) {
    return absl::NotFoundError(absl::StrCat("posting ", id, " does not exist"));
  }
  return PostingFromRow(rows[0]);
}

absl::StatusOr<std::vector<PostingLineRecord>> LoadPostingLines(
    SqlConnection& c, int64_t posting_id) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT l.line_no, l.masked_name, l.programme_code, "
              "l.amount_fen, l.stage, l.grade, e.standard_id FROM "
              "posting_lines l JOIN entitlements e ON e.id = l.entitlement_id "
              "WHERE l.posting_id = ? ORDER BY l.line_no",
              {posting_id}));
  std::vector<PostingLineRecord> out;
  out.reserve(rows.size());
  for (const SqlRow& l : rows) {
    PostingLineRecord line;
    line.line_no = static_cast<int32_t>(l.Int(0));
    line.masked_name = l.Str(1);
    line.programme_code = l.Str(2);
    line.amount_fen = l.Int(3);
    line.stage = l.Int(4);
    line.grade = l.Int(5);
    line.standard_id = l.Str(6);
    out.push_back(std::move(line));
  }
  return out;
}

absl::StatusOr<int64_t> InsertPosting(SqlConnection& c, const PostingRecord& p,
                                      int64_t now_ms) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query(
          "INSERT INTO postings (school_code, school_name, region_code, "
          "term, published_on, objection_until, total_fen, created_by, "
          "created_at) VALUES (?,?,?,?,?,?,?,?,?) RETURNING id",
          {p.school_code, p.school_name, p.region_code, p.term, p.published_on,
           p.objection_until, p.total_fen, p.created_by, now_ms}));
  return rows[0].Int(0);
}

absl::Status InsertPostingLine(SqlConnection& c, int64_t posting_id,
                               const PostingLineRecord& l) {
  return c
      .Execute(
          "INSERT INTO posting_lines (posting_id, line_no, "
          "entitlement_id, masked_name, programme_code, amount_fen, "
          "stage, grade) VALUES (?,?,?,?,?,?,?,?)",
          {posting_id, int64_t{l.line_no}, l.entitlement_id, l.masked_name,
           l.programme_code, l.amount_fen, l.stage, l.grade})
      .status();
}

absl::StatusOr<PostedEntitlement> LoadPostedEntitlement(SqlConnection& c,
                                                        int64_t posting_id,
                                                        int32_t line_no) {
  ASSIGN_OR_RETURN(
      auto rows,
      c.Query("SELECT l.entitlement_id, e.payment_id, e.region_code, "
              "e.school_code FROM posting_lines l JOIN entitlements e ON e.id "
              "= l.entitlement_id WHERE l.posting_id = ? AND l.line_no = ?",
              {posting_id, int64_t{line_no}}));
  if (rows.empty()) {
    return InvalidField("line_no", "the posting has no such line");
  }
  return PostedEntitlement{rows[0].Int(0), rows[0].Int(1), rows[0].Str(2),
                           rows[0].Str(3)};
}

}  // namespace eduaid::ledger
