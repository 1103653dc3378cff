// serve's HTTP defences against a real `logpipe serve`: HTTPS with certificates the test makes
// with the openssl CLI, reloaded on SIGHUP (serve's and the syslog TLS listener's) while a
// connection stays open; security headers, the /docs page under its Content-Security-Policy, and
// CORS; and each limit: header size and fields, connections per client address, slow headers
// (slowloris), slow and long bodies, idle keep-alive connections. Every refusal is checked in
// /metrics.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <thread>

#include "../common/certificate.hpp"
#include "../common/compress.hpp"
#include "../common/temp_dir.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

int sh(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A self-signed certificate made as an operator would: openssl req.
CertificateFiles openssl_certificate(const TempDir& dir, const std::string& name) {
  CertificateFiles files{dir.file(name + ".crt"), dir.file(name + ".key")};
  const int made =
      sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
         "-keyout " +
         files.key + " -out " + files.cert + " -days 2 -subj /CN=" + name + " 2>/dev/null");
  if (made != 0) throw std::runtime_error("openssl req failed");
  return files;
}

// Replaces `to` by `from` in one step (a rename), as a deployment tool would.
void install(const std::string& from, const std::string& to) {
  fs::copy_file(from, to + ".new", fs::copy_options::overwrite_existing);
  fs::rename(to + ".new", to);
}

std::string addr(unsigned short port) {
  return "127.0.0.1:" + std::to_string(port);
}

// serve (no worker: nothing here needs the logs stored) on its own database and stream.
struct Serve {
  explicit Serve(const std::string& tag, std::vector<std::string> args, bool https = false)
      : db(tag) {
    if (run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first != 0)
      throw std::runtime_error("migrate failed");
    lp = std::make_unique<Logpipe>(LogpipeOptions{.command = "serve",
                                                  .database_url = db.url(),
                                                  .stream = unique_tag(tag),
                                                  .extra_args = std::move(args),
                                                  .https = https});
  }
  unsigned short port() const { return lp->port(); }
  double metric(const std::string& series, bool https = false) const {
    HttpRequest r;
    r.target = "/metrics";
    r.content_type.reset();
    return test::metric((https ? test::https(port(), r) : get(port(), "/metrics")).body, series);
  }
  double event(const std::string& name) const {
    return metric("http_connection_events_total{event=\"" + name + "\"}");
  }

  TestDatabase db;
  std::unique_ptr<Logpipe> lp;
};

// A plain TCP client with every step bounded, from a chosen loopback address.
class Raw {
 public:
  explicit Raw(unsigned short port, const char* source = "127.0.0.1") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in from{};
    from.sin_family = AF_INET;
    inet_pton(AF_INET, source, &from.sin_addr);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(port);
    connected_ = fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0 &&
                 ::connect(fd_, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
  }
  ~Raw() {
    if (fd_ >= 0) ::close(fd_);
  }
  bool connected() const { return connected_; }
  bool send(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // Everything until the server closes, or `timeout`; closed() says which.
  std::string read_until_closed(std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    std::string out;
    char buf[16384];
    while (Clock::now() < deadline) {
      timeval tv{0, 100'000};
      setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
        closed_ = true;
        break;
      }
    }
    return out;
  }
  // What has arrived, without waiting.
  std::string read_available() {
    std::string out;
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
      if (n <= 0) {
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed_ = true;
        return out;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  bool closed() const { return closed_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
};

std::string error_code_of(const HttpResponse& response) {
  const auto at = response.body.find(R"("code":")");
  if (at == std::string::npos) return {};
  return response.body.substr(at + 8, response.body.find('"', at + 8) - at - 8);
}

HttpRequest live() {
  HttpRequest r;
  r.target = "/health/live";
  r.content_type.reset();
  return r;
}

// ---- TLS ----

TEST(HttpSecurity, HttpsWithCertificatesReloadedOnSighup) {
  TempDir dir;
  const auto first = openssl_certificate(dir, "first");
  const auto second = openssl_certificate(dir, "second");
  const std::string cert = dir.file("served.crt"), key = dir.file("served.key");
  const std::string syslog_cert = dir.file("syslog.crt"), syslog_key = dir.file("syslog.key");
  install(first.cert, cert);
  install(first.key, key);
  install(first.cert, syslog_cert);
  install(first.key, syslog_key);
  const unsigned short syslog_tls = free_port();
  Serve s("https",
          {"--tls-cert", cert, "--tls-key", key, "--syslog-tls-addr", addr(syslog_tls),
           "--syslog-tls-cert", syslog_cert, "--syslog-tls-key", syslog_key},
          true);
  const std::string fp1 = fingerprint_of_file(first.cert), fp2 = fingerprint_of_file(second.cert);
  ASSERT_NE(fp1, fp2);

  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsConnection c(s.port(), version);
    ASSERT_TRUE(c.ok()) << c.error();
    EXPECT_EQ(c.fingerprint(), fp1);
    EXPECT_EQ(c.request(live()).status, 200);
  }
  TlsConnection old(s.port(), TLS1_1_VERSION);
  EXPECT_FALSE(old.ok());
  EXPECT_NE(old.error().find("protocol version"), std::string::npos) << old.error();
  EXPECT_EQ(get(s.port(), "/health/live").status, 0);  // HTTPS only
  EXPECT_GE(s.metric(R"(http_connection_events_total{event="tls_failed"})", true), 2);
  EXPECT_GT(s.metric(R"(tls_certificate_expiry_timestamp_seconds{listener="http"})", true),
            static_cast<double>(std::time(nullptr)));

  // A connection made before the reload.
  TlsConnection open(s.port());
  ASSERT_TRUE(open.ok()) << open.error();
  ASSERT_EQ(open.request(live()).status, 200);

  install(second.cert, cert);
  install(second.key, key);
  install(second.cert, syslog_cert);
  install(second.key, syslog_key);
  ASSERT_EQ(::kill(s.lp->process().pid(), SIGHUP), 0);
  EXPECT_TRUE(eventually([&] { return TlsConnection(s.port()).fingerprint() == fp2; }, 10s));
  EXPECT_TRUE(eventually([&] { return TlsConnection(syslog_tls).fingerprint() == fp2; }, 10s));
  // The open connection goes on, with the certificate it began with.
  EXPECT_EQ(open.request(live()).status, 200);
  EXPECT_EQ(open.fingerprint(), fp1);
  EXPECT_EQ(s.metric(R"(tls_certificate_reloads_total{listener="http",outcome="ok"})", true), 1);
  EXPECT_EQ(s.metric(R"(tls_certificate_reloads_total{listener="syslog",outcome="ok"})", true), 1);

  // A reload that cannot load (a file broken) keeps the certificate in use.
  std::ofstream(dir.file("broken.crt")) << "-----BEGIN CERTIFICATE-----\nnot base64\n";
  install(dir.file("broken.crt"), cert);
  ASSERT_EQ(::kill(s.lp->process().pid(), SIGHUP), 0);
  EXPECT_TRUE(eventually(
      [&] {
        return s.metric(R"(tls_certificate_reloads_total{listener="http",outcome="failed"})",
                        true) == 1;
      },
      10s));
  TlsConnection after(s.port());
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.fingerprint(), fp2);
  EXPECT_EQ(after.request(live()).status, 200);
  EXPECT_EQ(s.lp->process().terminate(), 0);
  const std::string log = s.lp->process().output();
  EXPECT_NE(log.find("TLS certificate reload failed"), std::string::npos) << log;
  EXPECT_NE(log.find("tls_cert " + cert), std::string::npos) << log;
  EXPECT_NE(log.find(fp2), std::string::npos) << log;  // the reloaded one's fingerprint
}

TEST(HttpSecurity, AnUnusableCertificateStopsStartUp) {
  TempDir dir;
  const auto a = openssl_certificate(dir, "a");
  const auto b = openssl_certificate(dir, "b");
  TestDatabase db("https_bad");
  const std::map<std::string, std::string> env{{"LOGPIPE_DATABASE_URL", db.url()},
                                               {"LOGPIPE_REDIS_URL", Services::shared().redis_url}};
  auto [code, out] = run_logpipe(
      {"serve", "--tls-cert", a.cert, "--tls-key", b.key, "--http-addr", addr(free_port())}, env);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("tls_key " + b.key + ": not the private key of tls_cert " + a.cert),
            std::string::npos)
      << out;
  std::tie(code, out) =
      run_logpipe({"serve", "--tls-cert", a.cert, "--http-addr", addr(free_port())}, env);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("tls_cert and tls_key go together"), std::string::npos) << out;
}

// ---- headers, /docs, CORS ----

TEST(HttpSecurity, SecurityHeadersDocsAndCors) {
  Serve s("cors", {"--cors-origins", "https://ui.example"});
  const auto liveness = get(s.port(), "/health/live");
  EXPECT_EQ(liveness.headers.at("x-content-type-options"), "nosniff");
  EXPECT_EQ(liveness.headers.count("content-security-policy"), 0u);
  const auto missing = get(s.port(), "/nowhere");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.at("x-content-type-options"), "nosniff");

  // /docs: no inline script or style; what it loads is served from here, under nosniff.
  const auto docs = get(s.port(), "/docs");
  ASSERT_EQ(docs.status, 200);
  const std::string policy = docs.headers.at("content-security-policy");
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
  EXPECT_EQ(docs.headers.at("x-frame-options"), "DENY");
  EXPECT_EQ(docs.headers.at("referrer-policy"), "no-referrer");
  EXPECT_NE(docs.body.find(R"(<script src="/docs.js"></script>)"), std::string::npos);
  EXPECT_NE(docs.body.find(R"(<link rel="stylesheet" href="/docs.css">)"), std::string::npos);
  EXPECT_EQ(docs.body.find("<script>"), std::string::npos) << "inline script";
  EXPECT_EQ(docs.body.find("<style"), std::string::npos) << "inline style";
  EXPECT_EQ(docs.body.find(" style="), std::string::npos) << "inline style";
  const auto script = get(s.port(), "/docs.js");
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.headers.at("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(script.headers.at("x-content-type-options"), "nosniff");
  EXPECT_NE(script.body.find(R"(fetch("/openapi.json"))"), std::string::npos);
  const auto style = get(s.port(), "/docs.css");
  ASSERT_EQ(style.status, 200);
  EXPECT_EQ(style.headers.at("content-type"), "text/css; charset=utf-8");
  // The script the page runs is valid JavaScript (node is there for the clients' tests).
  if (sh("command -v node >/dev/null") == 0) {
    TempDir dir;
    std::ofstream(dir.file("docs.js")) << script.body;
    EXPECT_EQ(sh("node --check " + dir.file("docs.js")), 0);
  }

  // CORS: a preflight from the allowed origin, answered from the route table.
  HttpRequest preflight;
  preflight.method = "OPTIONS";
  preflight.target = "/api/v1/ingest";
  preflight.content_type.reset();
  preflight.headers = {{"Origin", "https://ui.example"},
                       {"Access-Control-Request-Method", "POST"},
                       {"Access-Control-Request-Headers", "x-api-key, content-type"}};
  const auto allowed = http(s.port(), preflight);
  EXPECT_EQ(allowed.status, 204);
  EXPECT_EQ(allowed.headers.at("access-control-allow-origin"), "https://ui.example");
  EXPECT_EQ(allowed.headers.at("access-control-allow-methods"), "POST, OPTIONS");
  EXPECT_NE(allowed.headers.at("access-control-allow-headers").find("X-API-Key"),
            std::string::npos);
  EXPECT_EQ(allowed.headers.at("access-control-max-age"), "600");
  EXPECT_EQ(allowed.headers.at("vary"), "Origin");
  EXPECT_EQ(allowed.headers.count("access-control-allow-credentials"), 0u);
  preflight.target = "/api/v1/logs/42";
  EXPECT_EQ(http(s.port(), preflight).headers.at("allow"), "GET, DELETE, OPTIONS");

  preflight.headers[0].second = "https://evil.example";
  const auto denied = http(s.port(), preflight);
  EXPECT_EQ(denied.status, 204);
  for (const auto& [name, value] : denied.headers)
    EXPECT_NE(name.rfind("access-control-", 0), 0u) << name << ": " << value;

  HttpRequest ingest;
  ingest.method = "POST";
  ingest.target = "/api/log";
  ingest.body = R"({"device_id":"d","message":"from a page"})";
  ingest.headers = {{"Origin", "https://ui.example"}};
  const auto accepted = http(s.port(), ingest);
  EXPECT_EQ(accepted.status, 202) << accepted.body;
  EXPECT_EQ(accepted.headers.at("access-control-allow-origin"), "https://ui.example");
  EXPECT_NE(accepted.headers.at("access-control-expose-headers").find("X-Request-Id"),
            std::string::npos);
  ingest.headers = {{"Origin", "https://evil.example"}};
  const auto other = http(s.port(), ingest);
  EXPECT_EQ(other.status, 202);  // CORS is the browser's check; the server only withholds
  EXPECT_EQ(other.headers.count("access-control-allow-origin"), 0u);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// ---- limits ----

TEST(HttpLimits, HeaderSizeAndFieldCount) {
  Serve s("header_limits", {"--max-header-bytes", "4096", "--max-header-count", "20"});
  const auto refused = [&](const std::string& extra) {
    Raw client(s.port());
    EXPECT_TRUE(client.send("GET /health/live HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n"));
    const std::string raw = client.read_until_closed(5s);
    EXPECT_TRUE(client.closed()) << "the connection stays open";
    return parse_response(raw);
  };
  const auto big = refused("X-Big: " + std::string(5000, 'b') + "\r\n");
  EXPECT_EQ(big.status, 431);
  EXPECT_EQ(big.headers.at("content-type"), "application/json");
  EXPECT_EQ(error_code_of(big), "header_too_large") << big.body;
  std::string fields;
  for (int i = 0; i < 25; ++i)
    fields += "X-F" + std::to_string(i) + ": v\r\n";
  const auto many = refused(fields);
  EXPECT_EQ(many.status, 431);
  EXPECT_EQ(error_code_of(many), "too_many_headers") << many.body;
  EXPECT_NE(many.body.find("more than 20 fields"), std::string::npos) << many.body;
  // Within both limits.
  HttpRequest fine = live();
  for (int i = 0; i < 15; ++i)
    fine.headers.emplace_back("X-F" + std::to_string(i), std::string(100, 'v'));
  EXPECT_EQ(http(s.port(), fine).status, 200);
  EXPECT_EQ(s.event("header_too_large"), 1);
  EXPECT_EQ(s.event("too_many_headers"), 1);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// Every limit on what a body holds is a setting: set low here, each is met exactly at its edge.
TEST(HttpLimits, BodyLimitsAreSettingsEachMetAtItsEdge) {
  Serve s("body_limits",
          {"--max-records-per-request", "5", "--max-json-depth", "8", "--max-message-bytes", "100",
           "--max-name-bytes", "20", "--max-body-bytes", "4096", "--max-decoded-bytes", "8192"});
  const auto records = [](int n, const std::string& message = "m",
                          const std::string& device = "d") {
    std::string body = "[";
    for (int i = 0; i < n; ++i)
      body += std::string(i ? "," : "") + R"({"device_id":")" + device + R"(","message":")" +
              message + R"("})";
    return body + "]";
  };
  const auto ingest = [&](const std::string& body) {
    return post_json(s.port(), "/api/v1/ingest", body);
  };
  // Records per request: 5 on logpipe's own endpoints, ten times that on a shipper's protocol.
  EXPECT_EQ(ingest(records(5)).status, 202);
  const auto six = ingest(records(6));
  EXPECT_EQ(six.status, 413) << six.body;
  EXPECT_EQ(error_code_of(six), "too_large");
  EXPECT_EQ(post_json(s.port(), "/api/logs/batch", R"({"logs":)" + records(6) + "}").status, 413);
  const auto bulk = [&](int n) {
    std::string body;
    for (int i = 0; i < n; ++i)
      body += "{\"index\":{}}\n{\"message\":\"m\"}\n";
    HttpRequest r;
    r.method = "POST";
    r.target = "/es/_bulk";
    r.body = body;
    r.content_type = "application/x-ndjson";
    return http(s.port(), r);
  };
  EXPECT_EQ(bulk(50).status, 200);
  EXPECT_EQ(bulk(51).status, 413);
  // Nesting: the array, the record and six objects in attrs are 8 levels; one more is refused.
  const auto nested = [](int objects) {
    std::string attrs = "1";
    for (int i = 0; i < objects; ++i)
      attrs = R"({"a":)" + attrs + "}";
    return R"([{"message":"m","attrs":)" + attrs + "}]";
  };
  EXPECT_EQ(ingest(nested(6)).status, 202) << ingest(nested(6)).body;
  const auto deep = ingest(nested(7));
  EXPECT_EQ(deep.status, 400) << deep.body;
  EXPECT_EQ(error_code_of(deep), "malformed");
  // Message and name lengths.
  EXPECT_EQ(ingest(records(1, std::string(100, 'x'))).status, 202);
  EXPECT_EQ(ingest(records(1, std::string(101, 'x'))).status, 422);
  EXPECT_EQ(ingest(records(1, "m", std::string(20, 'd'))).status, 202);
  const auto long_name = ingest(records(1, "m", std::string(21, 'd')));
  EXPECT_EQ(long_name.status, 422) << long_name.body;
  EXPECT_NE(long_name.body.find("device_id"), std::string::npos) << long_name.body;
  // A log line's longer message is kept, cut.
  HttpRequest line;
  line.method = "POST";
  line.target = "/api/v1/ingest/raw?format=plain";
  line.body = std::string(300, 'y') + "\n";
  line.content_type = "text/plain";
  EXPECT_EQ(http(s.port(), line).status, 202);
  // The body, as sent and once decoded.
  EXPECT_EQ(ingest(records(1, std::string(5000, 'x'))).status, 413);
  HttpRequest bomb;
  bomb.method = "POST";
  bomb.target = "/api/v1/ingest";
  bomb.body = gzipped(R"([{"message":")" + std::string(9000, 'z') + R"("}])");
  bomb.headers.emplace_back("Content-Encoding", "gzip");
  ASSERT_LT(bomb.body.size(), 4096u);
  EXPECT_EQ(http(s.port(), bomb).status, 413);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

TEST(HttpLimits, ConnectionsPerClientAddress) {
  Serve s("per_ip", {"--max-connections-per-ip", "5"});
  std::vector<std::unique_ptr<Raw>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<Raw>(s.port(), "127.0.0.2"));
    ASSERT_TRUE(held.back()->connected());
  }
  // The server has counted all five before the sixth comes: each has been served once.
  for (auto& c : held) {
    ASSERT_TRUE(c->send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n"));
    const auto start = Clock::now();
    std::string got;
    while (got.find("alive") == std::string::npos && Clock::now() - start < 5s)
      got += c->read_until_closed(100ms);
    ASSERT_NE(got.find("alive"), std::string::npos);
  }
  Raw sixth(s.port(), "127.0.0.2");
  ASSERT_TRUE(sixth.connected());
  sixth.read_until_closed(3s);
  EXPECT_TRUE(sixth.closed()) << "a sixth connection from 127.0.0.2 is refused";
  // Another address is not affected.
  const auto start = Clock::now();
  EXPECT_EQ(get(s.port(), "/health/live").status, 200);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_GE(s.event("refused_per_ip"), 1);
  held.clear();
  EXPECT_TRUE(eventually(
      [&] {
        Raw again(s.port(), "127.0.0.2");
        return again.send("GET /health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n") &&
               again.read_until_closed(2s).find("alive") != std::string::npos;
      },
      5s));
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// Slow clients, all at once, while /health/live keeps answering: a header sent one byte a second
// (slowloris), a body below the minimum rate, a body fast enough but longer than body_timeout,
// an idle keep-alive connection.
TEST(HttpLimits, SlowClientsAreCutWhileOthersAreServed) {
  Serve s("slow_clients", {"--header-timeout", "2s", "--body-timeout", "5s", "--min-body-rate",
                           "1000", "--idle-timeout", "1s"});
  struct Outcome {
    std::string response;
    bool closed = false;
    double seconds = 0;
  };
  // Sends `head`, then `piece` every `every` until the server closes (or 20 s).
  const auto trickle = [port = s.port()](std::string head, std::string piece,
                                         std::chrono::milliseconds every) {
    Raw client(port);
    Outcome o;
    const auto start = Clock::now();
    if (!client.send(head)) return o;
    while (Clock::now() - start < 20s) {
      o.response += client.read_until_closed(every);
      if (client.closed() || !client.send(piece)) break;
    }
    o.response += client.read_until_closed(3s);
    o.closed = client.closed();
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return o;
  };
  auto slowloris = std::async(std::launch::async, trickle,
                              "GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ", "a", 1000ms);
  const std::string body_head =
      "POST /api/v1/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
      "Content-Length: 1000000\r\n\r\n";
  auto slow_body = std::async(std::launch::async, trickle, body_head, std::string(20, 'x'),
                              200ms);  // 100 bytes a second
  auto long_body = std::async(std::launch::async, trickle, body_head, std::string(400, 'x'),
                              200ms);  // 2000 bytes a second: 500 s for the whole body
  auto idle = std::async(std::launch::async, [port = s.port()] {
    Raw client(port);
    Outcome o;
    client.send("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto start = Clock::now();
    o.response = client.read_until_closed(10s);
    o.closed = client.closed();
    o.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return o;
  });
  // Meanwhile others are served at once.
  for (int i = 0; i < 8; ++i) {
    const auto start = Clock::now();
    EXPECT_EQ(get(s.port(), "/health/live").status, 200);
    EXPECT_LT(Clock::now() - start, 1s);
    std::this_thread::sleep_for(500ms);
  }

  const auto loris = slowloris.get();
  EXPECT_TRUE(loris.closed);
  EXPECT_EQ(parse_response(loris.response).status, 408) << loris.response;
  EXPECT_EQ(error_code_of(parse_response(loris.response)), "header_timeout");
  EXPECT_GE(loris.seconds, 1.5);
  EXPECT_LT(loris.seconds, 8);
  const auto slow = slow_body.get();
  EXPECT_TRUE(slow.closed);
  EXPECT_EQ(error_code_of(parse_response(slow.response)), "body_too_slow") << slow.response;
  EXPECT_GE(slow.seconds, 2.5);  // the first 3 s are grace
  EXPECT_LT(slow.seconds, 9);
  const auto lengthy = long_body.get();
  EXPECT_TRUE(lengthy.closed);
  EXPECT_EQ(parse_response(lengthy.response).status, 408) << lengthy.response;
  EXPECT_EQ(error_code_of(parse_response(lengthy.response)), "body_timeout");
  EXPECT_GE(lengthy.seconds, 4.5);
  EXPECT_LT(lengthy.seconds, 12);
  const auto kept = idle.get();
  EXPECT_TRUE(kept.closed);
  EXPECT_NE(kept.response.find("alive"), std::string::npos);
  EXPECT_GE(kept.seconds, 0.8);
  EXPECT_LT(kept.seconds, 5);
  for (const auto* event : {"header_timeout", "body_too_slow", "body_timeout", "idle_timeout"})
    EXPECT_GE(s.event(event), 1) << event;
  EXPECT_EQ(s.metric("logs_received_total{level=\"INFO\"}"), 0);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// The deadline often falls just as a piece has arrived inside one of Beast's composed reads: that
// read is past cancelling, and the composed read goes on with another. Clients that keep the
// socket full make that the common case; each must still be cut by its deadline with a 408,
// not by max_header_bytes once its header has grown to 1 MiB.
TEST(HttpLimits, AHeaderDeadlineThatFallsAsAPieceArrivesStillCuts) {
  Serve s("deadline_race", {"--header-timeout", "500ms", "--max-header-bytes", "1048576"});
  constexpr int kClients = 64;
  std::vector<std::future<std::string>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::async(std::launch::async, [port = s.port()] {
      Raw client(port);
      std::string response;
      if (!client.send("GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ")) return response;
      // About 250 kB/s: an eighth of max_header_bytes by the deadline.
      const std::string piece(256, 'a');
      const auto start = Clock::now();
      while (Clock::now() - start < 10s && !client.closed() && client.send(piece)) {
        std::this_thread::sleep_for(1ms);
        response += client.read_available();
      }
      return response + client.read_until_closed(2s);
    }));
  }
  std::map<std::string, int> answers;
  for (auto& client : clients)
    ++answers[error_code_of(parse_response(client.get()))];
  EXPECT_EQ(answers["header_timeout"], kClients) << [&] {
    std::string text;
    for (const auto& [answer, n] : answers)
      text += (answer.empty() ? "(none)" : answer) + ": " + std::to_string(n) + " ";
    return text;
  }();
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// ---- the web UI ----

// The UI is served like /docs (same policy, nothing inline), gzipped to clients that take it and
// revalidated by ETag; a browser asking for / is sent to it, a program still gets the JSON.
TEST(HttpSecurity, TheWebUiIsServedUnderThePolicyGzippedAndRevalidated) {
  Serve s("webui", {});
  const auto get_with = [&s](const std::string& target,
                             std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest request;
    request.target = target;
    request.content_type.reset();
    request.headers = std::move(headers);
    return http(s.port(), request);
  };
  const auto to_ui = get_with("/", {{"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"}});
  EXPECT_EQ(to_ui.status, 302);
  EXPECT_EQ(to_ui.headers.at("location"), "/ui");
  const auto program = get(s.port(), "/");
  ASSERT_EQ(program.status, 200);
  EXPECT_NE(program.body.find(R"("ui":"/ui")"), std::string::npos) << program.body;

  const auto page = get(s.port(), "/ui");
  ASSERT_EQ(page.status, 200);
  EXPECT_EQ(page.headers.at("content-type"), "text/html; charset=utf-8");
  const std::string policy = page.headers.at("content-security-policy");
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("unsafe"), std::string::npos) << policy;
  EXPECT_EQ(page.headers.at("x-frame-options"), "DENY");
  EXPECT_EQ(page.body.find("<script>"), std::string::npos) << "inline script";
  EXPECT_EQ(page.body.find("<style"), std::string::npos) << "inline style";
  EXPECT_EQ(page.body.find(" style="), std::string::npos) << "inline style";
  EXPECT_EQ(page.body.find("http://"), std::string::npos) << "nothing from elsewhere";
  EXPECT_EQ(page.body.find("https://"), std::string::npos) << "nothing from elsewhere";
  // Every address under /ui is the same page (its script routes), a shared search link too.
  EXPECT_EQ(get(s.port(), "/ui/explore?service=api&level=ERROR").body, page.body);
  EXPECT_EQ(get(s.port(), "/ui/tail").body, page.body);

  // The page's script, gzipped when asked, the same text once inflated; unchanged: 304.
  const auto plain = get(s.port(), "/ui/assets/app.js");
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.headers.at("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(plain.headers.count("content-encoding"), 0u);
  const auto gzip = get_with("/ui/assets/app.js", {{"Accept-Encoding", "gzip, deflate, br"}});
  ASSERT_EQ(gzip.status, 200);
  EXPECT_EQ(gzip.headers.at("content-encoding"), "gzip");
  EXPECT_EQ(gzip.headers.at("vary"), "Accept-Encoding");
  EXPECT_LT(gzip.body.size(), plain.body.size());
  EXPECT_EQ(gunzipped(gzip.body), plain.body);
  const auto unchanged =
      get_with("/ui/assets/app.js",
               {{"Accept-Encoding", "gzip"}, {"If-None-Match", plain.headers.at("etag")}});
  EXPECT_EQ(unchanged.status, 304);
  EXPECT_TRUE(unchanged.body.empty());
  const auto missing = get(s.port(), "/ui/assets/nothing.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no such file of the web UI"), std::string::npos) << missing.body;

  // Every module the app loads is served and is valid JavaScript (as a module).
  if (sh("command -v node >/dev/null") == 0) {
    TempDir dir;
    const std::regex module(R"((?:from\s*|import\s*\(\s*)['"]\./([\w.-]+\.js)['"])");
    std::set<std::string> seen{"app.js"};
    std::vector<std::string> queue{"app.js"};
    while (!queue.empty()) {
      const std::string name = queue.back();
      queue.pop_back();
      const auto file = get(s.port(), "/ui/assets/" + name);
      ASSERT_EQ(file.status, 200) << name;
      std::ofstream(dir.file(name + ".mjs")) << file.body;
      EXPECT_EQ(sh("node --check " + dir.file(name + ".mjs")), 0) << name;
      for (std::sregex_iterator it(file.body.begin(), file.body.end(), module), end; it != end;
           ++it)
        if (seen.insert((*it)[1].str()).second) queue.push_back((*it)[1].str());
    }
    EXPECT_GE(seen.size(), 8u);
  }

  // Under auth = keys the UI itself needs no key (its page asks for one); the API still does.
  Serve keyed("webui_keys", {"--auth", "keys"});
  EXPECT_EQ(get(keyed.port(), "/ui/explore").status, 200);
  EXPECT_EQ(get(keyed.port(), "/ui/assets/explore.js").status, 200);
  EXPECT_EQ(get(keyed.port(), "/api/v1/logs").status, 401);
}

}  // namespace
}  // namespace logpipe::test
