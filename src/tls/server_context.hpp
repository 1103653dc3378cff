// A TLS server's certificate and key (PEM files), as one TLS 1.2+ context that can be reloaded
// while connections use it: serve's HTTPS and the syslog TLS listener take the current context
// for each new connection; a reload (SIGHUP) builds a new one and swaps it in, so a connection
// keeps the context it began with, and a reload that fails leaves the old one in place.
// Optionally the CAs of client certificates (mutual TLS, the syslog TLS listener's
// syslog_tls_client_ca): then a handshake without a client certificate those CAs issued fails,
// and the CA file is read again with the certificate on every reload.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "core/result.hpp"

namespace logpipe::tls {

// What a loaded certificate is, for logs and metrics.
struct CertificateInfo {
  std::string subject;         // e.g. "CN=logs.example"
  std::string fingerprint;     // SHA-256 of the DER certificate, hex with colons (openssl x509)
  std::int64_t not_after = 0;  // Unix seconds
  // The subjects of the CAs whose client certificates are required, "; " between them; empty:
  // no client certificate is asked for.
  std::string client_cas;
};

class ServerContext {
 public:
  // `setting` names the files in errors: "tls" → "tls_cert FILE: …", "syslog_tls" →
  // "syslog_tls_cert FILE: …", "syslog_tls_client_ca FILE: …". Errors: a file missing or
  // unreadable, not PEM, a key that is not the certificate's, a CA file without a certificate.
  // With `client_ca_file`, clients must present a certificate that one of its CAs issued
  // (verified by OpenSSL: signature, chain, validity dates); the CAs' names go to the client in
  // the handshake, so that a client with several certificates picks the right one.
  static core::Result<std::shared_ptr<ServerContext>> load(std::string cert_file,
                                                           std::string key_file,
                                                           std::string setting,
                                                           std::string client_ca_file = {});

  // The context for a new connection; the connection holds it for as long as it lives.
  std::shared_ptr<boost::asio::ssl::context> current() const;
  CertificateInfo info() const;

  // Whether clients must present a certificate (a client CA file was given).
  bool verifies_clients() const { return !client_ca_file_.empty(); }

  // Reads the files again (the client CA file too). On success new connections get the new
  // certificate; on failure the old one stays and the error says why.
  core::Result<CertificateInfo> reload();

  const std::string& setting() const { return setting_; }

 private:
  struct Loaded {
    std::shared_ptr<boost::asio::ssl::context> context;
    CertificateInfo info;
  };
  ServerContext(std::string cert_file, std::string key_file, std::string setting,
                std::string client_ca_file, Loaded loaded);
  static core::Result<Loaded> build(const std::string& cert_file, const std::string& key_file,
                                    const std::string& setting, const std::string& client_ca_file);

  const std::string cert_file_, key_file_, setting_, client_ca_file_;
  mutable std::mutex mutex_;  // guards loaded_
  Loaded loaded_;
};

}  // namespace logpipe::tls
