// A TLS server's certificate and key (PEM files), as one TLS 1.2+ context that can be reloaded
// while connections use it: serve's HTTPS and the syslog TLS listener take the current context
// for each new connection; a reload (SIGHUP) builds a new one and swaps it in, so a connection
// keeps the context it began with, and a reload that fails leaves the old one in place.
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
};

class ServerContext {
 public:
  // `setting` names the pair in errors: "tls" → "tls_cert FILE: …", "syslog_tls" →
  // "syslog_tls_cert FILE: …". Errors: a file missing or unreadable, not PEM, a key that is not
  // the certificate's.
  static core::Result<std::shared_ptr<ServerContext>> load(std::string cert_file,
                                                           std::string key_file,
                                                           std::string setting);

  // The context for a new connection; the connection holds it for as long as it lives.
  std::shared_ptr<boost::asio::ssl::context> current() const;
  CertificateInfo info() const;

  // Reads both files again. On success new connections get the new certificate; on failure the
  // old one stays and the error says why.
  core::Result<CertificateInfo> reload();

  const std::string& setting() const { return setting_; }

 private:
  struct Loaded {
    std::shared_ptr<boost::asio::ssl::context> context;
    CertificateInfo info;
  };
  ServerContext(std::string cert_file, std::string key_file, std::string setting, Loaded loaded);
  static core::Result<Loaded> build(const std::string& cert_file, const std::string& key_file,
                                    const std::string& setting);

  const std::string cert_file_, key_file_, setting_;
  mutable std::mutex mutex_;  // guards loaded_
  Loaded loaded_;
};

}  // namespace logpipe::tls
