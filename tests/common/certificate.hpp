// Self-signed certificates for TLS tests, made in-process with OpenSSL (an EC P-256 key: fast),
// written as PEM files the way an operator would hand them to logpipe.
#pragma once

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace logpipe::test {

struct CertificateFiles {
  std::string cert, key;
};

// Writes <dir>/<name>.crt and <dir>/<name>.key for CN=`common_name`, valid for a day.
inline CertificateFiles make_certificate(const std::string& dir, const std::string& name,
                                         const std::string& common_name = "localhost") {
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
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(cert, subject);
  if (X509_sign(cert, key, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
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
