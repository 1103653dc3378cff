// The CN of a client certificate names a syslog TLS client's tenant: exactly one CN, valid text
// of its string type, converted to UTF-8; anything odd is refused, never guessed.
#include <gtest/gtest.h>
#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

#include "tls/client_certificate.hpp"

namespace logpipe::tls {
namespace {

struct Entry {
  int nid;
  int type;  // V_ASN1_* (the bytes as they are) or MBSTRING_* (converted by OpenSSL)
  std::string bytes;
  int set = 0;  // 1: in the same RDN as the entry before (a multi-valued RDN)
};

using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

// A certificate with just this subject: common_name reads only the subject.
Certificate with_subject(const std::vector<Entry>& entries) {
  Certificate cert(X509_new(), X509_free);
  X509_NAME* name = X509_get_subject_name(cert.get());
  for (const auto& e : entries) {
    EXPECT_EQ(X509_NAME_add_entry_by_NID(name, e.nid, e.type,
                                         reinterpret_cast<const unsigned char*>(e.bytes.data()),
                                         static_cast<int>(e.bytes.size()), -1, e.set),
              1);
  }
  return cert;
}

std::string error_of(const core::Result<std::string>& r) {
  return r ? "no error but \"" + *r + "\"" : r.error().message;
}

TEST(TlsClientCertificate, TheOneCnIsTheTenant) {
  const auto cert = with_subject({{NID_countryName, MBSTRING_ASC, "DE"},
                                  {NID_organizationName, MBSTRING_ASC, "Example GmbH"},
                                  {NID_commonName, MBSTRING_ASC, "tenant-a"}});
  const auto cn = common_name(cert.get());
  ASSERT_TRUE(cn) << cn.error().message;
  EXPECT_EQ(*cn, "tenant-a");
  EXPECT_EQ(subject(cert.get()), "CN=tenant-a,O=Example GmbH,C=DE");
}

TEST(TlsClientCertificate, StringTypesAreConvertedToUtf8) {
  // BMPString (UTF-16BE), as some Windows CAs write names.
  auto cn = common_name(
      with_subject({{NID_commonName, V_ASN1_BMPSTRING, std::string("\0t\0e\0n\0-\0b", 10)}}).get());
  ASSERT_TRUE(cn) << cn.error().message;
  EXPECT_EQ(*cn, "ten-b");
  // T61String is read as Latin-1: é becomes two UTF-8 bytes (and then names no tenant).
  cn = common_name(with_subject({{NID_commonName, V_ASN1_T61STRING, "caf\xE9"}}).get());
  ASSERT_TRUE(cn) << cn.error().message;
  EXPECT_EQ(*cn, "caf\xC3\xA9");
  cn = common_name(with_subject({{NID_commonName, V_ASN1_UTF8STRING, "\xC3\xBC"}}).get());
  ASSERT_TRUE(cn) << cn.error().message;
  EXPECT_EQ(*cn, "\xC3\xBC");
}

TEST(TlsClientCertificate, OddSubjectsAreRefused) {
  EXPECT_NE(error_of(common_name(nullptr)).find("no client certificate"), std::string::npos);
  // No CN: only an O, and a subject with nothing at all.
  auto r = common_name(with_subject({{NID_organizationName, MBSTRING_ASC, "tenant-a"}}).get());
  EXPECT_NE(error_of(r).find("no CN"), std::string::npos) << error_of(r);
  r = common_name(with_subject({}).get());
  EXPECT_NE(error_of(r).find("no CN"), std::string::npos) << error_of(r);
  // Two CNs, in two RDNs or in one multi-valued RDN: which one a library takes differs.
  r = common_name(with_subject({{NID_commonName, MBSTRING_ASC, "tenant-a"},
                                {NID_commonName, MBSTRING_ASC, "tenant-b"}})
                      .get());
  EXPECT_NE(error_of(r).find("more than one CN"), std::string::npos) << error_of(r);
  r = common_name(with_subject({{NID_commonName, MBSTRING_ASC, "tenant-a"},
                                {NID_commonName, MBSTRING_ASC, "tenant-a", 1}})
                      .get());
  EXPECT_NE(error_of(r).find("more than one CN"), std::string::npos) << error_of(r);
  // A UTF8String that is not UTF-8; a BMPString of an odd length.
  r = common_name(with_subject({{NID_commonName, V_ASN1_UTF8STRING, "tenant-\xFF\xFE"}}).get());
  EXPECT_NE(error_of(r).find("not valid text"), std::string::npos) << error_of(r);
  r = common_name(with_subject({{NID_commonName, V_ASN1_UTF8STRING, "\xED\xA0\x80"}}).get());
  EXPECT_NE(error_of(r).find("not valid text"), std::string::npos) << error_of(r);  // surrogate
  {
    // OpenSSL will not add one, but a certificate read from DER can hold it.
    const auto odd = with_subject({{NID_commonName, V_ASN1_BMPSTRING, std::string("\0a", 2)}});
    ASN1_STRING_set(
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(X509_get_subject_name(odd.get()), 0)), "\0a\0",
        3);
    r = common_name(odd.get());
    EXPECT_NE(error_of(r).find("not valid text"), std::string::npos) << error_of(r);
  }
  // A NUL inside: "tenant-a\0.evil" must not pass for tenant-a anywhere.
  r = common_name(
      with_subject({{NID_commonName, V_ASN1_UTF8STRING, std::string("tenant-a\0.evil", 14)}})
          .get());
  EXPECT_NE(error_of(r).find("NUL"), std::string::npos) << error_of(r);
  r = common_name(with_subject({{NID_commonName, V_ASN1_UTF8STRING, ""}}).get());
  EXPECT_NE(error_of(r).find("empty"), std::string::npos) << error_of(r);
}

TEST(TlsClientCertificate, TheSubjectIsEscapedForLogs) {
  const auto cert = with_subject({{NID_commonName, V_ASN1_UTF8STRING, "a\xC3\xBC\n,b"},
                                  {NID_organizationName, MBSTRING_ASC, "x"}});
  const std::string text = subject(cert.get());
  EXPECT_EQ(text.find('\n'), std::string::npos) << text;
  EXPECT_EQ(text.find('\xC3'), std::string::npos) << text;
  EXPECT_NE(text.find("CN=a"), std::string::npos) << text;
  EXPECT_EQ(subject(nullptr), "");
}

}  // namespace
}  // namespace logpipe::tls
