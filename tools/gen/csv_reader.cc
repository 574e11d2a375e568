#include "tools/gen/csv_reader.h"

#include <csv.h>

#include <fstream>
#include <iostream>

namespace eduaid::synthetic {

void CsvReader::Field(void* s, size_t len, void* data) {
  auto* self = static_cast<CsvReader*>(data);
  self->fields_.emplace_back(static_cast<char*>(s), len);
}

void CsvReader::Record(int, void* data) {
  auto* self = static_cast<CsvReader*>(data);
  ++self->record_;
  if (self->record_ > 1 && self->ok_) {
    self->ok_ = (*self->cb_)(self->fields_, self->record_);
  }
  self->fields_.clear();
}

bool CsvReader::Parse(absl::string_view data, const Callback& on_record) {
  csv_parser p;
  csv_init(&p, CSV_APPEND_NULL);
  cb_ = &on_record;
  record_ = 0;
  ok_ = true;
  fields_.clear();
  bool parsed = csv_parse(&p, data.data(), data.size(), &Field, &Record,
                          this) == data.size();
  if (!parsed) {
    error_ = std::string("CSV parse error at record ") +
             std::to_string(record_ + 1) + ": " + csv_strerror(csv_error(&p));
  } else {
    csv_fini(&p, &Field, &Record, this);
  }
  csv_free(&p);
  return parsed && ok_;
}

bool CsvReader::Read(const std::string& path, const Callback& on_record,
                     const std::function<void(double)>& progress) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error_ = "cannot open " + path;
    std::cerr << "error: " << error_ << "\n";
    return false;
  }
  in.seekg(0, std::ios::end);
  double size = static_cast<double>(in.tellg());
  in.seekg(0);
  csv_parser p;
  csv_init(&p, CSV_APPEND_NULL);
  cb_ = &on_record;
  record_ = 0;
  ok_ = true;
  std::vector<char> buf(1 << 16);
  double done = 0;
  while (in && ok_) {
    in.read(buf.data(), buf.size());
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    if (csv_parse(&p, buf.data(), n, &Field, &Record, this) !=
        static_cast<size_t>(n)) {
      error_ = std::string("CSV parse error at record ") +
               std::to_string(record_ + 1) + ": " + csv_strerror(csv_error(&p));
      std::cerr << "error: " << error_ << "\n";
      csv_free(&p);
      return false;
    }
    done += n;
    if (progress) progress(size > 0 ? done / size : 1);
  }
  csv_fini(&p, &Field, &Record, this);
  csv_free(&p);
  return ok_;
}

}  // namespace eduaid::synthetic
