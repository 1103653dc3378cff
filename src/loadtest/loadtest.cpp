#include "loadtest/loadtest.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <cmath>
#include <mutex>
#include <thread>
#include <vector>

#include "core/json_writer.hpp"
#include "loadtest/verify.hpp"

namespace logpipe::loadtest {
namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using core::Errc;

constexpr std::size_t kMaxResponseBytes = 1 << 20;
constexpr auto kReconnectDelay = std::chrono::milliseconds(100);
constexpr int kMaxConnectFailures = 50;  // per connection, in a row

struct Range {
  std::uint64_t first_seq = 0;
  std::size_t count = 0;
};

// One request's worth of work: records [first_seq, first_seq + count), due at `due` (open loop).
struct Job {
  std::uint64_t first_seq = 0;
  std::size_t count = 0;
  std::optional<Clock::time_point> due;
};

// Hands out jobs to connections; thread-safe.
class Schedule {
 public:
  Schedule(const Options& o, Clock::time_point start) : options_(o), start_(start) {
    if (o.rate > 0) {
      total_ =
          static_cast<std::uint64_t>(o.rate * std::chrono::duration<double>(o.duration).count());
      records_ = static_cast<std::uint64_t>(total_) * o.batch_size;
    } else {
      records_ = static_cast<std::uint64_t>(o.devices) * o.logs_per_device;
      total_ = (records_ + o.batch_size - 1) / o.batch_size;
    }
  }

  std::uint64_t records() const { return records_; }

  std::optional<Job> next() {
    const std::uint64_t i = next_.fetch_add(1, std::memory_order_relaxed);
    if (i >= total_) return std::nullopt;
    Job job;
    job.first_seq = i * options_.batch_size;
    job.count = static_cast<std::size_t>(
        std::min<std::uint64_t>(options_.batch_size, records_ - job.first_seq));
    if (options_.rate > 0)
      job.due = start_ + std::chrono::duration_cast<Clock::duration>(
                             std::chrono::duration<double>(static_cast<double>(i) / options_.rate));
    return job;
  }

 private:
  const Options& options_;
  Clock::time_point start_;
  std::uint64_t total_ = 0;
  std::uint64_t records_ = 0;
  std::atomic<std::uint64_t> next_{0};
};

// What one connection saw; merged into the Report at the end.
struct Tally {
  std::uint64_t requests_sent = 0, requests_ok = 0, records_sent = 0, records_acked = 0;
  std::map<int, std::uint64_t> statuses;
  std::map<std::string, std::uint64_t> errors;
  std::vector<std::uint32_t> latencies_us;
  std::vector<Range> acked, rejected;  // seq ranges by what the server answered
  std::optional<Clock::time_point> first_send, last_response;

  void merge(const Tally& t) {
    requests_sent += t.requests_sent;
    requests_ok += t.requests_ok;
    records_sent += t.records_sent;
    records_acked += t.records_acked;
    for (const auto& [k, v] : t.statuses)
      statuses[k] += v;
    for (const auto& [k, v] : t.errors)
      errors[k] += v;
    latencies_us.insert(latencies_us.end(), t.latencies_us.begin(), t.latencies_us.end());
    acked.insert(acked.end(), t.acked.begin(), t.acked.end());
    rejected.insert(rejected.end(), t.rejected.begin(), t.rejected.end());
    if (t.first_send && (!first_send || *t.first_send < *first_send)) first_send = t.first_send;
    if (t.last_response && (!last_response || *t.last_response > *last_response))
      last_response = t.last_response;
  }
};

struct Shared {
  const Options& options;
  const Generator& generator;
  Schedule& schedule;
  tcp::endpoint endpoint;
  std::shared_ptr<ssl::context> tls;  // --https: every connection's handshake; null: plain
  std::string request_head;  // "POST <path> HTTP/1.1\r\nHost: …\r\nContent-Type: …\r\n"
  std::mutex mutex;
  Tally total;
};

// ASCII case-insensitive search for a header's value in a response head.
std::optional<std::string_view> header_value(std::string_view head, std::string_view name) {
  std::size_t pos = head.find("\r\n");
  while (pos != std::string_view::npos && pos + 2 < head.size()) {
    const std::size_t start = pos + 2;
    const std::size_t end = std::min(head.find("\r\n", start), head.size());
    const std::string_view line = head.substr(start, end - start);
    if (line.size() > name.size() && line[name.size()] == ':' &&
        std::equal(name.begin(), name.end(), line.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        })) {
      std::string_view v = line.substr(name.size() + 1);
      while (!v.empty() && v.front() == ' ')
        v.remove_prefix(1);
      return v;
    }
    pos = end == head.size() ? std::string_view::npos : end;
  }
  return std::nullopt;
}

// What the watchdog sees of a connection of either protocol.
class Sender {
 public:
  virtual ~Sender() = default;
  virtual void start() = 0;
  // Closes a connection whose request (or write) is older than the timeout.
  virtual void check_timeout(Clock::time_point now) = 0;
  virtual bool finished() const = 0;
};

// A keep-alive connection that sends one request at a time, as a device or shipper would.
class Connection : public Sender, public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Shared& shared)
      : shared_(shared), strand_(asio::make_strand(io)), socket_(strand_), timer_(strand_) {}

  void start() override {
    asio::post(strand_, [self = shared_from_this()] { self->connect(); });
  }

  // Called by the watchdog: closes a connection whose request is older than the timeout.
  void check_timeout(Clock::time_point now) override {
    asio::post(strand_, [self = shared_from_this(), now] {
      if (self->in_flight_ && now - self->sent_at_ > self->shared_.options.request_timeout) {
        self->timed_out_ = true;
        boost::system::error_code ignored;
        self->socket().close(ignored);
      }
    });
  }

  bool finished() const override { return finished_.load(); }

 private:
  // The TCP socket, under TLS with --https.
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }

  // Starts an asynchronous read or write on the TLS stream, or on the plain socket.
  template <class Start>
  void on_stream(Start start) {
    if (tls_)
      start(*tls_);
    else
      start(socket_);
  }

  void connect() {
    boost::system::error_code ignored;
    socket().close(ignored);
    // A TLS stream serves one connection: a reconnection takes a new one.
    if (shared_.tls) {
      tls_.emplace(strand_, *shared_.tls);
      http::expect_server(tls_->native_handle(), shared_.options.host);
    }
    socket().async_connect(
        shared_.endpoint, [self = shared_from_this()](boost::system::error_code ec) {
          if (ec) return self->retry("connect");
          self->socket().set_option(tcp::no_delay(true), ec);
          if (!self->tls_) return self->connected();
          self->tls_->async_handshake(ssl::stream_base::client,
                                      [self](boost::system::error_code handshake) {
                                        if (handshake) return self->retry("tls");
                                        self->connected();
                                      });
        });
  }

  void retry(const char* what) {
    ++tally_.errors[what];
    if (++connect_failures_ >= kMaxConnectFailures) return finish();
    timer_.expires_after(kReconnectDelay);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->connect(); });
  }

  void connected() {
    connect_failures_ = 0;
    next();
  }

  void next() {
    auto job = shared_.schedule.next();
    if (!job) return finish();
    job_ = *job;
    if (job_.due && *job_.due > Clock::now()) {
      timer_.expires_at(*job_.due);
      timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->send(); });
      return;
    }
    send();
  }

  void send() {
    body_.clear();
    shared_.generator.append_body(body_, shared_.options.api, job_.first_seq, job_.count);
    out_.assign(shared_.request_head);
    fmt::format_to(std::back_inserter(out_), "Content-Length: {}\r\n\r\n", body_.size());
    out_ += body_;
    sent_at_ = Clock::now();
    if (!tally_.first_send) tally_.first_send = sent_at_;
    ++tally_.requests_sent;
    tally_.records_sent += job_.count;
    in_flight_ = true;
    timed_out_ = false;
    on_stream([this](auto& stream) {
      asio::async_write(stream, asio::buffer(out_),
                        [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                          if (ec) return self->fail(self->timed_out_ ? "timeout" : "write");
                          self->read();
                        });
    });
  }

  void read() {
    on_stream([this](auto& stream) {
      stream.async_read_some(
          asio::buffer(chunk_),
          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
            if (ec) {
              // A TLS server that closes without close_notify reads as stream_truncated.
              const bool closed = ec == asio::error::eof || ec == ssl::error::stream_truncated;
              return self->fail(self->timed_out_                      ? "timeout"
                                : closed                              ? "closed"
                                : ec == asio::error::connection_reset ? "reset"
                                                                      : "read");
            }
            self->in_.append(self->chunk_.data(), n);
            self->parse();
          });
    });
  }

  void parse() {
    const std::size_t head_end = in_.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      if (in_.size() > kMaxResponseBytes) return fail("protocol");
      return read();
    }
    const std::string_view head(in_.data(), head_end);
    int status = 0;
    if (head.size() < 12 || !head.starts_with("HTTP/1.") ||
        std::from_chars(head.data() + 9, head.data() + 12, status).ec != std::errc())
      return fail("protocol");
    std::size_t length = 0;
    if (auto cl = header_value(head, "content-length")) {
      if (std::from_chars(cl->data(), cl->data() + cl->size(), length).ec != std::errc())
        return fail("protocol");
    }
    const std::size_t total = head_end + 4 + length;
    if (in_.size() < total) {
      if (total > kMaxResponseBytes) return fail("protocol");
      return read();
    }
    const auto close = header_value(head, "connection");
    const bool must_close = close && (*close == "close" || *close == "Close");
    in_.erase(0, total);
    complete(status);
    if (must_close) return connect();
    next();
  }

  void complete(int status) {
    const auto now = Clock::now();
    in_flight_ = false;
    const auto from = job_.due.value_or(sent_at_);
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(now - from).count();
    tally_.latencies_us.push_back(
        static_cast<std::uint32_t>(std::clamp<long long>(us, 0, UINT32_MAX)));
    tally_.last_response = now;
    ++tally_.statuses[status];
    switch (outcome_of_status(status)) {
      case Outcome::acknowledged:
        ++tally_.requests_ok;
        tally_.records_acked += job_.count;
        tally_.acked.push_back({job_.first_seq, job_.count});
        break;
      case Outcome::rejected:
        tally_.rejected.push_back({job_.first_seq, job_.count});
        break;
      case Outcome::unanswered:
        break;
    }
  }

  // The request failed without a response: counted as an error, never as acknowledged.
  void fail(const char* what) {
    in_flight_ = false;
    in_.clear();
    ++tally_.errors[what];
    tally_.last_response = Clock::now();
    connect();
  }

  void finish() {
    boost::system::error_code ignored;
    socket().close(ignored);
    {
      std::lock_guard lock(shared_.mutex);
      shared_.total.merge(tally_);
    }
    finished_ = true;
  }

  Shared& shared_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;                           // plain HTTP
  std::optional<ssl::stream<tcp::socket>> tls_;  // --https: the current connection's
  asio::steady_timer timer_;
  Job job_;
  std::string body_, out_, in_;
  std::array<char, 16384> chunk_{};
  Clock::time_point sent_at_{};
  bool in_flight_ = false;
  bool timed_out_ = false;
  int connect_failures_ = 0;
  Tally tally_;
  std::atomic<bool> finished_{false};
};

// A syslog TCP connection, as rsyslog's omfwd: octet-counted frames written back to back,
// batch_size per write, the next write once the socket took the last. Syslog has no answer: a
// frame written completely counts as acknowledged (the listener stops reading rather than drop),
// one whose write failed as unanswered. "Latency" is the time a write took to be accepted, which
// grows when the server pushes back.
class SyslogConnection : public Sender, public std::enable_shared_from_this<SyslogConnection> {
 public:
  SyslogConnection(asio::io_context& io, Shared& shared)
      : shared_(shared), strand_(asio::make_strand(io)), socket_(strand_), timer_(strand_) {}

  void start() override {
    asio::post(strand_, [self = shared_from_this()] { self->connect(); });
  }

  void check_timeout(Clock::time_point now) override {
    asio::post(strand_, [self = shared_from_this(), now] {
      if (self->in_flight_ && now - self->sent_at_ > self->shared_.options.request_timeout) {
        self->timed_out_ = true;
        boost::system::error_code ignored;
        self->socket_.close(ignored);
      }
    });
  }

  bool finished() const override { return finished_.load(); }

 private:
  void connect() {
    boost::system::error_code ignored;
    socket_.close(ignored);
    socket_.async_connect(
        shared_.endpoint, [self = shared_from_this()](boost::system::error_code ec) {
          if (ec) {
            ++self->tally_.errors["connect"];
            if (++self->connect_failures_ >= kMaxConnectFailures) return self->finish();
            self->timer_.expires_after(kReconnectDelay);
            self->timer_.async_wait([self](boost::system::error_code) { self->connect(); });
            return;
          }
          self->connect_failures_ = 0;
          self->next();
        });
  }

  void next() {
    auto job = shared_.schedule.next();
    if (!job) return finish();
    job_ = *job;
    if (job_.due && *job_.due > Clock::now()) {
      timer_.expires_at(*job_.due);
      timer_.async_wait([self = shared_from_this()](boost::system::error_code) { self->send(); });
      return;
    }
    send();
  }

  void send() {
    out_.clear();
    shared_.generator.append_body(out_, Api::syslog_tcp, job_.first_seq, job_.count);
    sent_at_ = Clock::now();
    if (!tally_.first_send) tally_.first_send = sent_at_;
    ++tally_.requests_sent;
    tally_.records_sent += job_.count;
    in_flight_ = true;
    timed_out_ = false;
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->written(ec);
                      });
  }

  void written(boost::system::error_code ec) {
    const auto now = Clock::now();
    in_flight_ = false;
    tally_.last_response = now;
    if (ec) {
      ++tally_.errors[timed_out_ ? "timeout" : "write"];
      return connect();
    }
    const auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(now - job_.due.value_or(sent_at_))
            .count();
    tally_.latencies_us.push_back(
        static_cast<std::uint32_t>(std::clamp<long long>(us, 0, UINT32_MAX)));
    ++tally_.requests_ok;
    tally_.records_acked += job_.count;
    tally_.acked.push_back({job_.first_seq, job_.count});
    next();
  }

  void finish() {
    boost::system::error_code ignored;
    socket_.shutdown(tcp::socket::shutdown_send, ignored);
    socket_.close(ignored);
    {
      std::lock_guard lock(shared_.mutex);
      shared_.total.merge(tally_);
    }
    finished_ = true;
  }

  Shared& shared_;
  asio::strand<asio::io_context::executor_type> strand_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  Job job_;
  std::string out_;
  Clock::time_point sent_at_{};
  bool in_flight_ = false;
  bool timed_out_ = false;
  int connect_failures_ = 0;
  Tally tally_;
  std::atomic<bool> finished_{false};
};

core::Result<tcp::endpoint> resolve(const Options& o) {
  asio::io_context io;
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  const bool syslog = o.api == Api::syslog_tcp;
  const std::string& host = syslog ? o.syslog_host : o.host;
  const unsigned short port = syslog ? o.syslog_port : o.port;
  auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty())
    return core::make_error(Errc::invalid_argument,
                            fmt::format("cannot resolve {}: {}", host, ec.message()));
  tcp::socket probe(io);
  asio::connect(probe, results, ec);
  if (ec)
    return core::make_error(Errc::unavailable,
                            fmt::format("cannot connect to {}:{}: {}", host, port, ec.message()));
  if (o.https && !syslog) {
    // One request first, so that a certificate the connections would all refuse is said once,
    // in the words of `logpipe query`, instead of as a count of failed handshakes.
    http::SyncClient client(http::Url{host, port, "", true}, o.request_timeout, o.tls);
    if (auto live = client.get("/health/live"); !live) return live.error();
  }
  return probe.remote_endpoint();
}

void fill_latency(Latency& l, std::vector<std::uint32_t>& us) {
  if (us.empty()) return;
  std::sort(us.begin(), us.end());
  l.p50 = percentile_ms(us, 50);
  l.p95 = percentile_ms(us, 95);
  l.p99 = percentile_ms(us, 99);
  l.p999 = percentile_ms(us, 99.9);
  l.max = us.back() / 1000.0;
  double sum = 0;
  for (auto v : us)
    sum += v;
  l.mean = sum / static_cast<double>(us.size()) / 1000.0;
}

core::Result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, value);
  const std::string_view unit(p, static_cast<std::size_t>(end - p));
  double ms = -1;
  if (ec == std::errc() && value > 0) {
    if (unit == "ms")
      ms = value;
    else if (unit == "s" || unit.empty())
      ms = value * 1000;
    else if (unit == "m")
      ms = value * 60'000;
  }
  if (ms < 1)
    return core::make_error(Errc::invalid_argument,
                            fmt::format("invalid --duration \"{}\" (e.g. 60s, 500ms, 2m)", text));
  return std::chrono::milliseconds(static_cast<long long>(ms));
}

}  // namespace

double percentile_ms(const std::vector<std::uint32_t>& sorted, double percentile) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest value with at least `percentile`% of samples at or below it.
  // (The epsilon keeps 99.9% of 1000 at rank 999, not 1000 through rounding.)
  const double rank = std::ceil(percentile / 100.0 * static_cast<double>(sorted.size()) - 1e-9);
  const std::size_t index =
      std::clamp<std::size_t>(static_cast<std::size_t>(rank), 1, sorted.size()) - 1;
  return sorted[index] / 1000.0;
}

core::Result<Report> run(Options o) {
  if (o.api == Api::single) o.batch_size = 1;
  if (o.run_id.empty()) o.run_id = new_run_id();
  auto endpoint = resolve(o);
  if (!endpoint) return endpoint.error();
  std::shared_ptr<ssl::context> tls;
  if (o.https && o.api != Api::syslog_tcp) {
    auto context = http::client_context(o.tls);
    if (!context) return context.error();
    tls = std::move(context).value();
  }

  const Generator generator(o.run_id, o.devices);
  asio::io_context io(static_cast<int>(o.threads));
  const auto start = Clock::now();
  Schedule schedule(o, start);
  Shared shared{
      o,
      generator,
      schedule,
      *endpoint,
      tls,
      fmt::format("POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: {}\r\n{}", target_path(o.api),
                  o.host, o.port, content_type(o.api),
                  o.api_key.empty() ? std::string() : fmt::format("X-API-Key: {}\r\n", o.api_key)),
      {},
      {}};

  std::vector<std::shared_ptr<Sender>> connections;
  for (std::size_t i = 0; i < o.concurrency; ++i) {
    if (o.api == Api::syslog_tcp) {
      connections.push_back(std::make_shared<SyslogConnection>(io, shared));
    } else {
      connections.push_back(std::make_shared<Connection>(io, shared));
    }
    connections.back()->start();
  }
  // Watchdog: request timeouts, and it ends once every connection has finished.
  asio::steady_timer watchdog(io);
  std::function<void()> watch = [&] {
    const auto now = Clock::now();
    bool all_finished = true;
    for (auto& c : connections) {
      if (!c->finished()) {
        all_finished = false;
        c->check_timeout(now);
      }
    }
    if (all_finished) return;
    watchdog.expires_after(std::chrono::milliseconds(200));
    watchdog.async_wait([&](boost::system::error_code) { watch(); });
  };
  watch();
  std::vector<std::jthread> threads;
  for (std::size_t i = 1; i < o.threads; ++i)
    threads.emplace_back([&io] { io.run(); });
  io.run();
  threads.clear();

  Report report;
  Tally& t = shared.total;
  report.run_id = o.run_id;
  report.api = o.api;
  report.mode = o.rate > 0 ? "open" : "closed";
  report.https = o.https && o.api != Api::syslog_tcp;
  report.offered_rate = o.rate;
  report.concurrency = o.concurrency;
  report.batch_size = o.batch_size;
  report.requests_sent = t.requests_sent;
  report.requests_ok = t.requests_ok;
  report.records_sent = t.records_sent;
  report.records_acked = t.records_acked;
  for (const auto& r : t.rejected)
    report.records_rejected += r.count;
  report.statuses = t.statuses;
  report.errors = t.errors;
  if (t.first_send && t.last_response)
    report.seconds = std::chrono::duration<double>(*t.last_response - *t.first_send).count();
  fill_latency(report.latency, t.latencies_us);

  if (!o.database_url.empty() && t.first_send) {
    std::vector<Outcome> outcomes(schedule.records(), Outcome::unanswered);
    for (const auto& r : t.acked)
      std::fill_n(outcomes.begin() + static_cast<std::ptrdiff_t>(r.first_seq), r.count,
                  Outcome::acknowledged);
    for (const auto& r : t.rejected)
      std::fill_n(outcomes.begin() + static_cast<std::ptrdiff_t>(r.first_seq), r.count,
                  Outcome::rejected);
    report.verify = verify_stored(o.database_url, generator, outcomes, report.records_acked,
                                  *t.first_send, o.verify_timeout, o.api, o.api_key);
  }
  return report;
}

std::string format_table(const Report& r) {
  std::string out;
  auto line = [&out]<class... T>(fmt::format_string<T...> format, T&&... args) {
    fmt::format_to(std::back_inserter(out), format, std::forward<T>(args)...);
    out += '\n';
  };
  if (r.api == Api::syslog_tcp) {
    line("logpipe loadtest  run {}  syslog over TCP (RFC 5424, octet counting)", r.run_id);
  } else {
    line("logpipe loadtest  run {}  POST {} ({}{})", r.run_id, target_path(r.api), to_string(r.api),
         r.https ? ", HTTPS" : "");
  }
  if (r.mode == "open") {
    line("load       open loop, {:.0f} requests/s offered, {} connections, {} logs/request",
         r.offered_rate, r.concurrency, r.batch_size);
  } else {
    line("load       closed loop, {} connections, {} logs/request", r.concurrency, r.batch_size);
  }
  std::string statuses;
  for (const auto& [code, n] : r.statuses)
    statuses += fmt::format("{}{}×{}", statuses.empty() ? "" : " ", code, n);
  line("requests   {} sent, {} ok (2xx)   status {}", r.requests_sent, r.requests_ok,
       statuses.empty() ? "-" : statuses);
  line("logs       {} sent, {} acknowledged, {} rejected, {} unanswered", r.records_sent,
       r.records_acked, r.records_rejected, r.records_sent - r.records_acked - r.records_rejected);
  line("rate       {:.0f} logs/s, {:.0f} requests/s over {:.2f} s", r.logs_per_second(),
       r.requests_per_second(), r.seconds);
  line("latency ms p50 {:.2f}  p95 {:.2f}  p99 {:.2f}  p99.9 {:.2f}  max {:.2f}  mean {:.2f}",
       r.latency.p50, r.latency.p95, r.latency.p99, r.latency.p999, r.latency.max, r.latency.mean);
  std::string errors;
  for (const auto& [what, n] : r.errors)
    errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", what, n);
  line("errors     {}", errors.empty() ? "none" : errors);
  const Verification& v = r.verify;
  if (!v.done) {
    line("stored     not verified (no database URL)");
  } else if (!v.error.empty()) {
    line("stored     FAILED to verify: {}", v.error);
  } else {
    line(
        "stored     {} rows: {} of {} acknowledged missing, {} duplicates, {} of rejected "
        "requests, "
        "{} of unanswered requests{}",
        v.found, v.missing, r.records_acked, v.duplicates, v.rejected_stored, v.unanswered_stored,
        v.timed_out ? " (gave up waiting)" : "");
    line("end to end {:.0f} logs/s: first send → last acknowledged log stored in {:.2f} s",
         r.end_to_end_logs_per_second(), v.seconds);
    line("result     {}", r.verified() ? "OK: every acknowledged log stored exactly once"
                                       : "FAILED: stored ≠ acknowledged");
  }
  return out;
}

std::string format_json(const Report& r) {
  core::JsonWriter w;
  w.begin_object()
      .field("run_id", r.run_id)
      .field("api", to_string(r.api))
      .field("mode", r.mode)
      .field("https", r.https)
      .field("offered_rate", r.offered_rate)
      .field("concurrency", static_cast<std::uint64_t>(r.concurrency))
      .field("batch_size", static_cast<std::uint64_t>(r.batch_size))
      .field("requests_sent", r.requests_sent)
      .field("requests_ok", r.requests_ok)
      .field("records_sent", r.records_sent)
      .field("records_acked", r.records_acked)
      .field("records_rejected", r.records_rejected)
      .field("seconds", r.seconds)
      .field("logs_per_second", r.logs_per_second())
      .field("requests_per_second", r.requests_per_second());
  w.key("latency_ms")
      .begin_object()
      .field("p50", r.latency.p50)
      .field("p95", r.latency.p95)
      .field("p99", r.latency.p99)
      .field("p99_9", r.latency.p999)
      .field("max", r.latency.max)
      .field("mean", r.latency.mean)
      .end_object();
  w.key("statuses").begin_object();
  for (const auto& [code, n] : r.statuses)
    w.field(std::to_string(code), n);
  w.end_object();
  w.key("errors").begin_object();
  for (const auto& [what, n] : r.errors)
    w.field(what, n);
  w.end_object();
  w.key("verify").begin_object().field("done", r.verify.done);
  if (r.verify.done) {
    w.field("found", r.verify.found)
        .field("missing", r.verify.missing)
        .field("duplicates", r.verify.duplicates)
        .field("rejected_stored", r.verify.rejected_stored)
        .field("unanswered_stored", r.verify.unanswered_stored)
        .field("seconds", r.verify.seconds)
        .field("end_to_end_logs_per_second", r.end_to_end_logs_per_second())
        .field("timed_out", r.verify.timed_out)
        .field("ok", r.verified());
    if (!r.verify.error.empty()) w.field("error", r.verify.error);
  }
  w.end_object().end_object();
  return w.take() + "\n";
}

void add_flags(CLI::App& c, CommandLine& line) {
  Options& o = line.options;
  c.add_option("--api", line.api,
               "batch (POST /api/logs/batch), single (POST /api/log) or ingest (POST "
               "/api/v1/ingest, NDJSON)")
      ->default_str("batch");
  c.add_option("--protocol", line.protocol,
               "http (the --api endpoint) or syslog-tcp (octet-counted RFC 5424 frames to "
               "--syslog-addr; one write of --batch-size frames stands for a request)")
      ->default_str("http");
  c.add_flag("--https", o.https,
             "HTTPS to --http-addr (serve with tls_cert), the certificate checked as logpipe query "
             "checks it");
  c.add_option("--cacert", o.tls.ca_file,
               "with --https: trust the CA certificates in this PEM file instead of the system's")
      ->envname("LOGPIPE_CACERT");
  c.add_flag("--insecure,-k", o.tls.insecure,
             "with --https: do not check the server's certificate (a warning says so)");
  c.add_option("--syslog-addr", line.syslog_addr,
               "with --protocol syslog-tcp: the server's syslog_tcp_addr")
      ->default_str("127.0.0.1:5514");
  c.add_option("--devices", o.devices, "distinct device ids")
      ->default_val(100)
      ->check(CLI::Range(1, 1'000'000));
  c.add_option("--logs-per-device", o.logs_per_device,
               "closed loop: logs per device (total = devices × this)")
      ->default_val(100)
      ->check(CLI::Range(1, 100'000'000));
  c.add_option("--concurrency", o.concurrency, "connections, each with one request in flight")
      ->default_val(200)
      ->check(CLI::Range(1, 10'000));
  c.add_option("--batch-size", o.batch_size, "logs per request (batch and ingest)")
      ->default_val(5)
      ->check(CLI::Range(1, 1000));
  c.add_option("--rate", line.rate,
               "open loop: requests per second (e.g. 5000 or 5000/s); needs --duration");
  c.add_option("--duration", line.duration, "open loop: how long to send (e.g. 60s, 500ms, 2m)");
  c.add_option("--threads", o.threads, "client io threads")
      ->default_val(1)
      ->check(CLI::Range(1, 64));
  c.add_option("--run-id", o.run_id, "id stamped into every log's attrs.run (default: random)");
  c.add_flag("--no-verify", line.no_verify, "skip checking PostgreSQL for the stored logs");
  c.add_option_function<long>(
       "--verify-timeout", [&o](long s) { o.verify_timeout = std::chrono::seconds(s); },
       "longest wait, in seconds, for every acknowledged log to be stored (it gives up sooner "
       "when nothing more is stored for 20 s)")
      ->default_str("120")
      ->check(CLI::Range(1, 86'400));
  c.add_flag("--json", o.json, "print the report as JSON");
  c.add_option("--api-key", o.api_key,
               "sent as X-API-Key (a server with auth = keys); its tenant is the one verified")
      ->envname("LOGPIPE_API_KEY");
}

core::Result<Options> finish_flags(const CommandLine& line) {
  Options o = line.options;
  if (line.api == "batch")
    o.api = Api::batch;
  else if (line.api == "single")
    o.api = Api::single;
  else if (line.api == "ingest")
    o.api = Api::ingest;
  else
    return core::make_error(Errc::invalid_argument,
                            fmt::format("invalid --api \"{}\": batch, single or ingest", line.api));
  if (line.protocol == "syslog-tcp") {
    o.api = Api::syslog_tcp;
    const auto colon = line.syslog_addr.rfind(':');
    unsigned port = 0;
    const char* end = line.syslog_addr.data() + line.syslog_addr.size();
    if (colon == std::string::npos || colon == 0 ||
        std::from_chars(line.syslog_addr.data() + colon + 1, end, port).ptr != end || port == 0 ||
        port > 65535)
      return core::make_error(Errc::invalid_argument,
                              fmt::format("invalid --syslog-addr \"{}\" (host:port, e.g. "
                                          "127.0.0.1:5514)",
                                          line.syslog_addr));
    o.syslog_host = line.syslog_addr.substr(0, colon);
    o.syslog_port = static_cast<unsigned short>(port);
    if (o.https)
      return core::make_error(
          Errc::invalid_argument,
          "--https is for --protocol http (the syslog frames go over plain TCP)");
  } else if (line.protocol != "http") {
    return core::make_error(
        Errc::invalid_argument,
        fmt::format("invalid --protocol \"{}\": http or syslog-tcp", line.protocol));
  }
  if (!line.rate.empty()) {
    std::string rate = line.rate;
    if (rate.ends_with("/s")) rate.resize(rate.size() - 2);
    auto [p, ec] = std::from_chars(rate.data(), rate.data() + rate.size(), o.rate);
    if (ec != std::errc() || p != rate.data() + rate.size() || o.rate <= 0)
      return core::make_error(Errc::invalid_argument,
                              fmt::format("invalid --rate \"{}\" (e.g. 5000/s)", line.rate));
    if (line.duration.empty())
      return core::make_error(Errc::invalid_argument,
                              "--rate needs --duration (e.g. --duration 60s)");
  }
  if (!line.duration.empty()) {
    if (line.rate.empty())
      return core::make_error(Errc::invalid_argument, "--duration needs --rate (open loop)");
    auto d = parse_duration(line.duration);
    if (!d) return d.error();
    o.duration = *d;
  }
  o.verify = !line.no_verify;
  return o;
}

}  // namespace logpipe::loadtest
