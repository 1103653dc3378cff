#include "listeners/listener.hpp"

#include <fmt/format.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "config/settings.hpp"
#include "core/log.hpp"
#include "listeners/framing.hpp"
#include "listeners/message_decoder.hpp"
#include "tls/client_certificate.hpp"
#include "tls/server_context.hpp"

namespace logpipe::listeners {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t kReadBytes = std::size_t{64} << 10;
// How often a connection held back by backpressure asks the intake again.
constexpr auto kAdmitRetry = 100ms;
constexpr auto kHandshakeTimeout = 10s;
constexpr auto kAcceptRetry = 100ms;
constexpr std::size_t kUdpBatchMessages = 512;
constexpr auto kUdpBatchDelay = 20ms;
// UDP batches submitted and not yet answered; beyond, datagrams are dropped, not queued.
constexpr int kUdpMaxInFlight = 8;
// A burst of datagrams waits in the kernel while a batch is being decoded.
constexpr int kUdpReceiveBuffer = 8 << 20;
// Problems that a sender repeats for every message are logged once per interval.
constexpr auto kLogInterval = 10s;

// A warning at most once per kLogInterval: due() counts an event and says whether to log now,
// giving the number of events since the last line.
class RateLimitedLog {
 public:
  std::optional<std::string> due() {
    const auto now = Clock::now().time_since_epoch().count();
    auto last = last_.load(std::memory_order_relaxed);
    ++suppressed_;
    if (now - last < std::chrono::duration_cast<Clock::duration>(kLogInterval).count() ||
        !last_.compare_exchange_strong(last, now))
      return std::nullopt;
    return std::to_string(suppressed_.exchange(0));
  }

 private:
  std::atomic<Clock::rep> last_{std::numeric_limits<Clock::rep>::min() / 2};
  std::atomic<std::uint64_t> suppressed_{0};
};

// Why a TLS client was refused for its certificate (mutual TLS): the events of
// <protocol>_connection_events_total, in the order of Refusal.
enum class Refusal { cert_missing, cert_untrusted, cert_no_tenant, unknown_tenant, lookup_failed };
constexpr std::array<std::string_view, 5> kRefusalEvents = {
    "client_cert_missing", "client_cert_untrusted", "client_cert_no_tenant", "unknown_tenant",
    "tenant_lookup_failed"};

// Something open that shutdown must close.
class Closable {
 public:
  virtual ~Closable() = default;
  virtual void close() = 0;
};

core::Result<asio::ip::address> numeric_host(const std::string& addr, unsigned short& port) {
  auto split = config::split_address(addr);
  if (!split) return split.error();
  port = split->port;
  if (split->host == "localhost") return asio::ip::address(asio::ip::address_v4::loopback());
  error_code ec;
  auto address = asio::ip::make_address(split->host, ec);
  if (ec)
    return core::make_error(core::Errc::invalid_argument,
                            fmt::format("\"{}\" is not a numeric address", split->host));
  return address;
}

}  // namespace

struct Listener::Impl : std::enable_shared_from_this<Listener::Impl> {
  Impl(asio::io_context& io, intake::Intake& intake, metrics::Metrics& metrics,
       ListenerOptions options)
      : io(io),
        intake(intake),
        metrics(metrics),
        options(std::move(options)),
        name(to_string(this->options.protocol)),
        decoder(make_decoder(this->options.protocol)) {}

  asio::io_context& io;
  intake::Intake& intake;
  metrics::Metrics& metrics;
  const ListenerOptions options;
  const std::string name;  // the protocol's
  const std::unique_ptr<MessageDecoder> decoder;
  std::uint64_t incomplete_seen = 0;
  std::shared_ptr<tls::ServerContext> certificate;  // reloaded on SIGHUP (serve)
  std::atomic<bool> stopping{false};
  std::atomic<int> udp_in_flight{0};
  std::atomic<std::size_t> sessions{0};  // open TCP and TLS connections
  RateLimitedLog malformed_log, oversized_log, dropped_log;
  std::array<RateLimitedLog, kRefusalEvents.size()> refusal_logs;  // one per Refusal

  std::mutex mutex;  // guards open and the transition of stopping
  std::unordered_map<const Closable*, std::weak_ptr<Closable>> open;

  std::shared_ptr<Closable> tcp_acceptor, tls_acceptor, udp_receiver;
  std::atomic<unsigned short> tcp_port{0}, tls_port{0}, udp_port{0};

  bool add(const std::shared_ptr<Closable>& c) {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    open.emplace(c.get(), c);
    return true;
  }
  void remove(const Closable* c) {
    std::lock_guard lock(mutex);
    open.erase(c);
  }

  // One frame or datagram → its record at the end of `batch`; a rejected one is counted and
  // logged.
  void decode(std::string_view transport, std::string_view message, const std::string& peer,
              model::Batch& batch) {
    ingest::DecodeOptions o;
    o.received_at = batch.received_at;
    o.max_message_bytes = options.max_message_bytes;
    const std::size_t first = batch.records.size();
    if (auto rejected = decoder->decode(transport, message, o, batch.records)) {
      rejected_message(transport, rejected->reason, 1);
      if (auto times = malformed_log.due())
        core::log::warn(fmt::format("{} message rejected", name),
                        {{"transport", std::string(transport)},
                         {"peer", peer},
                         {"reason", std::string(rejected->reason)},
                         {"why", rejected->why},
                         {"times", *times}});
    }
    if (const auto incomplete = decoder->incomplete(); incomplete > incomplete_seen) {
      rejected_message(transport, "incomplete", incomplete - incomplete_seen);
      incomplete_seen = incomplete;
    }
    for (std::size_t i = first; i < batch.records.size(); ++i) {
      if (batch.records[i].host.empty()) batch.records[i].host = peer;
    }
  }

  void rejected_message(std::string_view transport, std::string_view reason, std::uint64_t count) {
    metrics.listener_rejected(name, transport, reason, static_cast<double>(count));
    metrics.ingest_rejected(reason == "oversized" ? "too_large" : "malformed",
                            static_cast<double>(count));
  }

  void oversized(std::string_view transport, const std::string& peer, std::uint64_t count) {
    rejected_message(transport, "oversized", count);
    if (auto times = oversized_log.due())
      core::log::warn(fmt::format("{0} message over {0}_max_message_bytes skipped", name),
                      {{"transport", std::string(transport)},
                       {"peer", peer},
                       {"max_message_bytes", std::to_string(options.max_message_bytes)},
                       {"times", *times}});
  }

  // A TLS client refused for its certificate or its tenant: counted, and logged with the
  // certificate's subject (each reason at most once per kLogInterval).
  void refused(Refusal refusal, const std::string& peer, const std::string& subject,
               const std::string& why) {
    const auto event = kRefusalEvents.at(static_cast<std::size_t>(refusal));
    metrics.listener_connection_event(name, "tls", event);
    if (auto times = refusal_logs.at(static_cast<std::size_t>(refusal)).due())
      core::log::warn(fmt::format("{} TLS client refused", name), {{"reason", std::string(event)},
                                                                   {"peer", peer},
                                                                   {"subject", subject},
                                                                   {"why", why},
                                                                   {"times", *times}});
  }

  void dropped(std::string_view transport, std::string_view reason, std::size_t count) {
    metrics.listener_dropped(name, transport, reason, static_cast<double>(count));
    if (auto times = dropped_log.due())
      core::log::warn(fmt::format("{} messages dropped", name),
                      {{"transport", std::string(transport)},
                       {"reason", std::string(reason)},
                       {"messages", std::to_string(count)},
                       {"times", *times}});
  }
};

namespace {

using Impl = Listener::Impl;

// One TCP or TLS connection: read → frames → one batch → intake → read again.
template <class Stream>
class Session : public Closable, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

  Session(std::shared_ptr<Impl> shared, Stream stream, std::string peer,
          std::shared_ptr<ssl::context> tls_context = {})
      : shared_(std::move(shared)),
        tls_context_(std::move(tls_context)),
        stream_(std::move(stream)),
        timer_(stream_.get_executor()),
        decoder_(shared_->options.max_message_bytes),
        buffer_(new char[kReadBytes]),
        peer_(std::move(peer)),
        principal_(shared_->options.principal),
        verify_clients_(kTls && !shared_->options.tls_client_ca_file.empty()) {
    if constexpr (kTls) {
      // OpenSSL says why a chain failed only to this callback: kept for the refusal's log.
      if (verify_clients_)
        stream_.set_verify_callback([this](bool preverified, ssl::verify_context& context) {
          X509_STORE_CTX* store = context.native_handle();
          if (!preverified && untrusted_why_.empty()) {
            untrusted_why_ = X509_verify_cert_error_string(X509_STORE_CTX_get_error(store));
            untrusted_subject_ = tls::subject(X509_STORE_CTX_get0_cert(store));
          }
          return preverified;
        });
    }
  }

  void start() {
    if (!shared_->add(this->shared_from_this())) return close_socket();
    registered_ = true;
    ++shared_->sessions;
    shared_->metrics.listener_connection_open(shared_->name, transport(), true);
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if constexpr (kTls) {
        self->handshake();
      } else {
        self->read();
      }
    });
  }

  void close() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      // A connection waiting for the intake closes when it answers (submitted()).
      if (!self->submitting_) self->close_now();
    });
  }

 private:
  static constexpr std::string_view transport() { return kTls ? "tls" : "tcp"; }

  tcp::socket& socket() {
    if constexpr (kTls) {
      return stream_.next_layer();
    } else {
      return stream_;
    }
  }

  void close_socket() {
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_both, ignored);
    socket().close(ignored);
  }

  void handshake() {
    timer_.expires_after(kHandshakeTimeout);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (!ec) self->close_socket();  // the handshake then fails
    });
    stream_.async_handshake(ssl::stream_base::server,
                            [self = this->shared_from_this()](error_code ec) {
                              if (ec) return self->handshake_failed(ec);
                              if (self->verify_clients_) return self->identify();
                              self->timer_.cancel();
                              self->read();
                            });
  }

  void handshake_failed(error_code ec) {
    timer_.cancel();
    if (verify_clients_ && !untrusted_why_.empty()) {
      shared_->refused(Refusal::cert_untrusted, peer_, untrusted_subject_, untrusted_why_);
    } else if (verify_clients_ && ec.category() == asio::error::get_ssl_category() &&
               ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
                   SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
      shared_->refused(Refusal::cert_missing, peer_, "", ec.message());
    } else {
      shared_->metrics.listener_connection_event(shared_->name, "tls", "tls_failed");
      core::log::debug(fmt::format("{} TLS handshake failed", shared_->name),
                       {{"peer", peer_}, {"error", ec.message()}});
    }
    close_now();
  }

  // Mutual TLS: the verified certificate's CN names the tenant of this connection's records.
  // The handshake's timer still runs and bounds the lookup too.
  void identify() {
    if constexpr (kTls) {
      const X509* cert = SSL_get0_peer_certificate(stream_.native_handle());
      subject_ = tls::subject(cert);
      auto tenant = tls::common_name(cert);
      if (!tenant) {
        shared_->refused(Refusal::cert_no_tenant, peer_, subject_, tenant.error().message);
        return close_now();
      }
      shared_->options.tenant_lookup(
          *tenant, [self = this->shared_from_this()](core::Result<model::Principal> found) {
            asio::post(self->stream_.get_executor(),
                       [self, found = std::move(found)] { self->identified(found); });
          });
    }
  }

  void identified(const core::Result<model::Principal>& found) {
    if (closed_) return;  // shut down meanwhile
    timer_.cancel();
    if (!found) {
      const bool unknown = found.error().code == core::Errc::not_found;
      shared_->refused(unknown ? Refusal::unknown_tenant : Refusal::lookup_failed, peer_, subject_,
                       found.error().message);
      return close_now();
    }
    principal_ = *found;
    core::log::debug(fmt::format("{} TLS client", shared_->name),
                     {{"peer", peer_}, {"subject", subject_}, {"tenant", principal_.tenant_name}});
    read();
  }

  void read() {
    if (closed_ || closing_) return close_now();
    timer_.expires_after(shared_->options.idle_timeout);
    timer_.async_wait([self = this->shared_from_this()](error_code ec) {
      if (ec || self->closed_) return;
      self->shared_->metrics.listener_connection_event(self->shared_->name, transport(),
                                                       "idle_timeout");
      self->close_now();
    });
    stream_.async_read_some(
        asio::buffer(buffer_.get(), kReadBytes),
        [self = this->shared_from_this()](error_code ec, std::size_t n) { self->on_read(ec, n); });
  }

  void on_read(error_code ec, std::size_t n) {
    if (closed_) return;
    timer_.cancel();
    model::Batch batch;
    batch.received_at = core::now_micros();
    batch.source_format = shared_->name;
    if (n > 0) {
      shared_->metrics.listener_bytes(shared_->name, transport(), static_cast<double>(n));
      decoder_.append(std::string_view(buffer_.get(), n));
    }
    while (auto frame = decoder_.next())
      shared_->decode(transport(), *frame, peer_, batch);
    if (ec) {  // end of stream, reset, or closed by us
      if (auto frame = decoder_.finish()) shared_->decode(transport(), *frame, peer_, batch);
      if (decoder_.truncated() > 0)
        shared_->rejected_message(transport(), "truncated", decoder_.truncated());
      closing_ = true;
    }
    if (decoder_.oversized() > oversized_seen_) {
      shared_->oversized(transport(), peer_, decoder_.oversized() - oversized_seen_);
      oversized_seen_ = decoder_.oversized();
    }
    if (batch.records.empty()) return closing_ ? close_now() : read();
    submit(std::move(batch));
  }

  // Backpressure: while the intake refuses, hold the batch and read nothing, so that TCP's
  // window closes on the sender. Only shutdown gives up on it.
  void submit(model::Batch batch) {
    if (auto ok = shared_->intake.admit(principal_); !ok) {
      if (shared_->stopping) {
        shared_->dropped(transport(), "shutdown", batch.records.size());
        return close_now();
      }
      held_ = std::move(batch);
      timer_.expires_after(kAdmitRetry);
      timer_.async_wait([self = this->shared_from_this()](error_code ec) {
        if (self->closed_ || ec) return;  // close_now() counted the held batch
        model::Batch held = std::move(self->held_);
        self->held_ = model::Batch{};
        self->submit(std::move(held));
      });
      return;
    }
    const std::size_t count = batch.records.size();
    shared_->metrics.listener_received(shared_->name, transport(), static_cast<double>(count));
    submitting_ = true;
    shared_->intake.submit(
        principal_, std::move(batch),
        [self = this->shared_from_this(), count](const core::Result<intake::Accepted>& result) {
          auto failed = result ? std::string() : std::string(core::to_string(result.error().code));
          asio::post(self->stream_.get_executor(),
                     [self, count, failed = std::move(failed)] { self->submitted(failed, count); });
        });
  }

  void submitted(const std::string& failed, std::size_t count) {
    submitting_ = false;
    if (!failed.empty()) shared_->dropped(transport(), failed, count);
    read();
  }

  void close_now() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    close_socket();
    if (!held_.records.empty()) {
      shared_->dropped(transport(), "shutdown", held_.records.size());
      held_.records.clear();
    }
    if (registered_) {
      --shared_->sessions;
      shared_->remove(this);
      shared_->metrics.listener_connection_open(shared_->name, transport(), false);
    }
  }

  std::shared_ptr<Impl> shared_;
  // The certificate this connection began with: a reload does not change it (declared before
  // the stream, which uses it).
  std::shared_ptr<ssl::context> tls_context_;
  Stream stream_;
  asio::steady_timer timer_;  // idle timeout, handshake timeout, admission retry
  FrameDecoder decoder_;
  std::unique_ptr<char[]> buffer_;
  std::string peer_;
  // The tenant of this connection's records: the listener's, or its client certificate's.
  model::Principal principal_;
  const bool verify_clients_;                      // mutual TLS: identify() after the handshake
  std::string subject_;                            // of the client certificate
  std::string untrusted_subject_, untrusted_why_;  // of a certificate that failed verification
  model::Batch held_;
  std::uint64_t oversized_seen_ = 0;
  bool registered_ = false;
  bool submitting_ = false;
  bool closing_ = false;  // finish the current batch, then close
  bool closed_ = false;
};

class Acceptor : public Closable, public std::enable_shared_from_this<Acceptor> {
 public:
  Acceptor(std::shared_ptr<Impl> shared, bool tls)
      : shared_(std::move(shared)),
        tls_(tls),
        acceptor_(asio::make_strand(shared_->io)),
        retry_(acceptor_.get_executor()) {}

  core::Status listen(const std::string& addr, std::atomic<unsigned short>& port_out) {
    unsigned short port = 0;
    auto address = numeric_host(addr, port);
    const auto fail = [&](const std::string& why) {
      error_code ignored;
      acceptor_.close(ignored);
      return core::make_error(
          core::Errc::unavailable,
          fmt::format("{} {}: cannot listen on {}: {}", shared_->name, transport(), addr, why));
    };
    if (!address) return fail(address.error().message);
    const tcp::endpoint endpoint(*address, port);
    error_code ec;
    if (acceptor_.open(endpoint.protocol(), ec); ec) return fail(ec.message());
    if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec); ec)
      return fail(ec.message());
    if (acceptor_.bind(endpoint, ec); ec) return fail(ec.message());
    if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec)
      return fail(ec.message());
    port_out = acceptor_.local_endpoint(ec).port();
    return {};
  }

  void start() {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
  }

  void close() override {
    asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
      error_code ignored;
      self->acceptor_.close(ignored);
      self->retry_.cancel();
    });
  }

 private:
  std::string_view transport() const { return tls_ ? "tls" : "tcp"; }

  void accept() {
    if (shared_->stopping || !acceptor_.is_open()) return;
    acceptor_.async_accept(asio::make_strand(shared_->io),
                           [self = shared_from_this()](error_code ec, tcp::socket socket) {
                             self->on_accept(ec, std::move(socket));
                           });
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (shared_->stopping || ec == asio::error::operation_aborted) return;
    if (ec) {
      shared_->metrics.listener_connection_event(shared_->name, transport(), "accept_failed");
      if (auto times = accept_log_.due())
        core::log::warn(fmt::format("{} accept failed", shared_->name),
                        {{"error", ec.message()}, {"times", *times}});
      retry_.expires_after(kAcceptRetry);
      retry_.async_wait([self = shared_from_this()](error_code e) {
        if (!e) self->accept();
      });
      return;
    }
    if (shared_->sessions.load() >= shared_->options.max_connections) {
      shared_->metrics.listener_connection_event(shared_->name, transport(), "refused");
      error_code ignored;
      socket.close(ignored);
      return accept();
    }
    error_code ignored;
    socket.set_option(asio::socket_base::keep_alive(true), ignored);
    const auto remote = socket.remote_endpoint(ignored);
    std::string peer = ignored ? std::string() : remote.address().to_string();
    if (tls_) {
      auto context = shared_->certificate->current();
      auto stream = ssl::stream<tcp::socket>(std::move(socket), *context);
      std::make_shared<Session<ssl::stream<tcp::socket>>>(shared_, std::move(stream),
                                                          std::move(peer), std::move(context))
          ->start();
    } else {
      std::make_shared<Session<tcp::socket>>(shared_, std::move(socket), std::move(peer))->start();
    }
    accept();
  }

  std::shared_ptr<Impl> shared_;
  bool tls_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  RateLimitedLog accept_log_;
};

// One socket, one receive at a time on its strand; datagrams gathered into batches.
class UdpReceiver : public Closable, public std::enable_shared_from_this<UdpReceiver> {
 public:
  explicit UdpReceiver(std::shared_ptr<Impl> shared)
      : shared_(std::move(shared)),
        socket_(asio::make_strand(shared_->io)),
        flush_timer_(socket_.get_executor()),
        // One byte more than the largest message: a datagram that fills it was too long. A GELF
        // datagram is a chunk of a message, never longer than a datagram can be.
        buffer_((shared_->options.protocol == Protocol::gelf
                     ? 65535
                     : std::min<std::size_t>(shared_->options.max_message_bytes, 65535)) +
                1) {}

  core::Status listen(const std::string& addr, std::atomic<unsigned short>& port_out) {
    unsigned short port = 0;
    auto address = numeric_host(addr, port);
    const auto fail = [&](const std::string& why) {
      error_code ignored;
      socket_.close(ignored);
      return core::make_error(
          core::Errc::unavailable,
          fmt::format("{} udp: cannot listen on {}: {}", shared_->name, addr, why));
    };
    if (!address) return fail(address.error().message);
    const udp::endpoint endpoint(*address, port);
    error_code ec;
    if (socket_.open(endpoint.protocol(), ec); ec) return fail(ec.message());
    socket_.set_option(asio::socket_base::receive_buffer_size(kUdpReceiveBuffer), ec);
    asio::socket_base::receive_buffer_size granted;
    socket_.get_option(granted, ec);
    if (!ec && granted.value() < kUdpReceiveBuffer)
      core::log::info(fmt::format("{} udp: the kernel granted a smaller receive buffer; raise "
                                  "net.core.rmem_max for bursts",
                                  shared_->name),
                      {{"wanted", std::to_string(kUdpReceiveBuffer)},
                       {"granted", std::to_string(granted.value())}});
    if (socket_.bind(endpoint, ec); ec) return fail(ec.message());
    port_out = socket_.local_endpoint(ec).port();
    return {};
  }

  void start() {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->receive(); });
  }

  void close() override {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      self->closed_ = true;
      self->flush_timer_.cancel();
      self->flush();
      error_code ignored;
      self->socket_.close(ignored);
      self->shared_->remove(self.get());
    });
  }

 private:
  void receive() {
    if (closed_) return;
    socket_.async_receive_from(
        asio::buffer(buffer_), sender_,
        [self = shared_from_this()](error_code ec, std::size_t n) { self->on_receive(ec, n); });
  }

  void on_receive(error_code ec, std::size_t n) {
    if (closed_ || ec == asio::error::operation_aborted) return;
    if (!ec) {
      shared_->metrics.listener_bytes(shared_->name, "udp", static_cast<double>(n));
      std::string peer = sender_.address().to_string();
      if (n >= buffer_.size()) {
        shared_->oversized("udp", peer, 1);
      } else {
        if (pending_.records.empty()) {
          pending_.received_at = core::now_micros();
          pending_.source_format = shared_->name;
          flush_timer_.expires_after(kUdpBatchDelay);
          flush_timer_.async_wait([self = shared_from_this()](error_code e) {
            if (!e) self->flush();
          });
        }
        shared_->decode("udp", std::string_view(buffer_.data(), n), peer, pending_);
        if (pending_.records.size() >= kUdpBatchMessages) {
          flush_timer_.cancel();
          flush();
        }
      }
    }
    receive();
  }

  void flush() {
    if (pending_.records.empty()) return;
    model::Batch batch = std::move(pending_);
    pending_ = model::Batch{};
    const std::size_t count = batch.records.size();
    if (shared_->udp_in_flight.load() >= kUdpMaxInFlight)
      return shared_->dropped("udp", "in_flight", count);
    if (auto ok = shared_->intake.admit(shared_->options.principal); !ok)
      return shared_->dropped("udp", "backpressure", count);
    shared_->metrics.listener_received(shared_->name, "udp", static_cast<double>(count));
    ++shared_->udp_in_flight;
    shared_->intake.submit(shared_->options.principal, std::move(batch),
                           [shared = shared_, count](const core::Result<intake::Accepted>& result) {
                             if (!result)
                               shared->dropped("udp", core::to_string(result.error().code), count);
                             --shared->udp_in_flight;
                           });
  }

  std::shared_ptr<Impl> shared_;
  udp::socket socket_;
  asio::steady_timer flush_timer_;
  std::vector<char> buffer_;
  udp::endpoint sender_;
  model::Batch pending_;
  bool closed_ = false;
};

}  // namespace

std::string_view to_string(Protocol protocol) {
  switch (protocol) {
    case Protocol::syslog:
      return "syslog";
    case Protocol::gelf:
      return "gelf";
  }
  return "unknown";
}

Listener::Listener(asio::io_context& io, intake::Intake& intake, metrics::Metrics& metrics,
                   ListenerOptions options)
    : impl_(std::make_shared<Impl>(io, intake, metrics, std::move(options))) {}

// The acceptors and the receiver hold Impl; Impl holds them for start() and shutdown(): the
// cycle is cut here.
Listener::~Listener() {
  impl_->tcp_acceptor.reset();
  impl_->tls_acceptor.reset();
  impl_->udp_receiver.reset();
}

bool Listener::enabled() const {
  const auto& o = impl_->options;
  return !o.tcp_addr.empty() || !o.udp_addr.empty() || !o.tls_addr.empty();
}

core::Status Listener::listen() {
  auto& s = *impl_;
  if (!s.options.tls_client_ca_file.empty() && s.options.tls_addr.empty())
    return core::make_error(core::Errc::invalid_argument,
                            fmt::format("{0}_tls_client_ca needs {0}_tls_addr", s.name));
  if (!s.options.tcp_addr.empty()) {
    auto acceptor = std::make_shared<Acceptor>(impl_, false);
    if (auto ok = acceptor->listen(s.options.tcp_addr, s.tcp_port); !ok) return ok;
    s.tcp_acceptor = acceptor;
  }
  if (!s.options.tls_addr.empty()) {
    if (s.options.tls_cert_file.empty() || s.options.tls_key_file.empty())
      return core::make_error(
          core::Errc::invalid_argument,
          fmt::format("{0}_tls_addr needs {0}_tls_cert and {0}_tls_key", s.name));
    if (!s.options.tls_client_ca_file.empty() && !s.options.tenant_lookup)
      return core::make_error(core::Errc::invalid_argument,
                              fmt::format("{}_tls_client_ca: no tenant lookup", s.name));
    auto context = tls::ServerContext::load(s.options.tls_cert_file, s.options.tls_key_file,
                                            s.name + "_tls", s.options.tls_client_ca_file);
    if (!context) return context.error();
    s.certificate = std::move(*context);
    auto acceptor = std::make_shared<Acceptor>(impl_, true);
    if (auto ok = acceptor->listen(s.options.tls_addr, s.tls_port); !ok) return ok;
    s.tls_acceptor = acceptor;
  }
  if (!s.options.udp_addr.empty()) {
    auto receiver = std::make_shared<UdpReceiver>(impl_);
    if (auto ok = receiver->listen(s.options.udp_addr, s.udp_port); !ok) return ok;
    s.udp_receiver = receiver;
  }
  return {};
}

void Listener::start() {
  auto& s = *impl_;
  for (const auto& c : {s.tcp_acceptor, s.tls_acceptor, s.udp_receiver}) {
    if (c) s.add(c);
  }
  if (s.tcp_acceptor) std::static_pointer_cast<Acceptor>(s.tcp_acceptor)->start();
  if (s.tls_acceptor) std::static_pointer_cast<Acceptor>(s.tls_acceptor)->start();
  if (s.udp_receiver) std::static_pointer_cast<UdpReceiver>(s.udp_receiver)->start();
}

void Listener::shutdown() {
  auto& s = *impl_;
  std::vector<std::weak_ptr<Closable>> open;
  {
    std::lock_guard lock(s.mutex);
    if (s.stopping.exchange(true)) return;
    for (const auto& entry : s.open)
      open.push_back(entry.second);
  }
  // The acceptors are not in the drain's count once closed.
  for (const auto& c : {s.tcp_acceptor, s.tls_acceptor}) {
    if (c) s.remove(c.get());
  }
  for (const auto& weak : open) {
    if (auto c = weak.lock()) c->close();
  }
}

Protocol Listener::protocol() const {
  return impl_->options.protocol;
}

std::size_t Listener::active() const {
  return impl_->sessions.load() + static_cast<std::size_t>(impl_->udp_in_flight.load());
}

unsigned short Listener::tcp_port() const {
  return impl_->tcp_port;
}
unsigned short Listener::udp_port() const {
  return impl_->udp_port;
}
unsigned short Listener::tls_port() const {
  return impl_->tls_port;
}

std::shared_ptr<tls::ServerContext> Listener::tls_context() const {
  return impl_->certificate;
}

}  // namespace logpipe::listeners
