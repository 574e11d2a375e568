// Unit tests of the common library's pure parts: validation, masking,
// crypto, tokens, page tokens and status mapping.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/common/auth.h"
#include "services/common/crypto.h"
#include "services/common/page_token.h"
#include "services/common/status.h"
#include "services/common/validate.h"

namespace eduaid {
namespace {

using ::testing::HasSubstr;

std::string FieldOf(const absl::Status& st) {
  auto v = FieldViolationsOf(st);
  return v.empty() ? "" : v[0].field;
}
std::string RuleOf(const absl::Status& st) {
  auto v = FieldViolationsOf(st);
  return v.empty() ? "" : v[0].rule;
}

TEST(IdNumber, AcceptsValidNumbersAndReportsWhatTheyTell) {
  // 11010519491231002X is the textbook example of GB 11643.
  auto info = ValidateIdNumber("id", "11010519491231002X");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->region_code, "110105");
  EXPECT_EQ(info->birth_date(), "1949-12-31");
  EXPECT_FALSE(info->male);
  EXPECT_TRUE(ValidateIdNumber("id", "11010519491231002x").ok());
  // Worked by hand: sum 142, 142 mod 11 = 10, which maps to '2'.
  EXPECT_EQ(IdCheckCharacter("41132520100301001"), '2');
  EXPECT_TRUE(ValidateIdNumber("id", "411325201003010012").ok());
}

TEST(IdNumber, RejectsEachRuleWithTheFieldNamed) {
  struct Case {
    std::string id, rule;
  } cases[] = {
      {"41132520100301001", "18 characters"},
      {"4113252010030100155", "18 characters"},
      {"41132520100301A015", "17 digits"},
      {"411325201003010016", "check character"},
      {"991325201003010015", "no such province"},
      {"411325201002300016", "not a real date"},
      {"411325201013010016", "not a real date"},
      {"411325189912310016", "not a real date"},
      {"411325209912310016", "in the future"},
  };
  for (const auto& c : cases) {
    std::string id = c.id;
    if (id.size() == 18 && c.rule != "check character" &&
        c.rule != "17 digits") {
      id = id.substr(0, 17) + IdCheckCharacter(id.substr(0, 17));
    }
    auto st = ValidateIdNumber("rows[3].id_number", id).status();
    EXPECT_EQ(st.code(), absl::StatusCode::kInvalidArgument) << id;
    EXPECT_EQ(FieldOf(st), "rows[3].id_number") << id;
    EXPECT_THAT(RuleOf(st), HasSubstr(c.rule)) << id;
    EXPECT_THAT(std::string(st.message()), ::testing::Not(HasSubstr(id)));
  }
  // Leap years: 2012-02-29 exists, 2013-02-29 does not.
  std::string leap = "41132520120229001";
  EXPECT_TRUE(ValidateIdNumber("id", leap + IdCheckCharacter(leap)).ok());
  std::string not_leap = "41132520130229001";
  EXPECT_FALSE(
      ValidateIdNumber("id", not_leap + IdCheckCharacter(not_leap)).ok());
}

TEST(Masking, HidesBirthDateSequenceAndGivenNames) {
  EXPECT_EQ(MaskIdNumber("411325201003010015"), "411325************");
  EXPECT_EQ(MaskName("王小明"), "王**");
  EXPECT_EQ(MaskName("欧阳娜娜"), "欧***");
  EXPECT_EQ(MaskName(""), "");
}

TEST(Utf8, AcceptsChineseAndRejectsMalformedSequences) {
  EXPECT_TRUE(IsValidUtf8("河南省南阳市内乡县"));
  EXPECT_TRUE(IsValidUtf8("𠀀 emoji 😀"));
  EXPECT_FALSE(IsValidUtf8("\xC3\x28"));
  EXPECT_FALSE(IsValidUtf8("\xE4\xBD"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_EQ(Utf8Length("内乡县abc"), 6u);
  auto st = ValidateText("name", std::string(51, 'a'), 50);
  EXPECT_EQ(FieldOf(st), "name");
  EXPECT_TRUE(ValidateText("name", "王小明", 3).ok());
  EXPECT_FALSE(ValidateText("name", "王小明", 2).ok());
  EXPECT_FALSE(ValidateText("name", "a\nb", 10).ok());
  EXPECT_FALSE(ValidateText("name", "", 10).ok());
  EXPECT_TRUE(ValidateText("name", "", 10, false).ok());
}

TEST(Validate, RegionsRequestIdsPageSizesDates) {
  EXPECT_TRUE(ValidateRegionCode("r", "411325").ok());
  EXPECT_FALSE(ValidateRegionCode("r", "41132").ok());
  EXPECT_FALSE(ValidateRegionCode("r", "001325").ok());
  EXPECT_TRUE(ValidateRegionPrefix("r", "").ok());
  EXPECT_TRUE(ValidateRegionPrefix("r", "4113").ok());
  EXPECT_FALSE(ValidateRegionPrefix("r", "411").ok());
  EXPECT_TRUE(ValidateRequestId("request_id", "abc-123_x.y:z").ok());
  EXPECT_EQ(FieldOf(ValidateRequestId("request_id", "")), "request_id");
  EXPECT_FALSE(ValidateRequestId("request_id", "has space").ok());
  EXPECT_FALSE(ValidateRequestId("request_id", std::string(65, 'a')).ok());
  EXPECT_EQ(*ValidatePageSize("page_size", 0, 100, 1000), 100);
  EXPECT_EQ(*ValidatePageSize("page_size", 5000, 100, 1000), 1000);
  EXPECT_EQ(FieldOf(ValidatePageSize("page_size", -1).status()), "page_size");
  EXPECT_TRUE(ValidateDate("d", "2024-02-29").ok());
  EXPECT_FALSE(ValidateDate("d", "2023-02-29").ok());
  EXPECT_EQ(AgeOn("2010-09-02", "2016-09-01"), 5);
  EXPECT_EQ(AgeOn("2010-09-01", "2016-09-01"), 6);
}

TEST(FieldCrypto, NoncesNeverRepeatAndTwoKeysOnOneThreadStayApart) {
  auto a = FieldCrypto::Create(std::string(64, 'a'));
  auto b = FieldCrypto::Create(std::string(64, 'b'));
  ASSERT_TRUE(a.ok() && b.ok());
  // Nonces come from a per-thread pool refilled every 64: across several
  // refills no two ciphertexts (nonce first) of one plaintext are equal.
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string enc = (*a)->Encrypt("411325201001010012", "ctx");
    EXPECT_TRUE(seen.insert(enc).second) << "repeated at " << i;
    // Alternating keys on the same thread must re-key the cached context.
    std::string other = (*b)->Encrypt("411325201001010012", "ctx");
    EXPECT_EQ(*(*a)->Decrypt(enc, "ctx"), "411325201001010012");
    EXPECT_EQ(*(*b)->Decrypt(other, "ctx"), "411325201001010012");
    EXPECT_FALSE((*a)->Decrypt(other, "ctx").ok());
  }
}

TEST(FieldCrypto, RoundTripsAndDetectsTamperingAndWrongContext) {
  auto c = FieldCrypto::Create(std::string(64, 'a'));
  ASSERT_TRUE(c.ok());
  std::string enc = (*c)->Encrypt("王小明", "members.name");
  EXPECT_EQ(enc.find("王"), std::string::npos);
  EXPECT_NE(enc, (*c)->Encrypt("王小明", "members.name"));  // fresh nonce
  EXPECT_EQ(*(*c)->Decrypt(enc, "members.name"), "王小明");
  EXPECT_EQ((*c)->Decrypt(enc, "members.id_number").status().code(),
            absl::StatusCode::kDataLoss);
  // Flip one bit of the ciphertext itself (not of the base64 padding bits).
  size_t colon = enc.find(':');
  auto raw = Base64Decode(enc.substr(colon + 1));
  ASSERT_TRUE(raw.ok());
  for (size_t i : {size_t{0}, size_t{13}, raw->size() - 1}) {
    std::string bytes = *raw;
    bytes[i] ^= 0x01;
    std::string tampered = enc.substr(0, colon + 1) + Base64Encode(bytes);
    EXPECT_EQ((*c)->Decrypt(tampered, "members.name").status().code(),
              absl::StatusCode::kDataLoss)
        << "byte " << i;
  }
  EXPECT_EQ((*c)->BlindIndex("x", "ctx"), (*c)->BlindIndex("x", "ctx"));
  EXPECT_NE((*c)->BlindIndex("x", "ctx"), (*c)->BlindIndex("x", "ctx2"));
  EXPECT_EQ((*c)->BlindIndex("x", "ctx").size(), 64u);
  EXPECT_FALSE(FieldCrypto::Create("short").ok());
}

TEST(FieldCrypto, RotationDecryptsOldValuesWithThePreviousKey) {
  auto old_key = FieldCrypto::Create(std::string(64, 'b'));
  std::string enc = (*old_key)->Encrypt("411325201003010015", "id");
  auto rotated =
      FieldCrypto::Create(std::string(64, 'c'), {std::string(64, 'b')});
  ASSERT_TRUE(rotated.ok());
  EXPECT_EQ(*(*rotated)->Decrypt(enc, "id"), "411325201003010015");
  auto other = FieldCrypto::Create(std::string(64, 'c'));
  EXPECT_FALSE((*other)->Decrypt(enc, "id").ok());
}

std::string GenerateEcKeyPem(std::string* public_pem) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  BIO* priv = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(priv, key, nullptr, nullptr, 0, nullptr, nullptr);
  BIO* pub = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(pub, key);
  char* data;
  long n = BIO_get_mem_data(priv, &data);
  std::string out(data, n);
  n = BIO_get_mem_data(pub, &data);
  public_pem->assign(data, n);
  BIO_free(priv);
  BIO_free(pub);
  EVP_PKEY_free(key);
  return out;
}

TEST(Authenticator, VerifiesHs256AndRejectsEachKindOfBadToken) {
  AuthOptions o;
  o.hs256_secret = "s3cret";
  Authenticator auth(o);
  TokenClaims c;
  c.subject = "officer-a";
  c.role = Role::kCountyOfficer;
  c.region = "411325";
  auto p = auth.Verify("Bearer " + MintHs256Token(c, "s3cret"));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->subject, "officer-a");
  EXPECT_EQ(p->role, Role::kCountyOfficer);
  EXPECT_TRUE(p->Covers("411325"));
  EXPECT_FALSE(p->Covers("411326"));
  // Cached path gives the same answer.
  EXPECT_TRUE(auth.Verify("Bearer " + MintHs256Token(c, "s3cret")).ok());

  auto code = [&](const std::string& header) {
    return auth.Verify(header).status().code();
  };
  EXPECT_EQ(code(""), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code("Basic abc"), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(code("Bearer " + MintHs256Token(c, "other")),
            absl::StatusCode::kUnauthenticated);
  TokenClaims expired = c;
  expired.issued_at = time(nullptr) - 7200;
  EXPECT_EQ(code("Bearer " + MintHs256Token(expired, "s3cret")),
            absl::StatusCode::kUnauthenticated);
  TokenClaims aud = c;
  aud.audience = "someone-else";
  EXPECT_EQ(code("Bearer " + MintHs256Token(aud, "s3cret")),
            absl::StatusCode::kUnauthenticated);
  TokenClaims iss = c;
  iss.issuer = "evil";
  EXPECT_EQ(code("Bearer " + MintHs256Token(iss, "s3cret")),
            absl::StatusCode::kUnauthenticated);
  // alg "none" is never accepted.
  std::string none =
      Base64Encode(R"({"alg":"none"})", true) + "." +
      Base64Encode(
          R"({"sub":"x","role":"province_officer","iss":"eduaid","aud":"eduaid","exp":9999999999})",
          true) +
      ".";
  EXPECT_EQ(code("Bearer " + none), absl::StatusCode::kUnauthenticated);
  // A county officer without a region is refused.
  TokenClaims no_region = c;
  no_region.region = "";
  EXPECT_EQ(code("Bearer " + MintHs256Token(no_region, "s3cret")),
            absl::StatusCode::kUnauthenticated);
}

TEST(Authenticator, VerifiesEs256WithAPublicKeyOnly) {
  std::string pub;
  std::string priv = GenerateEcKeyPem(&pub);
  AuthOptions o;
  o.public_keys_pem = {pub};
  Authenticator auth(o);
  TokenClaims c;
  c.subject = "ledger";
  c.role = Role::kService;
  auto token = MintEs256Token(c, priv);
  ASSERT_TRUE(token.ok());
  auto p = auth.Verify("Bearer " + *token);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->role, Role::kService);
  std::string other_pub;
  std::string other = GenerateEcKeyPem(&other_pub);
  auto forged = MintEs256Token(c, other);
  EXPECT_FALSE(auth.Verify("Bearer " + *forged).ok());
  // HS256 tokens are refused when no HS256 secret is configured.
  EXPECT_FALSE(auth.Verify("Bearer " + MintHs256Token(c, "")).ok());
}

TEST(Policy, ScopesAndRoles) {
  Principal county{"a", Role::kCountyOfficer, "411325", ""};
  EXPECT_TRUE(CheckRegion(county, "411325").ok());
  EXPECT_EQ(CheckRegion(county, "411326").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(*ScopeRegionFilter(county, ""), "411325");
  EXPECT_EQ(*ScopeRegionFilter(county, "411325"), "411325");
  EXPECT_EQ(ScopeRegionFilter(county, "4113").status().code(),
            absl::StatusCode::kPermissionDenied);
  Principal city{"b", Role::kCityOfficer, "4113", ""};
  EXPECT_EQ(*ScopeRegionFilter(city, "411326"), "411326");
  Principal auditor{"c", Role::kAuditor, "", ""};
  EXPECT_FALSE(auditor.CanWrite());
  EXPECT_TRUE(auditor.SeesPersonalData());
  Principal agency{"d", Role::kAgency, "4113", ""};
  EXPECT_FALSE(agency.CanWrite());
  EXPECT_FALSE(agency.SeesPersonalData());
}

TEST(PageToken, RoundTripsAndRejectsForgeryAndOtherFilters) {
  std::string t = EncodePageToken("12345", "students|4113|");
  EXPECT_EQ(*DecodePageToken(t, "students|4113|"), "12345");
  EXPECT_EQ(*DecodePageToken("", "x"), "");
  EXPECT_EQ(FieldOf(DecodePageToken(t, "students|4114|").status()),
            "page_token");
  std::string forged = t;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(DecodePageToken(forged, "students|4113|").ok());
  EXPECT_FALSE(DecodePageToken("!!!", "x").ok());
  EXPECT_FALSE(DecodePageToken(std::string(2000, 'A'), "x").ok());
}

TEST(Status, ViolationsThatQuoteBadBytesStayValidUtf8) {
  absl::Status st =
      InvalidField("policy", "unexpected token \"\xff\xfe\" near 内乡");
  auto v = FieldViolationsOf(FromGrpcStatus(ToGrpcStatus(st)));
  ASSERT_EQ(v.size(), 1u);
  EXPECT_TRUE(IsValidUtf8(v[0].rule));
  EXPECT_THAT(v[0].rule, HasSubstr("\xEF\xBF\xBD\xEF\xBF\xBD"));
  EXPECT_THAT(v[0].rule, HasSubstr("内乡"));
  EXPECT_TRUE(IsValidUtf8(std::string(st.message())));
}

TEST(Status, FieldViolationsAndReasonsSurviveTheGrpcEdge) {
  absl::Status st = InvalidFields({{"rows[1].name", "must be valid UTF-8"},
                                   {"rows[2].id_number", "check character"}});
  grpc::Status g = ToGrpcStatus(st);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(g.error_message(),
              HasSubstr("rows[1].name: must be valid UTF-8"));
  auto back = FieldViolationsOf(FromGrpcStatus(g));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].field, "rows[2].id_number");
  absl::Status r =
      WithReason(absl::StatusCode::kFailedPrecondition, "SAME_APPROVER", "no");
  EXPECT_EQ(ReasonOf(FromGrpcStatus(ToGrpcStatus(r))), "SAME_APPROVER");
  EXPECT_STREQ(GrpcCodeName(grpc::StatusCode::INVALID_ARGUMENT),
               "InvalidArgument");
}

}  // namespace
}  // namespace eduaid
