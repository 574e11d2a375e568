#include "services/ledger/notice/notice_format.h"

#include <cstdio>

#include "services/common/term.h"

namespace eduaid::ledger {

std::string FormatYuan(int64_t fen) {
  const bool negative = fen < 0;
  // Work in unsigned so that INT64_MIN has a magnitude too.
  const uint64_t magnitude =
      negative ? ~static_cast<uint64_t>(fen) + 1 : static_cast<uint64_t>(fen);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%s%llu.%02llu", negative ? "-" : "",
                static_cast<unsigned long long>(magnitude / 100),
                static_cast<unsigned long long>(magnitude % 100));
  return buf;
}

std::string ChineseAmountInWords(int64_t fen) {
  static const char* const kDigits[] = {"零", "壹", "贰", "叁", "肆",
                                        "伍", "陆", "柒", "捌", "玖"};
  static const char* const kPlace[] = {"", "拾", "佰", "仟"};
  static const char* const kGroup[] = {"", "万", "亿", "万亿", "亿亿"};
  std::string out;
  uint64_t magnitude = static_cast<uint64_t>(fen);
  if (fen < 0) {
    out = "负";
    magnitude = ~static_cast<uint64_t>(fen) + 1;
  }
  uint64_t yuan = magnitude / 100;
  const int jiao = static_cast<int>((magnitude / 10) % 10);
  const int fen_digit = static_cast<int>(magnitude % 10);
  if (yuan == 0 && jiao == 0 && fen_digit == 0) return out + "零元整";
  if (yuan > 0) {
    int groups[5] = {0, 0, 0, 0, 0};
    int count = 0;
    while (yuan > 0 && count < 5) {
      groups[count++] = static_cast<int>(yuan % 10000);
      yuan /= 10000;
    }
    bool pending_zero = false;
    bool written = false;
    for (int g = count - 1; g >= 0; --g) {
      const int value = groups[g];
      if (value == 0) {
        if (written) pending_zero = true;
        continue;
      }
      if (written && value < 1000) pending_zero = true;
      const int digits[4] = {value / 1000, (value / 100) % 10,
                             (value / 10) % 10, value % 10};
      bool seen = false;
      for (int i = 0; i < 4; ++i) {
        const int d = digits[i];
        if (d == 0) {
          if (seen) pending_zero = true;
          continue;
        }
        if (pending_zero) {
          out += kDigits[0];
          pending_zero = false;
        }
        out += kDigits[d];
        out += kPlace[3 - i];
        seen = true;
      }
      out += kGroup[g];
      written = true;
    }
    out += "元";
  }
  if (jiao == 0 && fen_digit == 0) return out + "整";
  if (jiao > 0) {
    out += kDigits[jiao];
    out += "角";
  } else if (magnitude >= 100) {
    out += kDigits[0];
  }
  if (fen_digit > 0) {
    out += kDigits[fen_digit];
    out += "分";
  } else {
    out += "整";
  }
  return out;
}

std::string IssuingAuthority(const std::string& region_code) {
  static const struct {
    const char* code;
    const char* name;
  } kCounties[] = {
      {"411302", "南阳市宛城区"}, {"411303", "南阳市卧龙区"},
      {"411321", "南召县"},       {"411322", "方城县"},
      {"411323", "西峡县"},       {"411324", "镇平县"},
      {"411325", "内乡县"},       {"411326", "淅川县"},
      {"411327", "社旗县"},       {"411328", "唐河县"},
      {"411329", "新野县"},       {"411330", "桐柏县"},
      {"411381", "邓州市"},
  };
  for (const auto& c : kCounties) {
    if (region_code == c.code) return std::string(c.name) + "教育局";
  }
  return "行政区划 " + region_code + " 教育主管部门";
}

std::string HtmlEscape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string AckMethodLabel(::eduaid::ledger::v1::AckMethod m) {
  namespace pb = ::eduaid::ledger::v1;
  switch (m) {
    case pb::ACK_METHOD_SIGNATURE:
      return "签字";
    case pb::ACK_METHOD_THUMBPRINT:
      return "按手印";
    case pb::ACK_METHOD_SMS:
      return "短信";
    case pb::ACK_METHOD_WECHAT:
      return "微信";
    case pb::ACK_METHOD_PHONE:
      return "电话";
    default:
      return "";
  }
}

std::string RenderNoticeText(const ::eduaid::ledger::v1::Notice& n) {
  const std::string authority = IssuingAuthority(n.region_code());
  std::string t;
  t += "                资助告知书\n\n";
  t += "编号：" + n.notice_no() + "\n\n";
  t += n.payee_name() + " 同学及家长：\n\n";
  t += "    根据建档立卡贫困家庭学生资助政策，" + n.payee_name() + " 同学在" +
       n.school_name() + "就读，" + TermLabel(n.term()) + "享受“" +
       n.programme_name() + "”，资助金额人民币 " + n.amount_yuan() +
       " 元（大写：" + ChineseAmountInWords(n.amount_fen()) + "），已于 " +
       n.paid_on() + " 发放。\n\n";
  t += "    如对资助有疑问，请向学校或" + authority +
       "反映；也可在公示期内提出异议。\n\n";
  t += "                                        " + authority + "\n";
  t += "                                        " + n.issued_on() + "\n\n";
  t += "------------------------------------------------------------\n";
  t += "回执（学生或家长签字后交回学校）  编号：" + n.notice_no() + "\n";
  t += "本人已收到“" + n.programme_name() + "”资助告知，金额人民币 " +
       n.amount_yuan() + " 元。\n";
  if (n.has_acknowledgement()) {
    const auto& a = n.acknowledgement();
    t += "已确认：" + a.acknowledged_on() + "，" +
         (a.party() == ::eduaid::ledger::v1::ACK_PARTY_GUARDIAN ? "家长"
                                                                : "学生") +
         AckMethodLabel(a.method()) + "确认。\n";
  } else {
    t += "签字：______________    日期：______________\n";
  }
  return t;
}

std::string RenderNoticeHtml(const ::eduaid::ledger::v1::Notice& n) {
  const std::string authority = HtmlEscape(IssuingAuthority(n.region_code()));
  const std::string payee = HtmlEscape(n.payee_name());
  const std::string programme = HtmlEscape(n.programme_name());
  const std::string yuan = HtmlEscape(n.amount_yuan());
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta "
       "charset=\"utf-8\">\n";
  h += "<title>资助告知书 " + HtmlEscape(n.notice_no()) + "</title>\n";
  h += "<style>body{font-family:serif;max-width:42em;margin:2em "
       "auto;line-height:1.8}"
       "h1{text-align:center;letter-spacing:.3em}.sign{text-align:right}"
       ".receipt{border-top:1px dashed "
       "#000;margin-top:3em;padding-top:1em}</style>\n";
  h += "</head>\n<body>\n<h1>资助告知书</h1>\n";
  h += "<p>编号：" + HtmlEscape(n.notice_no()) + "</p>\n";
  h += "<p>" + payee + " 同学及家长：</p>\n";
  h += "<p>　　根据建档立卡贫困家庭学生资助政策，" + payee + " 同学在" +
       HtmlEscape(n.school_name()) + "就读，" +
       HtmlEscape(TermLabel(n.term())) + "享受“" + programme +
       "”，资助金额人民币 <strong>" + yuan + "</strong> 元（大写：" +
       ChineseAmountInWords(n.amount_fen()) + "），已于 " +
       HtmlEscape(n.paid_on()) + " 发放。</p>\n";
  h += "<p>　　如对资助有疑问，请向学校或" + authority +
       "反映；也可在公示期内提出异议。</p>\n";
  h += "<p class=\"sign\">" + authority + "<br>" + HtmlEscape(n.issued_on()) +
       "</p>\n";
  h += "<div class=\"receipt\"><p>回执（学生或家长签字后交回学校）　编号：" +
       HtmlEscape(n.notice_no()) + "</p>\n";
  h += "<p>本人已收到“" + programme + "”资助告知，金额人民币 " + yuan +
       " 元。</p>\n";
  if (n.has_acknowledgement()) {
    const auto& a = n.acknowledgement();
    h += "<p>已确认：" + HtmlEscape(a.acknowledged_on()) + "，" +
         (a.party() == ::eduaid::ledger::v1::ACK_PARTY_GUARDIAN ? "家长"
                                                                : "学生") +
         AckMethodLabel(a.method()) + "确认。</p>\n";
  } else {
    h += "<p>签字：______________　　日期：______________</p>\n";
  }
  h += "</div>\n</body>\n</html>\n";
  return h;
}

}  // namespace eduaid::ledger
