#include "tls/server_context.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>

#include "tls/client_certificate.hpp"

namespace logpipe::tls {
namespace {

namespace ssl = boost::asio::ssl;

core::Error bad_file(const std::string& setting, std::string_view which, const std::string& file,
                     std::string_view why) {
  return core::Error(core::Errc::invalid_argument,
                     fmt::format("{}_{} {}: {}", setting, which, file, why));
}

// OpenSSL's messages for a missing file ("system lib") say less than the operating system's.
core::Status readable(const std::string& setting, std::string_view which, const std::string& file) {
  if (file.empty()) return bad_file(setting, which, file, "no file given");
  std::ifstream in(file);
  if (!in) return bad_file(setting, which, file, std::strerror(errno));
  return {};
}

// An encrypted key is refused rather than asked for on a terminal a server does not have.
int no_password(char*, int, int, void*) {
  return 0;
}

// Whether the file holds a PEM private key: OpenSSL refuses a key that is not the
// certificate's with the same error as a file that is no key at all.
bool is_private_key(const std::string& file) {
  FILE* in = std::fopen(file.c_str(), "r");
  if (in == nullptr) return false;
  EVP_PKEY* key = PEM_read_PrivateKey(in, nullptr, no_password, nullptr);
  std::fclose(in);
  ERR_clear_error();
  EVP_PKEY_free(key);
  return key != nullptr;
}

CertificateInfo describe(const X509* cert) {
  CertificateInfo info;
  if (cert == nullptr) return info;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) == 1) {
    for (unsigned i = 0; i < length; ++i)
      info.fingerprint += fmt::format("{}{:02X}", i ? ":" : "", digest[i]);
  }
  info.subject = subject(cert);
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1) info.not_after = timegm(&tm);
  return info;
}

// Mutual TLS: a client must present a certificate that a CA of `file` issued. The CAs' names go
// to clients in the CertificateRequest. Returns the CAs' subjects.
core::Result<std::string> require_client_certificates(SSL_CTX* context, const std::string& setting,
                                                      const std::string& file) {
  if (auto ok = readable(setting, "client_ca", file); !ok) return ok.error();
  STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(file.c_str());
  if (names == nullptr || sk_X509_NAME_num(names) == 0 ||
      SSL_CTX_load_verify_locations(context, file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    sk_X509_NAME_pop_free(names, X509_NAME_free);
    return bad_file(setting, "client_ca", file, "no PEM certificate in it");
  }
  std::string subjects;
  for (int i = 0; i < sk_X509_NAME_num(names); ++i)
    subjects += (i ? "; " : "") + distinguished_name(sk_X509_NAME_value(names, i));
  SSL_CTX_set_client_CA_list(context, names);  // takes them
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  // Without a session id context, OpenSSL fails the handshake of every client that tries to
  // resume a session once client certificates are verified.
  static constexpr unsigned char kSessionContext[] = "logpipe";
  SSL_CTX_set_session_id_context(context, kSessionContext, sizeof kSessionContext - 1);
  return subjects;
}

}  // namespace

core::Result<ServerContext::Loaded> ServerContext::build(const std::string& cert_file,
                                                         const std::string& key_file,
                                                         const std::string& setting,
                                                         const std::string& client_ca_file) {
  if (auto ok = readable(setting, "cert", cert_file); !ok) return ok.error();
  if (auto ok = readable(setting, "key", key_file); !ok) return ok.error();
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });
  boost::system::error_code ec;
  if (context->use_certificate_chain_file(cert_file, ec); ec)
    return bad_file(setting, "cert", cert_file, ec.message());
  const auto mismatch = [&] {
    ERR_clear_error();
    return bad_file(setting, "key", key_file,
                    fmt::format("not the private key of {}_cert {}", setting, cert_file));
  };
  if (context->use_private_key_file(key_file, ssl::context::pem, ec); ec)
    return is_private_key(key_file) ? mismatch() : bad_file(setting, "key", key_file, ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) return mismatch();
  Loaded loaded;
  loaded.info = describe(SSL_CTX_get0_certificate(context->native_handle()));
  if (!client_ca_file.empty()) {
    auto cas = require_client_certificates(context->native_handle(), setting, client_ca_file);
    if (!cas) return cas.error();
    loaded.info.client_cas = std::move(*cas);
  }
  loaded.context = std::move(context);
  return loaded;
}

core::Result<std::shared_ptr<ServerContext>> ServerContext::load(std::string cert_file,
                                                                 std::string key_file,
                                                                 std::string setting,
                                                                 std::string client_ca_file) {
  auto loaded = build(cert_file, key_file, setting, client_ca_file);
  if (!loaded) return loaded.error();
  return std::shared_ptr<ServerContext>(
      new ServerContext(std::move(cert_file), std::move(key_file), std::move(setting),
                        std::move(client_ca_file), std::move(*loaded)));
}

ServerContext::ServerContext(std::string cert_file, std::string key_file, std::string setting,
                             std::string client_ca_file, Loaded loaded)
    : cert_file_(std::move(cert_file)),
      key_file_(std::move(key_file)),
      setting_(std::move(setting)),
      client_ca_file_(std::move(client_ca_file)),
      loaded_(std::move(loaded)) {}

std::shared_ptr<boost::asio::ssl::context> ServerContext::current() const {
  std::lock_guard lock(mutex_);
  return loaded_.context;
}

CertificateInfo ServerContext::info() const {
  std::lock_guard lock(mutex_);
  return loaded_.info;
}

core::Result<CertificateInfo> ServerContext::reload() {
  // Built outside the lock: new connections keep getting the old context meanwhile.
  auto loaded = build(cert_file_, key_file_, setting_, client_ca_file_);
  if (!loaded) return loaded.error();
  std::lock_guard lock(mutex_);
  loaded_ = std::move(*loaded);
  return loaded_.info;
}

}  // namespace logpipe::tls
