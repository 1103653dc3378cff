// The listeners of `logpipe serve` for protocols that are not HTTP, another front of the one
// intake (docs/ARCHITECTURE.md): syslog over TCP (RFC 6587), TLS (RFC 5425) and UDP (RFC 5426);
// GELF over UDP (chunked, compressed) and TCP (NUL-terminated). Transport framing (framing.hpp)
// is apart from decoding a message (message_decoder.hpp over ingest/formats), which is apart from
// storing (intake::Intake). One Listener serves one protocol on its addresses.
//
// TCP and TLS: every connection reads, cuts the bytes into frames, decodes all complete frames of
// one read into ONE batch, submits it, and reads again only once the intake answered. While the
// intake refuses (backpressure) the batch is held and nothing is read: TCP's flow control pushes
// back on the sender, nothing is lost. Each connection holds at most one read and one message
// (max_message_bytes); an idle one is closed after idle_timeout; beyond max_connections new ones
// are refused. One stalled client costs its own buffer only.
//
// UDP: one datagram is one message (or one GELF chunk); messages are gathered for up to 20 ms or
// 512 messages and submitted as one batch. A sender cannot be slowed, so under backpressure (or
// with too many batches in flight) a batch is dropped and counted (<protocol>_dropped_total).
//
// Records go to the tenant of `principal` (serve's syslog_tenant, gelf_tenant), except on a TLS
// listener with a client CA (mutual TLS): there every client presents a certificate that CA
// issued, and the Subject's CN names the tenant of the connection's records, looked up once
// after the handshake (tenant_lookup). A connection whose certificate is missing, untrusted,
// without one CN, or naming no tenant is closed before anything is read, and counted in
// <protocol>_connection_events_total. Nothing in a message can change its tenant.
// A record without a host gets the sender's address as host.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "intake/intake.hpp"
#include "metrics/metrics.hpp"
#include "model/principal.hpp"

namespace logpipe::tls {
class ServerContext;
}

namespace logpipe::listeners {

enum class Protocol { syslog, gelf };
// "syslog", "gelf": source_format of the records, the prefix of the metrics, in logs.
std::string_view to_string(Protocol protocol);

// The principal of the tenant a client certificate names: `done` gets it, or Errc::not_found
// when there is no such tenant, or another error when it could not be looked up. `done` may run
// on any thread, before the call returns too.
using TenantLookup = std::function<void(std::string tenant,
                                        std::function<void(core::Result<model::Principal>)> done)>;

struct ListenerOptions {
  Protocol protocol = Protocol::syslog;
  std::string tcp_addr;  // host:port; empty: off
  std::string udp_addr;
  std::string tls_addr;
  std::string tls_cert_file;  // PEM, the chain; with tls_addr
  std::string tls_key_file;   // PEM
  // PEM, the CAs of client certificates: set, TLS clients must present one, and its CN names
  // their tenant (through tenant_lookup, which must then be set).
  std::string tls_client_ca_file;
  TenantLookup tenant_lookup;
  std::size_t max_message_bytes = std::size_t{64} << 10;  // a message, decompressed
  std::size_t max_connections = 1000;                     // TCP and TLS together
  std::chrono::milliseconds idle_timeout{std::chrono::minutes(10)};
  // Every record's, but those of TLS connections identified by a client certificate.
  model::Principal principal = model::Principal::unauthenticated();
};

class Listener {
 public:
  Listener(boost::asio::io_context& io, intake::Intake& intake, metrics::Metrics& metrics,
           ListenerOptions options);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds every configured address (and loads the TLS certificate): errors are start-up errors.
  core::Status listen();
  void start();
  // Stops accepting and receiving; open connections are closed once their current batch is
  // answered; a UDP batch being gathered is submitted.
  void shutdown();
  // Connections still open and UDP batches not yet answered: serve's drain waits for 0.
  std::size_t active() const;
  bool enabled() const;
  Protocol protocol() const;

  // The bound ports (0: that listener is off), for logs and tests.
  unsigned short tcp_port() const;
  unsigned short udp_port() const;
  unsigned short tls_port() const;
  // The TLS listener's certificate and client CAs (null without one), for serve to reload on
  // SIGHUP: new connections then get the new ones, open ones keep theirs.
  std::shared_ptr<tls::ServerContext> tls_context() const;

  struct Impl;  // inside listener.cpp

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace logpipe::listeners
