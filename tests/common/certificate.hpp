// Certificates for TLS tests, made in-process with OpenSSL (EC P-256 keys: fast), written as PEM
// files the way an operator would hand them to logpipe: self-signed ones, and for mutual TLS a
// CA with the server and client certificates it signs.
#pragma once

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace logpipe::test {

struct CertificateFiles {
  std::string cert, key;
};

// What a certificate is for (its X.509 v3 extensions): none (an old-style self-signed one), a
// CA, a TLS server's, a TLS client's.
enum class CertificateUse { plain, ca, server, client };

namespace detail {

inline void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
  if (extension == nullptr || X509_add_ext(cert, extension, -1) != 1)
    throw std::runtime_error("cannot add an X.509 extension");
  X509_EXTENSION_free(extension);
}

inline bool is_address(const std::string& text) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, text.c_str(), address) == 1 ||
         inet_pton(AF_INET6, text.c_str(), address) == 1;
}

template <class T>
T* read_pem(const std::string& file, T* (*read)(FILE*, T**, pem_password_cb*, void*)) {
  FILE* in = std::fopen(file.c_str(), "r");
  if (in == nullptr) throw std::runtime_error("cannot read " + file);
  T* value = read(in, nullptr, nullptr, nullptr);
  std::fclose(in);
  if (value == nullptr) throw std::runtime_error("no PEM in " + file);
  return value;
}

}  // namespace detail

// Writes <dir>/<name>.crt and <dir>/<name>.key for CN=`common_name` (an empty one: a subject of
// O=logpipe tests without a CN), valid for a day: signed by `issuer` (a CA's files), or
// self-signed without one.
inline CertificateFiles make_certificate(const std::string& dir, const std::string& name,
                                         const std::string& common_name = "localhost",
                                         CertificateUse use = CertificateUse::plain,
                                         const CertificateFiles* issuer = nullptr) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) throw std::runtime_error("OpenSSL allocation failed");
  X509_set_version(cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* subject = X509_get_subject_name(cert);
  const std::string field = common_name.empty() ? "O" : "CN";
  const std::string value = common_name.empty() ? "logpipe tests" : common_name;
  X509_NAME_add_entry_by_txt(subject, field.c_str(), MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0);
  X509* issuer_cert = cert;
  EVP_PKEY* issuer_key = key;
  if (issuer != nullptr) {
    issuer_cert = detail::read_pem(issuer->cert, PEM_read_X509);
    issuer_key = detail::read_pem(issuer->key, PEM_read_PrivateKey);
  }
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  switch (use) {
    case CertificateUse::plain:
      break;
    case CertificateUse::ca:
      detail::add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
      detail::add_extension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
      break;
    case CertificateUse::server:
    case CertificateUse::client:
      detail::add_extension(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
      detail::add_extension(cert, issuer_cert, NID_key_usage, "critical,digitalSignature");
      detail::add_extension(cert, issuer_cert, NID_ext_key_usage,
                            use == CertificateUse::server ? "serverAuth" : "clientAuth");
      // A server's name: an address ("127.0.0.1", "::1") as an IP name, which a client that
      // connects by address checks, anything else as a DNS name.
      if (use == CertificateUse::server)
        detail::add_extension(
            cert, issuer_cert, NID_subject_alt_name,
            ((detail::is_address(common_name) ? "IP:" : "DNS:") + common_name).c_str());
      break;
  }
  if (use != CertificateUse::plain) {
    detail::add_extension(cert, issuer_cert, NID_subject_key_identifier, "hash");
    if (issuer != nullptr)
      detail::add_extension(cert, issuer_cert, NID_authority_key_identifier, "keyid");
  }
  if (X509_sign(cert, issuer_key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
  if (issuer != nullptr) {
    X509_free(issuer_cert);
    EVP_PKEY_free(issuer_key);
  }
  CertificateFiles files{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  FILE* out = std::fopen(files.cert.c_str(), "w");
  if (out == nullptr) throw std::runtime_error("cannot write " + files.cert);
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen(files.key.c_str(), "w");
  if (out == nullptr) throw std::runtime_error("cannot write " + files.key);
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
  return files;
}

// A CA (self-signed, CA:TRUE) for make_certificate's `issuer`.
inline CertificateFiles make_ca(const std::string& dir, const std::string& name,
                                const std::string& common_name) {
  return make_certificate(dir, name, common_name, CertificateUse::ca);
}

// A TLS client's certificate (clientAuth) of CN=`common_name`, signed by `ca`.
inline CertificateFiles make_client_certificate(const std::string& dir, const std::string& name,
                                                const std::string& common_name,
                                                const CertificateFiles& ca) {
  return make_certificate(dir, name, common_name, CertificateUse::client, &ca);
}

// The SHA-256 fingerprint of a certificate, as tls::CertificateInfo and `openssl x509
// -fingerprint -sha256` write it.
inline std::string fingerprint(const X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (cert == nullptr || X509_digest(cert, EVP_sha256(), digest, &length) != 1) return {};
  std::string out;
  char hex[4];
  for (unsigned i = 0; i < length; ++i) {
    std::snprintf(hex, sizeof hex, "%02X", digest[i]);
    if (i) out += ':';
    out += hex;
  }
  return out;
}

inline std::string fingerprint_of_file(const std::string& cert_file) {
  FILE* in = std::fopen(cert_file.c_str(), "r");
  if (in == nullptr) return {};
  X509* cert = PEM_read_X509(in, nullptr, nullptr, nullptr);
  std::fclose(in);
  std::string out = fingerprint(cert);
  X509_free(cert);
  return out;
}

}  // namespace logpipe::test
