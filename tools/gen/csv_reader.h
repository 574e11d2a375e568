// RFC 4180 CSV records (quotes, embedded commas and newlines) streamed from
// a file or a buffer, with libcsv. Fields whose bytes are not valid UTF-8
// are reported, never passed on: the caller decides how to reject the row.
#ifndef EDUAID_TOOLS_GEN_CSV_READER_H_
#define EDUAID_TOOLS_GEN_CSV_READER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace eduaid::synthetic {

class CsvReader {
 public:
  // Called for each record after the header; `record` counts the header as
  // 1. Return false to stop.
  using Callback =
      std::function<bool(std::vector<std::string>& fields, int64_t record)>;

  // Reads `path`; `progress` gets the fraction of bytes read. False (with a
  // message on stderr) when the file cannot be read or is not valid CSV.
  bool Read(const std::string& path, const Callback& on_record,
            const std::function<void(double)>& progress);

  // The same over a buffer. False when it is not valid CSV.
  bool Parse(absl::string_view data, const Callback& on_record);

  // A message for the last failure.
  const std::string& error() const { return error_; }

 private:
  static void Field(void* s, size_t len, void* data);
  static void Record(int, void* data);
  const Callback* cb_ = nullptr;
  std::vector<std::string> fields_;
  int64_t record_ = 0;
  bool ok_ = true;
  std::string error_;
};

}  // namespace eduaid::synthetic

#endif  // EDUAID_TOOLS_GEN_CSV_READER_H_
