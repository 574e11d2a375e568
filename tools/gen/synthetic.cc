#include "tools/gen/synthetic.h"

#include <cstdio>
#include <random>
#include <unordered_set>

#include "services/common/validate.h"

namespace eduaid::synthetic {
namespace {

const char* kSurnames[] = {"王", "李", "张", "刘", "陈", "杨", "赵", "黄",
                           "周", "吴", "徐", "孙", "马", "朱", "胡", "郭",
                           "何", "高", "林", "罗", "郑", "梁", "谢", "宋"};
const char* kGiven[] = {"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军",
                        "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀",
                        "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "梅",
                        "鑫", "浩", "宇", "欣", "怡", "子", "涵", "博", "文"};

struct County {
  const char* code;
  const char* name;
};
const County kCounties[] = {
    {"411302", "宛城区"}, {"411303", "卧龙区"}, {"411321", "南召县"},
    {"411322", "方城县"}, {"411323", "西峡县"}, {"411324", "镇平县"},
    {"411325", "内乡县"}, {"411326", "淅川县"}, {"411327", "社旗县"},
    {"411328", "唐河县"}, {"411329", "新野县"}, {"411330", "桐柏县"},
    {"411381", "邓州市"}};

std::string Quote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

const char kHouseholdsHeader[] =
    "household_id,region_code,registration_year,household_status,id_number,"
    "name,relation";
const char kSchoolsHeader[] = "code,name,region_code,stages,rural";
const char kEnrolmentsHeader[] =
    "id_number,school_code,stage,grade,term,status,boarder";

const std::vector<std::string>& NanyangCounties() {
  static const auto* v = [] {
    auto* out = new std::vector<std::string>();
    for (const auto& c : kCounties) out->push_back(c.code);
    return out;
  }();
  return *v;
}

std::string CountyName(const std::string& code) {
  for (const auto& c : kCounties) {
    if (code == c.code) return c.name;
  }
  return "";
}

std::string MakeIdNumber(const std::string& region, const std::string& yyyymmdd,
                         int sequence) {
  char seq[8];
  snprintf(seq, sizeof seq, "%03d", sequence % 1000);
  std::string first17 = region + yyyymmdd + seq;
  return first17 + IdCheckCharacter(first17);
}

namespace {

// One household of the registration export, as its members' rows repeat it.
struct Household {
  std::string hid, region, reg_year, status;
};

// Generate()'s state: one random stream drawn in a fixed order (the data
// depends on the seed alone), the ID numbers used so far, and the data.
class Generator {
 public:
  explicit Generator(const Options& options)
      : options_(options),
        rng_(options.seed),
        regions_(options.regions.empty() ? NanyangCounties() : options.regions),
        as_of_(options.as_of.empty()
                   ? std::to_string(options.term_year) + "-09-01"
                   : options.as_of),
        term_(std::to_string(options.term_year) + "-autumn") {}

  Data Run() {
    AddSchools();
    for (int64_t h = 0; h < options_.households; ++h) AddHousehold(h);
    if (options_.dup_rate > 0 || options_.bad_rate > 0) AddDuplicatesAndBad();
    return std::move(data_);
  }

 private:
  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  double Unit() { return std::uniform_real_distribution<double>(0, 1)(rng_); }
  bool Chance(double p) { return Unit() < p; }

  // Schools: per county, rural and urban schools of each stage.
  void AddSchools() {
    struct Stage {
      const char* key;
      const char* suffix;
      const char* label;
      int count;
    };
    const Stage stages[] = {{"preschool", "K", "幼儿园", 2},
                            {"primary", "P", "小学", 3},
                            {"junior_high", "J", "初级中学", 2},
                            {"senior_high", "S", "高级中学", 1},
                            {"secondary_vocational", "V", "职业中专", 1}};
    const char* ordinals[] = {"第一", "第二", "第三", "第四"};
    for (const auto& region : regions_) {
      std::string county = CountyName(region);
      if (county.empty()) county = region;
      for (const auto& st : stages) {
        for (int i = 0; i < st.count; ++i) {
          SchoolRow s;
          s.code = "S" + region + st.suffix + std::to_string(i + 1);
          s.name = county + ordinals[i] + st.label;
          s.region_code = region;
          s.stages = st.key;
          s.rural = i > 0;
          data_.schools.push_back(s);
        }
      }
    }
  }

  std::string SchoolFor(const std::string& region, const char* suffix,
                        int count) {
    return "S" + region + suffix + std::to_string(Uniform(1, count));
  }

  std::string NewId(const std::string& region, int birth_year, bool male) {
    for (;;) {
      int month = Uniform(1, 12);
      int day = Uniform(1, 28);
      char date[16];
      snprintf(date, sizeof date, "%04d%02d%02d", birth_year, month, day);
      int seq = Uniform(0, 499) * 2 + (male ? 1 : 0);
      std::string id = MakeIdNumber(region, date, seq);
      if (used_ids_.insert(id).second) return id;
    }
  }

  std::string Name() {
    std::string n = kSurnames[Uniform(0, 23)];
    n += kGiven[Uniform(0, 35)];
    if (Chance(0.6)) n += kGiven[Uniform(0, 35)];
    return n;
  }

  int AgeToYear(int age) const {
    return std::stoi(as_of_.substr(0, 4)) - age - 1;
  }

  void AddHousehold(int64_t h) {
    // County by county, as the registration system exports them.
    const std::string& region = regions_[static_cast<size_t>(
        h * static_cast<int64_t>(regions_.size()) / options_.households)];
    char hid[40];
    snprintf(hid, sizeof hid, "H%s%07lld", region.c_str(),
             static_cast<long long>(h + 1));
    Household hh{hid, region, "", ""};
    hh.reg_year = std::to_string(Uniform(2014, 2019));
    hh.status = Chance(0.7) ? "poor" : "lifted";
    auto add = [&](const std::string& id, const std::string& nm,
                   const char* relation) {
      MemberRow m{hh.hid, hh.region, hh.reg_year, hh.status, id, nm, relation};
      data_.members.push_back(m);
    };
    int parent_age = Uniform(28, 50);
    std::string surname_name = Name();
    add(NewId(region, AgeToYear(parent_age), true), surname_name, "head");
    if (Chance(0.85)) {
      add(NewId(region, AgeToYear(parent_age - Uniform(0, 4)), false), Name(),
          "spouse");
    }
    if (Chance(0.3)) {
      add(NewId(region, AgeToYear(parent_age + Uniform(22, 30)), Chance(0.5)),
          Name(), "parent");
    }
    int children = Uniform(1, 3);
    for (int c = 0; c < children; ++c) AddChild(hh, add);
  }

  template <typename Add>
  void AddChild(const Household& hh, Add& add) {
    int age = Uniform(2, 19);
    bool male = Chance(0.52);
    std::string id = NewId(hh.region, AgeToYear(age) + 1, male);
    // AgeToYear(age)+1 with month/day <= 09-01 gives exactly `age` on as_of
    // for most births; recompute the precise age from the ID for the roster.
    add(id, Name(), "child");
    int real_age =
        AgeOn(id.substr(6, 4) + "-" + id.substr(10, 2) + "-" + id.substr(12, 2),
              as_of_);
    bool compulsory = real_age >= 6 && real_age <= 15;
    if (compulsory) ++data_.children_6_15;
    if (compulsory && Chance(options_.out_of_school_rate)) {
      ++data_.out_of_school_6_15;
      if (Chance(0.5) && real_age >= 8) {
        // Was on a roster, then dropped out.
        data_.enrolments.push_back(
            {id, SchoolFor(hh.region, "P", 3), "primary",
             std::to_string(std::min(6, std::max(1, real_age - 6))), term_,
             "dropped_out", "0"});
      }
      return;
    }
    EnrolmentRowText e{
        id, "", "", "", term_, "enrolled", Chance(0.3) ? "1" : "0"};
    if (PlaceOnRoster(hh.region, real_age, &e)) data_.enrolments.push_back(e);
  }

  // The school, stage and grade of a child of `real_age` on a roster; false
  // when the child is on none (too young or too old, or not in preschool).
  bool PlaceOnRoster(const std::string& region, int real_age,
                     EnrolmentRowText* e) {
    if (real_age >= 3 && real_age <= 5) {
      if (!Chance(0.8)) return false;
      e->school_code = SchoolFor(region, "K", 2);
      e->stage = "preschool";
      e->grade = std::to_string(real_age - 2);
    } else if (real_age >= 6 && real_age <= 11) {
      e->school_code = SchoolFor(region, "P", 3);
      e->stage = "primary";
      e->grade = std::to_string(real_age - 5);
    } else if (real_age >= 12 && real_age <= 14) {
      e->school_code = SchoolFor(region, "J", 2);
      e->stage = "junior_high";
      e->grade = std::to_string(real_age - 11);
    } else if (real_age == 15) {
      // Either in the last year of junior high or graduated from it.
      if (Chance(0.5)) {
        e->school_code = SchoolFor(region, "J", 2);
        e->stage = "junior_high";
        e->grade = "3";
      } else {
        e->school_code = SchoolFor(region, "S", 1);
        e->stage = "senior_high";
        e->grade = "1";
      }
    } else if (real_age >= 16 && real_age <= 18) {
      return PlaceSixteenToEighteen(region, real_age, e);
    } else {
      return false;
    }
    return true;
  }

  bool PlaceSixteenToEighteen(const std::string& region, int real_age,
                              EnrolmentRowText* e) {
    double r = Unit();
    if (r < 0.55) {
      e->school_code = SchoolFor(region, "S", 1);
      e->stage = "senior_high";
    } else if (r < 0.8) {
      e->school_code = SchoolFor(region, "V", 1);
      e->stage = "secondary_vocational";
    } else {
      // Junior-high graduate who did not go on: vocational routing.
      e->school_code = SchoolFor(region, "J", 2);
      e->stage = "junior_high";
      e->grade = "3";
      e->status = "graduated";
      return true;
    }
    e->grade = std::to_string(std::min(3, real_age - 15));
    return true;
  }

  // Duplicates and bad rows, at the chosen rates.
  void AddDuplicatesAndBad() {
    std::vector<MemberRow> out;
    out.reserve(data_.members.size() * 11 / 10);
    for (const auto& m : data_.members) {
      out.push_back(m);
      if (Chance(options_.dup_rate)) {
        MemberRow d = m;
        d.duplicate = true;
        out.push_back(d);
      }
      if (Chance(options_.bad_rate)) out.push_back(BadRow(m));
    }
    data_.members = std::move(out);
  }

  MemberRow BadRow(const MemberRow& m) {
    MemberRow b = m;
    b.bad = true;
    b.household_id = m.household_id;
    switch (Uniform(0, 4)) {
      case 0:  // wrong check character
        b.id_number =
            m.id_number.substr(0, 17) + (m.id_number[17] == '1' ? '2' : '1');
        break;
      case 1:  // impossible birth date (February 30)
        b.id_number = MakeIdNumber(m.region_code, "20120230", 11);
        break;
      case 2:
        b.name = "";
        break;
      case 3:
        b.region_code = "991325";
        break;
      default:
        b.relation = "neighbour";
        break;
    }
    return b;
  }

  const Options& options_;
  std::mt19937_64 rng_;
  std::vector<std::string> regions_;
  const std::string as_of_;
  const std::string term_;
  std::unordered_set<std::string> used_ids_;
  Data data_;
};

}  // namespace

Data Generate(const Options& options) { return Generator(options).Run(); }

void WriteHouseholdsCsv(const std::vector<MemberRow>& rows, std::ostream& out) {
  out << kHouseholdsHeader << "\n";
  for (const auto& r : rows) {
    out << Quote(r.household_id) << ',' << Quote(r.region_code) << ','
        << Quote(r.registration_year) << ',' << Quote(r.household_status) << ','
        << Quote(r.id_number) << ',' << Quote(r.name) << ','
        << Quote(r.relation) << "\n";
  }
}

void WriteSchoolsCsv(const std::vector<SchoolRow>& rows, std::ostream& out) {
  out << kSchoolsHeader << "\n";
  for (const auto& r : rows) {
    out << Quote(r.code) << ',' << Quote(r.name) << ',' << Quote(r.region_code)
        << ',' << Quote(r.stages) << ',' << (r.rural ? "1" : "0") << "\n";
  }
}

void WriteEnrolmentsCsv(const std::vector<EnrolmentRowText>& rows,
                        std::ostream& out) {
  out << kEnrolmentsHeader << "\n";
  for (const auto& r : rows) {
    out << Quote(r.id_number) << ',' << Quote(r.school_code) << ','
        << Quote(r.stage) << ',' << Quote(r.grade) << ',' << Quote(r.term)
        << ',' << Quote(r.status) << ',' << Quote(r.boarder) << "\n";
  }
}

}  // namespace eduaid::synthetic
