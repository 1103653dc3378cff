// `logpipe query` and `logpipe audit` against a real `logpipe run` serving HTTPS with a
// certificate signed by a private CA, as a user who turned HTTPS on meets them: trusted with
// --cacert (or LOGPIPE_CACERT), refused with a clear line when the CA is not trusted or the URL's
// host is not a name of the certificate, and --insecure's warning.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../common/certificate.hpp"
#include "../common/temp_dir.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

namespace fs = std::filesystem;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A server with keys and HTTPS, its certificate for `name` (a DNS name, or an address as an IP
// name), signed by the test's CA.
class QueryHttps : public ::testing::Test {
 protected:
  void start(const std::string& command, const std::string& name) {
    ca = make_ca(dir.path.string(), "ca", "logpipe test CA");
    const auto served =
        make_certificate(dir.path.string(), "server", name, CertificateUse::server, &ca);
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    auto [code, out] =
        run_logpipe({"keys", "create", "--tenant", "default", "--name", "cli", "--scopes",
                     "ingest,query,admin", "--json", "--database-url", db.url()});
    ASSERT_EQ(code, 0) << out;
    const auto json = out.substr(std::min(out.find('{'), out.size()));
    simdjson::dom::parser parser;
    key = std::string(std::string_view(parse_json(parser, json.substr(0, json.find('\n')))["key"]));
    ASSERT_FALSE(key.empty()) << out;
    lp.emplace(LogpipeOptions{.command = command,
                              .database_url = db.url(),
                              .stream = unique_tag("query_https"),
                              .extra_args = {"--tls-cert", served.cert, "--tls-key", served.key},
                              .env = {{"LOGPIPE_AUTH", "keys"}},
                              .https = true});
  }

  std::string url(const std::string& host) const {
    return "https://" + host + ":" + std::to_string(lp->port());
  }

  std::pair<int, std::string> cli(const std::string& command, const std::string& host,
                                  std::vector<std::string> args,
                                  const std::map<std::string, std::string>& env = {}) const {
    args.insert(args.begin(), {command, "--url", url(host), "--api-key", key, "--timeout", "20"});
    return run_logpipe(args, env);
  }

  HttpResponse request(const std::string& method, const std::string& target,
                       const std::string& body = {}) const {
    HttpRequest r;
    r.method = method;
    r.target = target;
    r.body = body;
    if (body.empty())
      r.content_type.reset();
    else
      r.content_type = "application/x-ndjson";
    r.headers = {{"X-API-Key", key}};
    return https(lp->port(), r);
  }

  TempDir dir;
  CertificateFiles ca;
  TestDatabase db{"query_https"};
  std::string key;
  std::optional<Logpipe> lp;
};

TEST_F(QueryHttps, QueryAndAuditTrustAPrivateCaGivenWithCacert) {
  start("run", "localhost");
  const auto stored = request("POST", "/api/v1/ingest",
                              R"({"service":"payments","level":"ERROR","message":"card declined"})"
                              "\n"
                              R"({"service":"payments","level":"INFO","message":"card accepted"})"
                              "\n");
  ASSERT_EQ(stored.status, 202) << stored.body;
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 60s));

  auto [code, out] = cli("query", "localhost", {"--cacert", ca.cert, "--service", "payments"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(out, "payments card declined")) << out;
  EXPECT_TRUE(contains(out, "payments card accepted")) << out;
  // LOGPIPE_CACERT as --cacert, as LOGPIPE_URL is --url.
  std::tie(code, out) =
      cli("query", "localhost", {"--level", "ERROR"}, {{"LOGPIPE_CACERT", ca.cert}});
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(out, "card declined")) << out;
  EXPECT_FALSE(contains(out, "card accepted")) << out;

  const auto deleted = request("DELETE", "/api/v1/logs?service=gone");
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  std::tie(code, out) = cli("audit", "localhost", {"--cacert", ca.cert});
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(out, "logs.delete")) << out;
  EXPECT_TRUE(contains(out, "\"service\":\"gone\"")) << out;

  // Without the CA: the system's store does not know it.
  for (const char* command : {"query", "audit"}) {
    std::tie(code, out) = cli(command, "localhost", {});
    EXPECT_EQ(code, 1) << out;
    EXPECT_TRUE(contains(out, std::string("logpipe ") + command +
                                  ": the certificate of localhost:" + std::to_string(lp->port()) +
                                  " is not trusted"))
        << out;
    EXPECT_TRUE(contains(out, "issuer CN=logpipe test CA")) << out;
    EXPECT_TRUE(contains(out, "--cacert")) << out;
  }
  // Another CA is no better.
  const auto other = make_ca(dir.path.string(), "other", "someone else's CA");
  std::tie(code, out) = cli("query", "localhost", {"--cacert", other.cert});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, "is not trusted")) << out;
  // A CA file that holds no certificate is named.
  const std::string not_pem = (dir.path / "notes.txt").string();
  std::ofstream(not_pem) << "not a certificate\n";
  std::tie(code, out) = cli("query", "localhost", {"--cacert", not_pem});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, "--cacert " + not_pem + ": no PEM certificate in it")) << out;

  // The certificate is for localhost, not for its address.
  std::tie(code, out) = cli("query", "127.0.0.1", {"--cacert", ca.cert});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, "is not for 127.0.0.1: it is for DNS:localhost (subject CN=localhost)"))
      << out;

  // http:// to an HTTPS server: the server closes the connection; the message says why it may.
  std::tie(code, out) = run_logpipe(
      {"query", "--url", "http://127.0.0.1:" + std::to_string(lp->port()), "--api-key", key});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, "use an https:// URL")) << out;

  // --insecure (-k) checks nothing, and says so.
  std::tie(code, out) = cli("query", "127.0.0.1", {"-k", "--level", "INFO"});
  EXPECT_EQ(code, 0) << out;
  EXPECT_TRUE(contains(out, "card accepted")) << out;
  EXPECT_TRUE(contains(out, "warning: --insecure")) << out;
  EXPECT_EQ(lp->process().terminate(), 0);
}

TEST_F(QueryHttps, AnAddressUrlIsCheckedAgainstTheCertificatesIpNames) {
  start("serve", "127.0.0.1");
  auto [code, out] = cli("query", "127.0.0.1", {"--cacert", ca.cert});
  EXPECT_EQ(code, 0) << out;  // no logs: nothing printed
  EXPECT_EQ(out, "");
  std::tie(code, out) = cli("query", "localhost", {"--cacert", ca.cert});
  EXPECT_EQ(code, 1) << out;
  EXPECT_TRUE(contains(out, "is not for localhost: it is for IP:127.0.0.1")) << out;
  EXPECT_EQ(lp->process().terminate(), 0);
}

}  // namespace
}  // namespace logpipe::test
