// Written notices (书面告知) of payments, rendered as UTF-8 text and HTML,
// and the money formats they use: a small library of its own, so that
// eductl, which prints the letters, and the ledger, which fills
// Notice.amount_yuan, share one implementation without eductl reaching into
// the ledger's internals. Pure functions of the Notice message;
// thread-safe.
#ifndef EDUAID_SERVICES_LEDGER_NOTICE_NOTICE_FORMAT_H_
#define EDUAID_SERVICES_LEDGER_NOTICE_NOTICE_FORMAT_H_

#include <cstdint>
#include <string>

#include "eduaid/ledger/v1/ledger.pb.h"

namespace eduaid::ledger {

// "500.00", "-0.05": yuan from fen, exactly (integer arithmetic only).
std::string FormatYuan(int64_t fen);

// The amount in capital Chinese numerals as financial documents write it
// (大写金额): 62500 fen -> "陆佰贰拾伍元整", 100005 -> "壹仟元零伍分".
// Negative amounts get a leading "负"; 0 -> "零元整".
std::string ChineseAmountInWords(int64_t fen);

// The education authority that issues a notice for a county of Nanyang
// (GB/T 2260), or a generic name for other regions.
std::string IssuingAuthority(const std::string& region_code);

// `s` with & < > " ' as HTML entities.
std::string HtmlEscape(const std::string& s);

// How a notice was acknowledged, in Chinese ("签字", "按手印", ...).
std::string AckMethodLabel(::eduaid::ledger::v1::AckMethod m);

// The notice as a plain-text letter (UTF-8), with a tear-off receipt.
std::string RenderNoticeText(const ::eduaid::ledger::v1::Notice& n);

// The notice as a self-contained HTML page (UTF-8, printable).
std::string RenderNoticeHtml(const ::eduaid::ledger::v1::Notice& n);

}  // namespace eduaid::ledger

#endif  // EDUAID_SERVICES_LEDGER_NOTICE_NOTICE_FORMAT_H_
