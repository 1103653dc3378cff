// Test harness for integration tests: the shared private Redis/PostgreSQL started by the ctest
// fixture, a fresh database and stream namespace per test, logpipe child processes, and a
// minimal blocking HTTP client. Everything is bounded in time.
#pragma once

#include <simdjson.h>

#include <chrono>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "queue/redis.hpp"
#include "store/connection.hpp"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX and SSL
struct ssl_st;

namespace logpipe::test {

using namespace std::chrono_literals;

struct Services {
  std::string redis_url;            // redis://127.0.0.1:P/0
  std::string database_url;         // postgresql://logpipe@127.0.0.1:P/logpipe
  static const Services& shared();  // from the fixture's env file
};

// A connection to the shared Redis (throws when it cannot connect).
queue::SyncClient shared_redis();
// The names of the consumers of `stream`'s consumer group (XINFO CONSUMERS); empty without one.
std::set<std::string> consumer_names(queue::SyncClient& redis, const std::string& stream,
                                     const std::string& group = "log_workers");

// A database of its own for one test, dropped at the end.
class TestDatabase {
 public:
  explicit TestDatabase(const std::string& tag);
  ~TestDatabase();
  const std::string& url() const { return url_; }
  store::Connection connect() const;
  long long count(const std::string& sql) const;  // SELECT count(*)… → number

 private:
  std::string name_;
  std::string url_;
};

unsigned short free_port();
// A TCP connection to 127.0.0.1:port (a file descriptor), or -1.
int connect_loopback(unsigned short port);
std::string unique_tag(const std::string& base);  // base + pid + counter

struct HttpResponse {
  int status = 0;                              // 0: no response (connection failed or closed early)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> content_type = "application/json";
};

HttpResponse http(unsigned short port, const HttpRequest& request,
                  std::chrono::milliseconds timeout = 10s);
// An HTTP/1.1 response as it came (status, lower-case headers, the body after the header).
HttpResponse parse_response(const std::string& raw);

// A TLS connection to 127.0.0.1:port (OpenSSL, blocking, every step bounded by `timeout`). It
// does not verify the certificate (tests make self-signed ones): it reports what it was given.
// `max_version` (e.g. TLS1_1_VERSION) offers nothing newer.
class TlsConnection {
 public:
  explicit TlsConnection(unsigned short port, int max_version = 0,
                         std::chrono::milliseconds timeout = 10s);
  // Presenting a client certificate (PEM files) for mutual TLS.
  TlsConnection(unsigned short port, const std::string& cert_file, const std::string& key_file,
                std::chrono::milliseconds timeout = 10s);
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }  // OpenSSL's, of a failed handshake
  const std::string& fingerprint() const { return fingerprint_; }  // SHA-256, AA:BB:…
  const std::string& version() const { return version_; }          // "TLSv1.3"
  // One request on this connection (kept open unless `close`).
  HttpResponse request(const HttpRequest& request, bool close = false);
  // Bytes as they are (syslog frames); false when they could not be written.
  bool send(std::string_view data);
  // Whether the server ended the connection: a read gets its end, or an error (a TLS alert),
  // within the connection's timeout, not data.
  bool closed_by_peer();

 private:
  void connect(unsigned short port, std::chrono::milliseconds timeout, int max_version,
               const std::string& cert_file, const std::string& key_file);

  int fd_ = -1;
  ::ssl_ctx_st* context_ = nullptr;
  ::ssl_st* ssl_ = nullptr;
  std::string error_, fingerprint_, version_;
};
// One request over a new TLS connection.
HttpResponse https(unsigned short port, const HttpRequest& request, int max_version = 0);
HttpResponse get(unsigned short port, const std::string& target);
HttpResponse post_json(unsigned short port, const std::string& target, const std::string& body);
// POST /api/v1/ingest with an NDJSON body.
HttpResponse ingest_ndjson(unsigned short port, const std::string& body);

// A GET whose chunked body is read as it arrives (exports, streams): the head on construction,
// then the body one chunk at a time, so that a test can count a large body without holding it,
// or leave in the middle. A small receive buffer keeps what the kernel holds for the client
// small, so that the server notices a client that stops reading soon.
class StreamingGet {
 public:
  StreamingGet(unsigned short port, const std::string& target,
               std::chrono::milliseconds timeout = 30s);
  ~StreamingGet();
  StreamingGet(const StreamingGet&) = delete;
  StreamingGet& operator=(const StreamingGet&) = delete;

  int status() const { return status_; }  // 0: no response head
  const std::map<std::string, std::string>& headers() const { return headers_; }
  // The next chunk's data; nullopt at the end of the body, or when the connection ended (or
  // timed out) first: complete() tells which.
  std::optional<std::string> next_chunk();
  bool complete() const { return complete_; }
  // Closes the connection now, as a client that leaves does.
  void close();

 private:
  bool fill();  // reads more into buffer_; false when the connection ended
  std::optional<std::string> take_line();

  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string buffer_;
  bool complete_ = false;
};

// A logpipe child process. Its stderr goes to a file that tests can read.
class Process {
 public:
  Process(std::vector<std::string> args, std::map<std::string, std::string> env);
  ~Process();  // SIGKILL if still running
  int pid() const { return pid_; }
  // SIGTERM, then wait; returns the exit code, or -signal, or nullopt on timeout.
  std::optional<int> terminate(std::chrono::milliseconds timeout = 15s);
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill_now();             // SIGKILL, as a crash would, and reap
  std::string output() const;  // stderr + stdout so far

 private:
  int pid_ = -1;
  std::string log_path_;
};

// `logpipe run|serve|worker` on a free port, against the shared services, with this test's own
// database and stream. Waits until /health/live answers (a worker: until it logs that it started,
// at most 15 s).
struct LogpipeOptions {
  std::string command = "run";
  std::string database_url;
  std::string redis_url;  // default: the shared Redis
  std::string stream;
  std::vector<std::string> extra_args;
  unsigned short port = 0;  // 0: a free one (a restarted serve passes its predecessor's)
  std::map<std::string, std::string> env;  // more environment variables for the process
  bool https = false;  // serve has tls_cert and tls_key: wait for /health/live over TLS
};

class Logpipe {
 public:
  explicit Logpipe(LogpipeOptions options);
  unsigned short port() const { return port_; }
  Process& process() { return *process_; }

 private:
  unsigned short port_ = 0;
  std::unique_ptr<Process> process_;
};

// A private Redis or PostgreSQL ("redis" / "postgres") of one test, started and stopped (by
// PID) through scripts/dev-services, so that stopping it cannot disturb tests running in
// parallel. Its data survives stop() and start().
class PrivateService {
 public:
  explicit PrivateService(std::string which);
  ~PrivateService();
  void stop();
  void start();
  void crash();  // Redis only: SIGKILL, as a crash would (start() brings it back, same port)
  const std::string& url() const { return url_; }

 private:
  std::string which_;
  std::string dir_;
  std::string url_;
};

// A private Prometheus Alertmanager (Debian's prometheus-alertmanager) of one test: a temporary
// directory with its config (one receiver that sends nothing) and storage, a free loopback
// port, no clustering. Ready (GET /-/ready) when constructed; stopped by its PID (SIGTERM, then
// SIGKILL) and its directory removed when destroyed.
class PrivateAlertmanager {
 public:
  PrivateAlertmanager();
  ~PrivateAlertmanager();
  PrivateAlertmanager(const PrivateAlertmanager&) = delete;
  PrivateAlertmanager& operator=(const PrivateAlertmanager&) = delete;
  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Process& process() { return *process_; }
  // The alerts GET /api/v2/alerts lists (active ones: a resolved alert leaves the list) with the
  // label alertname `name`, each as its JSON object; empty when there is none or no answer.
  std::vector<std::string> alerts_named(const std::string& name) const;

 private:
  std::string dir_;
  unsigned short port_ = 0;
  std::unique_ptr<Process> process_;
};

// Runs `logpipe <args>` to completion; returns {exit code, output}.
std::pair<int, std::string> run_logpipe(const std::vector<std::string>& args,
                                        const std::map<std::string, std::string>& env = {},
                                        std::chrono::milliseconds timeout = 60s);

// A Node.js script of tests/clients (the real clients the tests drive: the Elasticsearch JS
// client, pino, …; `make clients` installs them) run to completion with `args` and more
// environment. Bounded: past `timeout` it is killed by its PID and `timed_out` is set.
struct NodeResult {
  int exit_code = -1;  // -signal when killed by one; -1 when it could not start
  bool timed_out = false;
  std::string out, err;
};
NodeResult run_node(const std::string& script, const std::vector<std::string>& args,
                    const std::map<std::string, std::string>& env = {},
                    std::chrono::milliseconds timeout = 60s);
// The same for a script of tests/browser (puppeteer-core driving Debian's chromium, Lighthouse;
// `make browser-tests` installs them). Its process group is killed on a timeout, browser and all.
NodeResult run_browser(const std::string& script, const std::vector<std::string>& args,
                       const std::map<std::string, std::string>& env = {},
                       std::chrono::milliseconds timeout = 90s);
// What a test prints when a NodeResult is not what it expected.
std::string describe(const NodeResult& result);

// tests/clients/webhook_receiver.js on `port`, listening when this returns, until it got
// `requests` requests (answered with `statuses` in turn, e.g. "500,500,200"; `mode` "slack"
// checks Slack's shape); its result is a JSON array of what it received.
std::future<NodeResult> start_webhook_receiver(unsigned short port, const std::string& secret,
                                               const std::string& statuses, int requests,
                                               const std::string& mode = "");

// A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or -1.
long status_kib(int pid, const std::string& field);

// The value of one series ("name" or "name{label=\"v\",…}", labels sorted as prometheus-cpp
// writes them) in a Prometheus exposition, or 0 when it is absent.
double metric(const std::string& exposition, const std::string& series);
// The same from GET /metrics of the logpipe on `port`.
double metric(unsigned short port, const std::string& series);

// A UDP datagram to 127.0.0.1:port; false when it could not be sent.
bool send_udp(unsigned short port, std::string_view datagram);

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout);

// Parses JSON text; fails the test (via ADD_FAILURE) and returns nullopt when invalid.
simdjson::dom::element parse_json(simdjson::dom::parser& parser, const std::string& text);

}  // namespace logpipe::test
