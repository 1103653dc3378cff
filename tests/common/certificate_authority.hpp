// A private CA and server certificates it signs, for tests of clients that verify the server
// (`logpipe query --cacert`): made in-process with OpenSSL like certificate.hpp's self-signed
// ones, written as PEM files the way an operator would hand them out.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>
#include <string>

#include "certificate.hpp"

namespace logpipe::test {
namespace ca_detail {

// A new certificate for a new P-256 key, subject CN=`common_name`, valid for a day.
inline X509* new_certificate(EVP_PKEY*& key, const std::string& common_name) {
  key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  if (key == nullptr || cert == nullptr) throw std::runtime_error("OpenSSL allocation failed");
  X509_set_version(cert, 2);
  static long serial = 1000;
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  return cert;
}

// Adds an extension as openssl.cnf writes it ("critical,CA:TRUE", "DNS:localhost,IP:127.0.0.1").
inline void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) throw std::runtime_error("bad extension " + value);
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

// Signs, writes <dir>/<name>.crt and .key, and frees both.
inline CertificateFiles sign_and_write(X509* cert, EVP_PKEY* key, EVP_PKEY* signer,
                                       const std::string& dir, const std::string& name) {
  if (X509_sign(cert, signer, EVP_sha256()) == 0) throw std::runtime_error("X509_sign failed");
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

}  // namespace ca_detail

// Writes <dir>/<name>.crt and .key: a self-signed CA certificate, subject CN=`common_name`.
inline CertificateFiles make_ca(const std::string& dir, const std::string& name,
                                const std::string& common_name = "logpipe test CA") {
  EVP_PKEY* key = nullptr;
  X509* cert = ca_detail::new_certificate(key, common_name);
  X509_set_issuer_name(cert, X509_get_subject_name(cert));
  ca_detail::add_extension(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
  ca_detail::add_extension(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  return ca_detail::sign_and_write(cert, key, key, dir, name);
}

// Writes <dir>/<name>.crt and .key: a server certificate signed by `ca` (make_ca's files),
// subject CN=`common_name`, for the names in `alt_names` ("DNS:localhost,IP:127.0.0.1").
inline CertificateFiles make_signed_certificate(const std::string& dir, const std::string& name,
                                                const CertificateFiles& ca,
                                                const std::string& common_name,
                                                const std::string& alt_names) {
  FILE* in = std::fopen(ca.cert.c_str(), "r");
  X509* ca_cert = in ? PEM_read_X509(in, nullptr, nullptr, nullptr) : nullptr;
  if (in) std::fclose(in);
  in = std::fopen(ca.key.c_str(), "r");
  EVP_PKEY* ca_key = in ? PEM_read_PrivateKey(in, nullptr, nullptr, nullptr) : nullptr;
  if (in) std::fclose(in);
  if (ca_cert == nullptr || ca_key == nullptr) throw std::runtime_error("cannot read " + ca.cert);
  EVP_PKEY* key = nullptr;
  X509* cert = ca_detail::new_certificate(key, common_name);
  X509_set_issuer_name(cert, X509_get_subject_name(ca_cert));
  ca_detail::add_extension(cert, ca_cert, NID_basic_constraints, "CA:FALSE");
  ca_detail::add_extension(cert, ca_cert, NID_ext_key_usage, "serverAuth");
  ca_detail::add_extension(cert, ca_cert, NID_subject_alt_name, alt_names);
  auto files = ca_detail::sign_and_write(cert, key, ca_key, dir, name);
  X509_free(ca_cert);
  EVP_PKEY_free(ca_key);
  return files;
}

}  // namespace logpipe::test
