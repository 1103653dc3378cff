#include "tls/client_certificate.hpp"

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

namespace logpipe::tls {
namespace {

core::Error refused(std::string why) {
  return core::Error(core::Errc::invalid_argument, std::move(why));
}

}  // namespace

std::string distinguished_name(const X509_NAME* name) {
  std::string out;
  if (BIO* bio = BIO_new(BIO_s_mem())) {
    X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    if (size > 0) out.assign(data, static_cast<std::size_t>(size));
    BIO_free(bio);
  }
  return out;
}

std::string subject(const X509* cert) {
  return cert == nullptr ? std::string() : distinguished_name(X509_get_subject_name(cert));
}

core::Result<std::string> common_name(const X509* cert) {
  if (cert == nullptr) return refused("no client certificate");
  const X509_NAME* name = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (at < 0) return refused("the certificate's subject has no CN");
  if (X509_NAME_get_index_by_NID(name, NID_commonName, at) >= 0)
    return refused("the certificate's subject has more than one CN");
  const ASN1_STRING* value = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, at));
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, value);
  if (length < 0) return refused("the certificate's CN is not valid text of its string type");
  std::string out(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  if (out.find('\0') != std::string::npos) return refused("the certificate's CN holds a NUL byte");
  if (out.empty()) return refused("the certificate's CN is empty");
  return out;
}

}  // namespace logpipe::tls
