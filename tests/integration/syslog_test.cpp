// The syslog listeners against real senders: util-linux logger (TCP and UDP, RFC 5424 and 3164,
// octet counting), a private rsyslog and a private syslog-ng forwarding a file, TLS through
// openssl s_client, mutual TLS (the tenant from the client certificate's CN) with rsyslog's gtls
// driver and our own client; and what must not go wrong: a stalled client, an oversized frame,
// backpressure (TCP waits and loses nothing, UDP drops and counts), clients without a certificate
// of the client CA or naming no tenant. Every record is checked in PostgreSQL.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <thread>

#include "../common/certificate.hpp"
#include "../common/temp_dir.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

namespace fs = std::filesystem;

std::string addr(unsigned short port) {
  return "127.0.0.1:" + std::to_string(port);
}

std::string hostname() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

int sh(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// `logpipe run` (serve + worker) with syslog listeners on free loopback ports.
struct Server {
  explicit Server(const std::string& tag, std::vector<std::string> extra = {},
                  const std::string& command = "run")
      : db(tag), stream(unique_tag(tag) + ":stream"), tcp(free_port()), udp(free_port()) {
    if (run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first != 0)
      throw std::runtime_error("migrate failed");
    std::vector<std::string> args = {"--syslog-tcp-addr", addr(tcp), "--syslog-udp-addr",
                                     addr(udp)};
    args.insert(args.end(), extra.begin(), extra.end());
    lp = std::make_unique<Logpipe>(LogpipeOptions{
        .command = command, .database_url = db.url(), .stream = stream, .extra_args = args});
  }
  long long count(const std::string& where) const {
    return db.count("SELECT count(*) FROM logs WHERE " + where);
  }
  bool wait_for(const std::string& where, long long n, std::chrono::milliseconds timeout = 20s) {
    return eventually([&] { return count(where) >= n; }, timeout);
  }
  // level, host, service, attrs of the one row with this message.
  std::vector<std::string> row(const std::string& message) const {
    auto c = db.connect();
    auto rows = c.query(
        "SELECT level::text, host, service, attrs::text, source_format FROM logs "
        "WHERE message = $1",
        {message});
    if (!rows || rows->size() != 1) return {};
    std::vector<std::string> out;
    for (int col = 0; col < 5; ++col)
      out.emplace_back(rows->get(0, col));
    return out;
  }
  std::string metrics() const { return get(lp->port(), "/metrics").body; }

  TestDatabase db;
  std::string stream;
  unsigned short tcp, udp;
  std::unique_ptr<Logpipe> lp;
};

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    ASSERT_GT(n, 0);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string octet(std::string_view message) {
  return std::to_string(message.size()) + " " + std::string(message);
}

TEST(Syslog, LoggerOverTcpAndUdpInBothFormats) {
  Server s("syslog_logger");
  const std::string host = hostname();
  const std::string logger = "logger --server 127.0.0.1 ";
  const std::string tcp = "--tcp --port " + std::to_string(s.tcp) + " ";
  const std::string udp = "--udp --port " + std::to_string(s.udp) + " ";
  ASSERT_EQ(sh(logger + tcp + "--rfc5424 -t app5424 -p local3.err 'tcp 5424 newline'"), 0);
  ASSERT_EQ(sh(logger + tcp +
               "--octet-count --rfc5424 -t app5424 -p local3.warning "
               "--msgid ID47 --sd-id zoo@123 --sd-param 'tiger=\"hungry\"' "
               "'tcp 5424 octet'"),
            0);
  ASSERT_EQ(sh(logger + tcp + "--rfc3164 -t app3164 --id=4242 -p daemon.debug 'tcp 3164'"), 0);
  ASSERT_EQ(sh(logger + udp + "--rfc5424 -t udp5424 -p user.crit 'udp 5424'"), 0);
  ASSERT_EQ(sh(logger + udp + "--rfc3164 -t udp3164 -p mail.info 'udp 3164 caf\xC3\xA9'"), 0);
  ASSERT_TRUE(s.wait_for("true", 5)) << s.count("true");

  auto r = s.row("tcp 5424 newline");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], "ERROR");
  EXPECT_EQ(r[1], host);
  EXPECT_EQ(r[2], "app5424");
  EXPECT_NE(r[3].find(R"("facility": "local3")"), std::string::npos) << r[3];
  EXPECT_NE(r[3].find(R"("timeQuality")"), std::string::npos) << r[3];
  EXPECT_EQ(r[4], "syslog");
  r = s.row("tcp 5424 octet");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], "WARNING");
  EXPECT_NE(r[3].find(R"("msgid": "ID47")"), std::string::npos) << r[3];
  EXPECT_NE(r[3].find(R"("zoo@123": {"tiger": "hungry"})"), std::string::npos) << r[3];
  r = s.row("tcp 3164");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], "DEBUG");
  EXPECT_EQ(r[1], host);
  EXPECT_EQ(r[2], "app3164");
  EXPECT_EQ(r[3], R"({"procid": "4242", "facility": "daemon"})");
  r = s.row("udp 5424");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], "CRITICAL");
  EXPECT_EQ(r[2], "udp5424");
  r = s.row("udp 3164 caf\xC3\xA9");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[0], "INFO");
  EXPECT_EQ(r[2], "udp3164");
  EXPECT_NE(r[3].find(R"("facility": "mail")"), std::string::npos);
  // Structured data is filterable through the API.
  simdjson::dom::parser parser;
  auto found =
      parse_json(parser, get(s.lp->port(), "/api/v1/logs?attrs.sd.zoo@123.tiger=hungry").body);
  EXPECT_EQ(found["logs"].get_array().size(), 1u);

  const std::string m = s.metrics();
  EXPECT_EQ(metric(m, R"(syslog_messages_received_total{transport="tcp"})"), 3);
  EXPECT_EQ(metric(m, R"(syslog_messages_received_total{transport="udp"})"), 2);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// The rsyslog configuration of README "Syslog" (rsyslog section): imfile reads a file, omfwd
// forwards it as RFC 5424 with octet counting.
std::string rsyslog_conf(const TempDir& dir, const std::string& file, unsigned short port) {
  return "global(workDirectory=\"" + dir.file("work") + "\")\n" +
         "module(load=\"imfile\" mode=\"polling\" PollingInterval=\"1\")\n"
         "input(type=\"imfile\" File=\"" +
         file +
         "\" Tag=\"fileapp\" Facility=\"local5\" Severity=\"warning\")\n"
         "action(type=\"omfwd\" Target=\"127.0.0.1\" Port=\"" +
         std::to_string(port) +
         "\" Protocol=\"tcp\" TCP_Framing=\"octet-counted\" "
         "Template=\"RSYSLOG_SyslogProtocol23Format\")\n";
}

TEST(Syslog, RsyslogForwardsEveryLineOfAFile) {
  ASSERT_EQ(sh("test -x /usr/sbin/rsyslogd"), 0) << "rsyslog is missing: make deps installs it";
  Server s("syslog_rsyslog");
  TempDir dir;
  fs::create_directories(dir.path / "work");
  const std::string file = dir.file("app.log");
  constexpr int kLines = 2000;
  {
    std::ofstream out(file);
    for (int i = 0; i < kLines / 2; ++i)
      out << "rsyslog line " << i << " with\ttab and \"quotes\" ]\n";
  }
  std::ofstream(dir.file("rsyslog.conf")) << rsyslog_conf(dir, file, s.tcp);
  Process rsyslogd(
      {"/usr/sbin/rsyslogd", "-n", "-f", dir.file("rsyslog.conf"), "-i", dir.file("rsyslogd.pid")},
      {});
  // Lines appended while it runs are forwarded too.
  std::this_thread::sleep_for(1500ms);
  {
    std::ofstream out(file, std::ios::app);
    for (int i = kLines / 2; i < kLines; ++i)
      out << "rsyslog line " << i << " with\ttab and \"quotes\" ]\n";
  }
  EXPECT_TRUE(s.wait_for("service = 'fileapp'", kLines, 30s))
      << s.count("service = 'fileapp'") << "\n"
      << rsyslogd.output();
  EXPECT_EQ(s.count("service = 'fileapp'"), kLines);
  EXPECT_EQ(s.count("message LIKE 'rsyslog line %' AND level = 'WARNING' AND host = '" +
                    hostname() + "' AND attrs->>'facility' = 'local5'"),
            kLines);
  EXPECT_EQ(s.db.count("SELECT count(DISTINCT message) FROM logs"), kLines);
  EXPECT_EQ(s.count("message = 'rsyslog line 7 with\ttab and \"quotes\" ]'"), 1);
  EXPECT_TRUE(rsyslogd.terminate().has_value());
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// The syslog-ng configuration of README "Syslog" (syslog-ng section): file() source, syslog()
// destination (RFC 5424, octet counting).
std::string syslog_ng_conf(const std::string& file, unsigned short port) {
  return "@version: 3.38\n"
         "options { keep-hostname(yes); stats-freq(0); };\n"
         "source s_file { file(\"" +
         file +
         "\" follow-freq(1) flags(no-parse) program-override(\"ngapp\") "
         "default-facility(local2) default-priority(err)); };\n"
         "destination d_logpipe { syslog(\"127.0.0.1\" transport(\"tcp\") port(" +
         std::to_string(port) +
         ")); };\n"
         "log { source(s_file); destination(d_logpipe); };\n";
}

TEST(Syslog, SyslogNgForwardsEveryLineOfAFile) {
  // Unpacked privately (it conflicts with rsyslog as a Debian package): scripts/fetch-syslog-ng.
  const std::string ng_dir = LOGPIPE_SYSLOG_NG_DIR;
  ASSERT_EQ(sh(std::string(LOGPIPE_FETCH_SYSLOG_NG) + " " + ng_dir + " >/dev/null"), 0)
      << "scripts/fetch-syslog-ng failed: apt-get download needs the Debian archive";
  const std::string root = ng_dir + "/root";
  Server s("syslog_ng");
  TempDir dir;
  const std::string file = dir.file("app.log");
  constexpr int kLines = 2000;
  {
    std::ofstream out(file);
    for (int i = 0; i < kLines; ++i)
      out << "syslog-ng line " << i << " \xC3\xBC"
          << "ber\n";
  }
  std::ofstream(dir.file("syslog-ng.conf")) << syslog_ng_conf(file, s.tcp);
  Process ng(
      {root + "/usr/sbin/syslog-ng", "--module-path=" + root + "/usr/lib/syslog-ng/3.38", "-F",
       "-f", dir.file("syslog-ng.conf"), "-p", dir.file("pid"), "-R", dir.file("persist"), "-c",
       dir.file("ctl")},
      {{"LD_LIBRARY_PATH", root + "/usr/lib/syslog-ng:" + root + "/usr/lib/x86_64-linux-gnu"}});
  EXPECT_TRUE(s.wait_for("service = 'ngapp'", kLines, 30s)) << s.count("service = 'ngapp'") << "\n"
                                                            << ng.output();
  EXPECT_EQ(s.count("service = 'ngapp' AND level = 'ERROR' AND attrs->>'facility' = 'local2'"),
            kLines);
  EXPECT_EQ(s.db.count("SELECT count(DISTINCT message) FROM logs"), kLines);
  EXPECT_EQ(s.count("message = 'syslog-ng line 1999 \xC3\xBC"
                    "ber'"),
            1);
  EXPECT_TRUE(ng.terminate().has_value());
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

TEST(Syslog, StalledClientDoesNotStopOthersAndOversizedFramesAreSkipped) {
  Server s("syslog_stall", {"--syslog-max-message-bytes", "1024", "--syslog-idle-timeout", "2s"});
  // A client that sends half a frame and stalls.
  const int stalled = connect_loopback(s.tcp);
  ASSERT_GE(stalled, 0);
  send_all(stalled, "500 <13>1 - stalled app - - - only half of it");
  // Another client's logs go through meanwhile, an oversized frame among them.
  const int other = connect_loopback(s.tcp);
  ASSERT_GE(other, 0);
  send_all(other, octet("<13>1 - h app - - - before") + octet(std::string(5000, 'x')) +
                      octet("<13>1 - h app - - - after") + std::string(3000, 'y') +
                      "\n<13>1 - h app - - - newline after\n");
  EXPECT_TRUE(s.wait_for("message IN ('before', 'after', 'newline after')", 3, 10s));
  EXPECT_EQ(s.count("true"), 3);
  const std::string m = s.metrics();
  EXPECT_EQ(metric(m, R"(syslog_messages_rejected_total{reason="oversized",transport="tcp"})"), 2);
  EXPECT_EQ(metric(m, R"(syslog_connections_open{transport="tcp"})"), 2);
  // The stalled one is closed after its idle timeout, its half frame never stored.
  EXPECT_TRUE(eventually(
      [&] {
        return metric(s.metrics(),
                      R"(syslog_connection_events_total{event="idle_timeout",transport="tcp"})") >=
               1;
      },
      10s));
  char byte;
  EXPECT_EQ(::recv(stalled, &byte, 1, 0), 0);  // closed by the server
  ::close(stalled);
  ::close(other);
  EXPECT_EQ(s.count("host = 'stalled'"), 0);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

TEST(Syslog, BackpressureHoldsTcpAndDropsUdp) {
  // serve alone (no worker): the stream fills and stays full until a worker drains it.
  Server s("syslog_backpressure", {"--max-backlog", "1"}, "serve");
  for (int i = 0; i < 2; ++i) {
    const int fd = connect_loopback(s.tcp);
    ASSERT_GE(fd, 0);
    send_all(fd, octet("<13>1 - h app - - - filler " + std::to_string(i)));
    ::close(fd);
    std::this_thread::sleep_for(100ms);
  }
  // The backlog (2 entries > 1) is measured every 250 ms.
  ASSERT_TRUE(eventually([&] { return metric(s.metrics(), "redis_stream_size") >= 2; }, 5s));
  std::this_thread::sleep_for(300ms);
  // TCP: held, not lost.
  const int held = connect_loopback(s.tcp);
  ASSERT_GE(held, 0);
  send_all(held, octet("<13>1 - h app - - - held by backpressure"));
  // UDP: dropped and counted.
  const std::string udp =
      "logger --udp --port " + std::to_string(s.udp) + " --server 127.0.0.1 --rfc5424 'udp drop'";
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(sh(udp), 0);
    std::this_thread::sleep_for(30ms);
  }
  EXPECT_TRUE(eventually(
      [&] {
        return metric(s.metrics(),
                      R"(syslog_dropped_total{reason="backpressure",transport="udp"})") >= 5;
      },
      5s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(s.count("true"), 0);
  // A worker drains the stream; the held batch is then admitted and stored.
  Logpipe worker({.command = "worker", .database_url = s.db.url(), .stream = s.stream});
  EXPECT_TRUE(s.wait_for("message = 'held by backpressure'", 1, 20s));
  EXPECT_EQ(s.count("true"), 3);
  EXPECT_EQ(s.count("message = 'udp drop'"), 0);
  ::close(held);
  EXPECT_EQ(worker.process().terminate(), 0);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

TEST(Syslog, TlsWithOctetCounting) {
  TempDir dir;
  const std::string cert = dir.file("cert.pem"), key = dir.file("key.pem");
  ASSERT_EQ(sh("openssl req -x509 -newkey rsa:2048 -nodes -keyout " + key + " -out " + cert +
               " -days 2 -subj /CN=localhost 2>/dev/null"),
            0);
  const unsigned short tls = free_port();
  Server s("syslog_tls",
           {"--syslog-tls-addr", addr(tls), "--syslog-tls-cert", cert, "--syslog-tls-key", key});
  const auto send_with = [&](const std::string& version) {
    const std::string frames = dir.file(version);
    std::ofstream(frames) << octet("<13>1 - tlshost tapp - - - over " + version)
                          << octet("<14>1 - tlshost tapp - - - second over " + version);
    return sh("openssl s_client -connect " + addr(tls) + " -" + version + " -quiet -no_ign_eof < " +
              frames + " >/dev/null 2>&1");
  };
  EXPECT_EQ(send_with("tls1_2"), 0);
  EXPECT_EQ(send_with("tls1_3"), 0);
  EXPECT_NE(send_with("tls1_1"), 0);  // TLS 1.2 at least
  EXPECT_TRUE(s.wait_for("host = 'tlshost'", 4));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(s.count("host = 'tlshost'"), 4);
  EXPECT_EQ(s.count("message LIKE '%tls1_1'"), 0);
  const auto r = s.row("over tls1_3");
  ASSERT_EQ(r.size(), 5u);
  EXPECT_EQ(r[2], "tapp");
  EXPECT_GE(
      metric(s.metrics(), R"(syslog_connection_events_total{event="tls_failed",transport="tls"})"),
      1);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

// ---- mutual TLS: the tenant from the client certificate ----

// The rsyslog configuration of README "Mutual TLS for syslog": imfile as above, forwarded over
// TLS by the gtls driver (package rsyslog-gnutls) with a client certificate, checking logpipe's
// certificate against its CA and name.
std::string rsyslog_mtls_conf(const TempDir& dir, const std::string& file, unsigned short port,
                              const std::string& server_ca, const CertificateFiles& client) {
  return "global(workDirectory=\"" + dir.file("work") +
         "\"\n"
         "       DefaultNetstreamDriver=\"gtls\"\n"
         "       DefaultNetstreamDriverCAFile=\"" +
         server_ca +
         "\"\n"
         "       DefaultNetstreamDriverCertFile=\"" +
         client.cert +
         "\"\n"
         "       DefaultNetstreamDriverKeyFile=\"" +
         client.key +
         "\")\n"
         "module(load=\"imfile\" mode=\"polling\" PollingInterval=\"1\")\n"
         "input(type=\"imfile\" File=\"" +
         file +
         "\" Tag=\"mtlsapp\" Facility=\"local5\" Severity=\"warning\")\n"
         "action(type=\"omfwd\" Target=\"127.0.0.1\" Port=\"" +
         std::to_string(port) +
         "\" Protocol=\"tcp\"\n"
         "       StreamDriver=\"gtls\" StreamDriverMode=\"1\" "
         "StreamDriverAuthMode=\"x509/name\"\n"
         "       StreamDriverPermittedPeers=\"localhost\"\n"
         "       TCP_Framing=\"octet-counted\" Template=\"RSYSLOG_SyslogProtocol23Format\")\n";
}

// `logpipe <args>` on the test's database; fails the test unless it succeeds.
std::string cli(const Server& s, const std::vector<std::string>& args) {
  auto [code, out] = run_logpipe(args, {{"LOGPIPE_DATABASE_URL", s.db.url()}});
  EXPECT_EQ(code, 0) << out;
  return out;
}

// The logs a key reads through GET /api/v1/logs (one page of up to 1000): messages by service.
std::map<std::string, int> services_seen(const Server& s, const std::string& key) {
  HttpRequest r;
  r.target = "/api/v1/logs?limit=1000";
  r.content_type.reset();
  r.headers = {{"X-API-Key", key}};
  const auto response = http(s.lp->port(), r);
  std::map<std::string, int> out;
  if (response.status != 200) {
    ADD_FAILURE() << response.status << " " << response.body;
    return out;
  }
  simdjson::dom::parser parser;
  for (auto log : parse_json(parser, response.body)["logs"].get_array()) {
    std::string_view service;
    if (log["service"].get(service) == simdjson::SUCCESS) ++out[std::string(service)];
  }
  return out;
}

long long stored_under(const Server& s, const std::string& tenant, const std::string& service) {
  return s.db.count(
      "SELECT count(*) FROM logs l JOIN tenants t ON t.id = l.tenant_id WHERE "
      "t.name = '" +
      tenant + "' AND l.service = '" + service + "'");
}

TEST(Syslog, MutualTlsStoresEachClientUnderItsCertificatesTenant) {
  ASSERT_EQ(sh("test -x /usr/sbin/rsyslogd"), 0) << "rsyslog is missing: make deps installs it";
  ASSERT_EQ(sh("test -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"), 0)
      << "rsyslog's gtls driver is missing: make deps installs rsyslog-gnutls";
  TempDir dir;
  fs::create_directories(dir.path / "work");
  const std::string d = dir.path.string();
  // Two CAs, as a careful operator has them: one for logpipe's certificate, one for clients.
  const auto server_ca = make_ca(d, "server-ca", "logpipe server CA");
  const auto server =
      make_certificate(d, "server", "localhost", CertificateUse::server, &server_ca);
  const auto client_ca = make_ca(d, "client-ca", "logpipe client CA");
  const auto a = make_client_certificate(d, "a", "tenant-a", client_ca);
  const auto b = make_client_certificate(d, "b", "tenant-b", client_ca);
  const auto nobody = make_client_certificate(d, "nobody", "tenant-nobody", client_ca);
  const auto no_cn = make_client_certificate(d, "no-cn", "", client_ca);
  // Self-signed, claiming tenant-b: not from the client CA.
  const auto rogue = make_certificate(d, "rogue", "tenant-b", CertificateUse::client);
  const unsigned short tls = free_port();
  Server s("syslog_mtls", {"--syslog-tls-addr", addr(tls), "--syslog-tls-cert", server.cert,
                           "--syslog-tls-key", server.key, "--syslog-tls-client-ca", client_ca.cert,
                           "--auth", "keys", "--auth-refresh", "200ms", "--metrics-auth", "none"});
  // The tenants are created after start-up: no restart needed.
  cli(s, {"tenants", "create", "tenant-a"});
  cli(s, {"tenants", "create", "tenant-b"});
  std::smatch m;
  const std::regex key_pattern("lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}");
  std::string out =
      cli(s, {"keys", "create", "--tenant", "tenant-a", "--name", "reader", "--scopes", "query"});
  ASSERT_TRUE(std::regex_search(out, m, key_pattern)) << out;
  const std::string key_a = m.str();
  out = cli(s, {"keys", "create", "--tenant", "tenant-b", "--name", "reader", "--scopes", "query"});
  ASSERT_TRUE(std::regex_search(out, m, key_pattern)) << out;
  const std::string key_b = m.str();

  // tenant-a: rsyslog forwards a file over TLS with A's certificate.
  constexpr int kLines = 300;
  const std::string file = dir.file("app.log");
  {
    std::ofstream lines(file);
    for (int i = 0; i < kLines; ++i)
      lines << "mtls line " << i << "\n";
  }
  std::ofstream(dir.file("rsyslog.conf")) << rsyslog_mtls_conf(dir, file, tls, server_ca.cert, a);
  Process rsyslogd(
      {"/usr/sbin/rsyslogd", "-n", "-f", dir.file("rsyslog.conf"), "-i", dir.file("rsyslogd.pid")},
      {});
  // tenant-b: our own client, whose messages name tenant-a in every way a message can.
  TlsConnection client_b(tls, b.cert, b.key);
  ASSERT_TRUE(client_b.ok()) << client_b.error();
  constexpr int kB = 50;
  std::string frames;
  for (int i = 0; i < kB; ++i)
    frames += octet("<13>1 - tenant-a bapp - - [tenant@32473 name=\"tenant-a\" tenant=\"1\"] b " +
                    std::to_string(i));
  ASSERT_TRUE(client_b.send(frames));
  EXPECT_TRUE(s.wait_for("service = 'mtlsapp'", kLines, 30s))
      << s.count("service = 'mtlsapp'") << "\n"
      << rsyslogd.output() << s.lp->process().output();
  EXPECT_TRUE(s.wait_for("service = 'bapp'", kB));
  EXPECT_EQ(stored_under(s, "tenant-a", "mtlsapp"), kLines);
  EXPECT_EQ(stored_under(s, "tenant-b", "bapp"), kB);
  EXPECT_EQ(s.count("service = 'mtlsapp' AND message LIKE 'mtls line %' AND level = 'WARNING'"),
            kLines);

  // Refused: no certificate, one the client CA did not issue, a CN naming no tenant, no CN.
  const auto refused = [&](TlsConnection& c) {
    c.send(octet("<13>1 - rogue rogueapp - - - must not be stored"));
    EXPECT_TRUE(c.closed_by_peer());
  };
  {
    TlsConnection none(tls);
    refused(none);
    TlsConnection untrusted(tls, rogue.cert, rogue.key);
    refused(untrusted);
    TlsConnection unknown(tls, nobody.cert, nobody.key);
    refused(unknown);
    TlsConnection nameless(tls, no_cn.cert, no_cn.key);
    refused(nameless);
  }
  const auto event = [&](const std::string& name) {
    return metric(s.metrics(),
                  R"(syslog_connection_events_total{event=")" + name + R"(",transport="tls"})");
  };
  EXPECT_TRUE(eventually([&] { return event("client_cert_no_tenant") == 1; }, 10s));
  EXPECT_EQ(event("client_cert_missing"), 1);
  EXPECT_EQ(event("client_cert_untrusted"), 1);
  EXPECT_EQ(event("unknown_tenant"), 1);
  EXPECT_EQ(event("tls_failed"), 0);

  // The listener goes on: B's open connection, and a new one.
  ASSERT_TRUE(client_b.send(octet("<13>1 - h bapp - - - b after the refusals")));
  TlsConnection again(tls, b.cert, b.key);
  ASSERT_TRUE(again.ok()) << again.error();
  ASSERT_TRUE(again.send(octet("<13>1 - h bapp - - - b on a new connection")));
  EXPECT_TRUE(s.wait_for("service = 'bapp'", kB + 2));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(stored_under(s, "tenant-b", "bapp"), kB + 2);
  EXPECT_EQ(s.count("service = 'rogueapp'"), 0);
  EXPECT_EQ(s.count("true"), kLines + kB + 2);

  // Each tenant's key reads its own logs and none of the other's.
  EXPECT_EQ(services_seen(s, key_a), (std::map<std::string, int>{{"mtlsapp", kLines}}));
  EXPECT_EQ(services_seen(s, key_b), (std::map<std::string, int>{{"bapp", kB + 2}}));

  EXPECT_TRUE(rsyslogd.terminate().has_value());
  EXPECT_EQ(s.lp->process().terminate(), 0);
  const std::string log = s.lp->process().output();
  EXPECT_NE(log.find("syslog TLS client refused"), std::string::npos) << log;
  EXPECT_NE(log.find(R"("subject":"CN=tenant-nobody")"), std::string::npos) << log;
  EXPECT_NE(log.find("TLS client certificates required"), std::string::npos) << log;
}

// Without a client CA nothing changes: no certificate is asked for, and one that is presented
// names nothing: every record goes to syslog_tenant.
TEST(Syslog, WithoutAClientCaACertificateNamesNoTenant) {
  TempDir dir;
  const std::string d = dir.path.string();
  const auto server = make_certificate(d, "server", "localhost");
  const auto client_ca = make_ca(d, "client-ca", "logpipe client CA");
  const auto a = make_client_certificate(d, "a", "tenant-a", client_ca);
  const unsigned short tls = free_port();
  Server s("syslog_no_mtls", {"--syslog-tls-addr", addr(tls), "--syslog-tls-cert", server.cert,
                              "--syslog-tls-key", server.key});
  cli(s, {"tenants", "create", "tenant-a"});
  TlsConnection with(tls, a.cert, a.key);
  ASSERT_TRUE(with.ok()) << with.error();
  ASSERT_TRUE(with.send(octet("<13>1 - h plainapp - - - with a certificate")));
  TlsConnection without(tls);
  ASSERT_TRUE(without.ok()) << without.error();
  ASSERT_TRUE(without.send(octet("<13>1 - h plainapp - - - without one")));
  EXPECT_TRUE(s.wait_for("service = 'plainapp'", 2));
  EXPECT_EQ(stored_under(s, "default", "plainapp"), 2);
  EXPECT_EQ(s.lp->process().terminate(), 0);
  EXPECT_EQ(s.lp->process().output().find("TLS client certificates required"), std::string::npos);
}

TEST(Syslog, LoadtestSyslogModeVerifiesEveryFrameStored) {
  Server s("syslog_loadtest");
  auto [code, out] = run_logpipe(
      {"loadtest", "--protocol", "syslog-tcp", "--syslog-addr", addr(s.tcp), "--http-addr",
       addr(s.lp->port()), "--database-url", s.db.url(), "--devices", "20", "--logs-per-device",
       "500", "--batch-size", "50", "--concurrency", "4", "--json"},
      {}, 90s);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find(R"("api":"syslog-tcp")"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("ok":true)"), std::string::npos) << out;
  EXPECT_EQ(s.count("source_format = 'syslog'"), 10000);
  EXPECT_EQ(s.db.count("SELECT count(DISTINCT host) FROM logs"), 20);
  EXPECT_EQ(s.lp->process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
