// A blocking HTTP/1.1 client for the command-line tools that talk to a running logpipe
// (`logpipe query`, `logpipe audit`) and for alert notifications (alerts::Notifier, its own
// threads): one keep-alive connection, each step bounded by a timeout,
// http:// or https:// (TLS 1.2+, the server's certificate checked against the system's CA store
// or a given CA file, and its name against the URL's host). The server side of this module never
// uses it.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace boost::asio::ssl {
class context;
}
struct ssl_st;

namespace logpipe::http {

// Where a server answers: http[s]://host[:port][/base/path].
struct Url {
  std::string host;          // an IPv6 literal without its brackets
  unsigned short port = 80;  // 443 for https:// without a port
  std::string base_path;     // "" or "/prefix", no trailing slash: a server behind a path prefix
  bool tls = false;          // https://
};

// Errc::invalid_argument naming what is wrong (another scheme, no host, a bad port, a query).
core::Result<Url> parse_url(std::string_view text);

struct ClientResponse {
  unsigned status = 0;
  std::string reason;
  std::string body;
  std::string content_type;  // the Content-Type header, "" when absent
  std::vector<std::pair<std::string, std::string>> headers;  // as received (Retry-After, …)
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// How an https:// server's certificate is checked (unused for http://).
struct TlsOptions {
  std::string ca_file;    // PEM CA certificates to trust instead of the system's store; "": those
  bool insecure = false;  // no check at all (curl -k): anyone on the path can pose as the server
};

// The client context of https://: TLS 1.2+, the server's certificate verified against
// tls.ca_file or the system's CA store (OpenSSL's default paths, which SSL_CERT_FILE and
// SSL_CERT_DIR override), unless tls.insecure. Errc::invalid_argument naming the file when
// ca_file cannot be loaded.
core::Result<std::shared_ptr<boost::asio::ssl::context>> client_context(const TlsOptions& tls);

// Prepares one connection of such a context to `host` before its handshake: a name goes in the
// ClientHello (SNI) and must be one of the certificate's DNS names; an address must be one of its
// IP addresses.
void expect_server(ssl_st* ssl, const std::string& host);

class SyncClient {
 public:
  SyncClient(Url url, std::chrono::milliseconds timeout, TlsOptions tls = {});
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // GET base_path + target (which starts with '/'). Any status is a response; errors are
  // Errc::unavailable when the server cannot be reached, Errc::timeout when connecting, sending
  // the request or receiving the answer takes longer than the timeout, Errc::io for a broken or
  // oversized answer. https:// adds Errc::forbidden when the server's certificate is refused (not
  // signed by a trusted CA, not for the URL's host, expired) or the TLS handshake fails, with a
  // one-line message naming the certificate and what to do (--cacert), and
  // Errc::invalid_argument when ca_file cannot be loaded.
  core::Result<ClientResponse> get(std::string_view target, const Headers& headers = {});
  // Another method ("POST", "PUT", "DELETE") with `body` (sent with Content-Length, its
  // Content-Type among `headers`); errors as get(). Only an idempotent method (PUT, DELETE) is
  // sent again on a fresh connection when a kept-alive one turns out closed.
  core::Result<ClientResponse> send(std::string_view method, std::string_view target,
                                    const Headers& headers, std::string body);

  // GET of a long-lived stream (text/event-stream), on a connection of its own that is closed
  // afterwards. Connecting, the request and the response head are bounded by the timeout, as
  // get()'s are, with the same errors; then each read of the body by `idle_timeout`: no byte for
  // that long is Errc::timeout (a stream whose server sends keep-alives gets this only when the
  // connection silently died). A 200's head goes to `on_head` (body empty); when it answers
  // true, `on_body` gets the body piece by piece as it arrives, until the server ends it or
  // `on_body` answers false. Any other status: the body (its first MiB) is read into the result,
  // as get() returns it. The result is the head once the stream ended; Errc::io when the
  // connection broke during the body.
  core::Result<ClientResponse> get_stream(
      std::string_view target, const Headers& headers, std::chrono::milliseconds idle_timeout,
      const std::function<bool(const ClientResponse& head)>& on_head,
      const std::function<bool(std::string_view piece)>& on_body);

  // send("POST") with `body` as `content_type`. Never sent a second time by the client (a
  // kept-alive connection the server closed fails it with Errc::io): whether to repeat a POST is
  // the caller's decision.
  core::Result<ClientResponse> post(std::string_view target, std::string body,
                                    std::string_view content_type, const Headers& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logpipe::http
