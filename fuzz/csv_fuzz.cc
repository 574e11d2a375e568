// Fuzz target: the CSV import parser (RFC 4180, libcsv) never crashes on any
// bytes, and every record it yields has its fields intact.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "services/common/validate.h"
#include "tools/gen/csv_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  eduaid::synthetic::CsvReader reader;
  int64_t last = 1;
  reader.Parse(absl::string_view(reinterpret_cast<const char*>(data), size),
               [&](std::vector<std::string>& fields, int64_t record) {
                 if (record != last + 1) std::abort();
                 last = record;
                 for (const auto& f : fields) {
                   if (eduaid::IsValidUtf8(f)) (void)eduaid::Utf8Length(f);
                 }
                 return true;
               });
  return 0;
}
