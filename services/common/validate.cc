#include "services/common/validate.h"

#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "services/common/status.h"

namespace eduaid {
namespace {

bool IsKnownProvince(int p) {
  switch (p) {
    case 11:
    case 12:
    case 13:
    case 14:
    case 15:
    case 21:
    case 22:
    case 23:
    case 31:
    case 32:
    case 33:
    case 34:
    case 35:
    case 36:
    case 37:
    case 41:
    case 42:
    case 43:
    case 44:
    case 45:
    case 46:
    case 50:
    case 51:
    case 52:
    case 53:
    case 54:
    case 61:
    case 62:
    case 63:
    case 64:
    case 65:
    case 71:
    case 81:
    case 82:
      return true;
    default:
      return false;
  }
}

bool AllDigits(absl::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && IsLeap(y)) return 29;
  return kDays[m - 1];
}

bool ParseYmd(absl::string_view s, int* y, int* m, int* d) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  if (!AllDigits(s.substr(0, 4)) || !AllDigits(s.substr(5, 2)) ||
      !AllDigits(s.substr(8, 2)))
    return false;
  *y = std::stoi(std::string(s.substr(0, 4)));
  *m = std::stoi(std::string(s.substr(5, 2)));
  *d = std::stoi(std::string(s.substr(8, 2)));
  return *m >= 1 && *m <= 12 && *d >= 1 && *d <= DaysInMonth(*y, *m);
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p < n + 1) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
        (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    p += n + 1;
  }
  return true;
}

size_t Utf8Length(absl::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

absl::Status ValidateText(absl::string_view field, absl::string_view value,
                          size_t max_chars, bool required) {
  if (!IsValidUtf8(value)) return InvalidField(field, "must be valid UTF-8");
  if (required && value.empty()) return InvalidField(field, "is required");
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7F) {
      return InvalidField(field, "must not contain control characters");
    }
  }
  if (Utf8Length(value) > max_chars) {
    return InvalidField(field, absl::StrFormat("must be at most %d characters",
                                               static_cast<int>(max_chars)));
  }
  return absl::OkStatus();
}

std::string IdNumberInfo::birth_date() const {
  return absl::StrFormat("%04d-%02d-%02d", birth_year, birth_month, birth_day);
}

char IdCheckCharacter(absl::string_view first17) {
  static const int kWeights[17] = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                   3, 7, 9,  10, 5, 8, 4, 2};
  static const char kMap[11] = {'1', '0', 'X', '9', '8', '7',
                                '6', '5', '4', '3', '2'};
  int sum = 0;
  for (int i = 0; i < 17 && i < static_cast<int>(first17.size()); ++i) {
    sum += (first17[i] - '0') * kWeights[i];
  }
  return kMap[sum % 11];
}

std::string NormalizeIdNumber(absl::string_view id) {
  std::string s(absl::StripAsciiWhitespace(id));
  if (!s.empty() && s.back() == 'x') s.back() = 'X';
  return s;
}

absl::StatusOr<IdNumberInfo> ValidateIdNumber(absl::string_view field,
                                              absl::string_view raw) {
  std::string id = NormalizeIdNumber(raw);
  if (id.size() != 18) {
    return InvalidField(field, "must be 18 characters (GB 11643)");
  }
  if (!AllDigits(absl::string_view(id).substr(0, 17)) ||
      !(AllDigits(absl::string_view(id).substr(17)) || id[17] == 'X')) {
    return InvalidField(field, "must be 17 digits and a digit or X (GB 11643)");
  }
  IdNumberInfo info;
  info.region_code = id.substr(0, 6);
  if (!IsKnownProvince(std::stoi(id.substr(0, 2)))) {
    return InvalidField(field, "region code has no such province (GB/T 2260)");
  }
  info.birth_year = std::stoi(id.substr(6, 4));
  info.birth_month = std::stoi(id.substr(10, 2));
  info.birth_day = std::stoi(id.substr(12, 2));
  if (info.birth_year < 1900 || info.birth_month < 1 || info.birth_month > 12 ||
      info.birth_day < 1 ||
      info.birth_day > DaysInMonth(info.birth_year, info.birth_month)) {
    return InvalidField(field, "birth date is not a real date (GB 11643)");
  }
  if (info.birth_date() > TodayCst()) {
    return InvalidField(field, "birth date is in the future (GB 11643)");
  }
  if (IdCheckCharacter(id) != id[17]) {
    return InvalidField(field,
                        "check character does not match (GB 11643 MOD 11-2)");
  }
  info.male = ((id[16] - '0') % 2) == 1;
  return info;
}

std::string MaskIdNumber(absl::string_view id) {
  if (id.size() != 18) return std::string(id.size(), '*');
  return std::string(id.substr(0, 6)) + std::string(12, '*');
}

std::string MaskName(absl::string_view name) {
  if (name.empty()) return "";
  size_t first = 1;
  while (first < name.size() &&
         (static_cast<unsigned char>(name[first]) & 0xC0) == 0x80)
    ++first;
  size_t rest = Utf8Length(name.substr(first));
  return std::string(name.substr(0, first)) + std::string(rest, '*');
}

absl::Status ValidateRegionCode(absl::string_view field,
                                absl::string_view code) {
  if (code.size() != 6 || !AllDigits(code)) {
    return InvalidField(field, "must be a 6-digit region code (GB/T 2260)");
  }
  if (!IsKnownProvince(std::stoi(std::string(code.substr(0, 2))))) {
    return InvalidField(field, "has no such province (GB/T 2260)");
  }
  return absl::OkStatus();
}

absl::Status ValidateRegionPrefix(absl::string_view field,
                                  absl::string_view prefix) {
  if (prefix.empty()) return absl::OkStatus();
  if (!(prefix.size() == 2 || prefix.size() == 4 || prefix.size() == 6) ||
      !AllDigits(prefix)) {
    return InvalidField(field, "must be 2, 4 or 6 digits of a region code");
  }
  if (!IsKnownProvince(std::stoi(std::string(prefix.substr(0, 2))))) {
    return InvalidField(field, "has no such province (GB/T 2260)");
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return InvalidField(field, "is required (AIP-155)");
  if (id.size() > 64)
    return InvalidField(field, "must be at most 64 characters");
  for (char c : id) {
    if (!(absl::ascii_isalnum(c) || c == '.' || c == '_' || c == ':' ||
          c == '-')) {
      return InvalidField(field, "may contain only A-Z a-z 0-9 . _ : -");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<int> ValidatePageSize(absl::string_view field, int32_t size,
                                     int def, int max) {
  if (size < 0) return InvalidField(field, "must not be negative");
  if (size == 0) return def;
  return size > max ? max : static_cast<int>(size);
}

absl::Status ValidateDate(absl::string_view field, absl::string_view date) {
  int y, m, d;
  if (!ParseYmd(date, &y, &m, &d) || y < 1900 || y > 2200) {
    return InvalidField(field, "must be a real date YYYY-MM-DD");
  }
  return absl::OkStatus();
}

std::string TodayCst() {
  time_t now = time(nullptr) + 8 * 3600;
  struct tm tm;
  gmtime_r(&now, &tm);
  return absl::StrFormat("%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                         tm.tm_mday);
}

int AgeOn(absl::string_view birth_date, absl::string_view on_date) {
  int by, bm, bd, y, m, d;
  if (!ParseYmd(birth_date, &by, &bm, &bd) || !ParseYmd(on_date, &y, &m, &d))
    return -1;
  int age = y - by;
  if (m < bm || (m == bm && d < bd)) --age;
  return age;
}

bool IsCode(absl::string_view s, size_t max) {
  if (s.empty() || s.size() > max) return false;
  for (char c : s) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return true;
}

absl::Status ValidateMemberId(absl::string_view field, absl::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (char c : id) {
    ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
                c == '.' || c == '_' || c == ':' || c == '-');
  }
  if (ok) return absl::OkStatus();
  return InvalidField(field,
                      "must be a registry member id (1..64 of "
                      "A-Z a-z 0-9 . _ : -), e.g. m-123");
}

absl::Status ValidateRecordId(absl::string_view field, int64_t id) {
  if (id <= 0) return InvalidField(field, "must be a positive id");
  return absl::OkStatus();
}

}  // namespace eduaid
