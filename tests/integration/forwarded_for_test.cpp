// serve behind a reverse proxy (README "Behind a reverse proxy", issue 13), against real Redis and
// PostgreSQL: with trusted_proxies, the client X-Forwarded-For names has its own requests-per-
// second budget and is the audit log's remote_addr; without, the header is ignored. The test
// plays the proxy: every request comes from 127.0.0.1.
#include <gtest/gtest.h>

#include "harness.hpp"

namespace logpipe::test {
namespace {

HttpResponse ingest_as(unsigned short port, const std::string& forwarded_for,
                       const std::string& message) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/ingest";
  r.body = R"({"message":")" + message + R"("})";
  if (!forwarded_for.empty()) r.headers.emplace_back("X-Forwarded-For", forwarded_for);
  return http(port, r);
}

// Requests from `forwarded_for` until one is refused (429); its body, or "" if none was within
// `tries`. At one request per second with a burst of one, the second within a second is refused.
std::string flood_until_refused(unsigned short port, const std::string& forwarded_for,
                                int tries = 30) {
  for (int i = 0; i < tries; ++i) {
    const auto r = ingest_as(port, forwarded_for, "flood-" + std::to_string(i));
    if (r.status == 429) return r.body;
    EXPECT_EQ(r.status, 202) << r.body;
  }
  return {};
}

// GET /metrics as the client `forwarded_for` (its own requests-per-second budget); "" when
// refused.
std::string metrics_of(unsigned short port, const std::string& forwarded_for) {
  HttpRequest r;
  r.target = "/metrics";
  r.content_type.reset();
  if (!forwarded_for.empty()) r.headers.emplace_back("X-Forwarded-For", forwarded_for);
  const auto response = http(port, r);
  return response.status == 200 ? response.body : std::string();
}

class ForwardedFor : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  }

  TestDatabase db{"forwarded_for"};
  std::string stream = unique_tag("xff") + ":stream";
};

TEST_F(ForwardedFor, ClientsOfATrustedProxyHaveTheirOwnBudgetsAndAreAudited) {
  Logpipe lp({.command = "serve",
              .database_url = db.url(),
              .stream = stream,
              .extra_args = {"--ip-requests-per-second", "1"},
              .env = {{"LOGPIPE_TRUSTED_PROXIES", "127.0.0.1, ::1"}}});
  const auto port = lp.port();
  // nginx's $proxy_add_x_forwarded_for: what the client claimed, then the client.
  const std::string a = "6.6.6.6, 203.0.113.1";
  const std::string b = "203.0.113.2";
  const auto refused = flood_until_refused(port, a);
  ASSERT_FALSE(refused.empty()) << "client a was never limited";
  EXPECT_NE(refused.find("client address 203.0.113.1"), std::string::npos) << refused;
  // Another client through the same proxy connection address: a budget of its own.
  const auto other = ingest_as(port, b, "other-client");
  EXPECT_EQ(other.status, 202) << other.body;
  // The proxy's own requests (no header) too.
  EXPECT_EQ(ingest_as(port, "", "the-proxy").status, 202);

  // The audit log names the client, not the proxy.
  HttpRequest del;
  del.method = "DELETE";
  del.target = "/api/v1/logs?service=nothing-here&from=2000-01-01T00:00:00Z";
  del.content_type.reset();
  del.headers = {{"X-Forwarded-For", "198.51.100.7"}, {"X-Request-Id", "xff-delete"}};
  const auto deleted = http(port, del);
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  auto c = db.connect();
  auto rows = c.query("SELECT remote_addr FROM audit_log WHERE request_id = 'xff-delete'");
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1);
  EXPECT_EQ(std::string(rows->get(0, 0)), "198.51.100.7");

  // A malformed list is counted, and the request still served: its client is the last good
  // address, the trusted ::1 here (a budget nobody used yet).
  const auto malformed = ingest_as(port, "203.0.113.3, not-an-address, ::1", "malformed");
  EXPECT_EQ(malformed.status, 202) << malformed.body;
  EXPECT_GE(metric(metrics_of(port, "192.0.2.99"),
                   R"(http_connection_events_total{event="forwarded_for_rejected"})"),
            1);
}

TEST_F(ForwardedFor, WithoutTrustedProxiesTheHeaderIsIgnored) {
  Logpipe lp({.command = "serve",
              .database_url = db.url(),
              .stream = stream,
              .extra_args = {"--ip-requests-per-second", "1"}});
  const auto port = lp.port();
  const auto refused = flood_until_refused(port, "203.0.113.1");
  ASSERT_FALSE(refused.empty());
  EXPECT_NE(refused.find("client address 127.0.0.1"), std::string::npos) << refused;
  // Another claimed client shares the budget of the connection's address.
  const auto other = flood_until_refused(port, "203.0.113.2");
  ASSERT_FALSE(other.empty());
  EXPECT_NE(other.find("client address 127.0.0.1"), std::string::npos) << other;
  // The connection's budget refills in a second.
  std::string metrics;
  ASSERT_TRUE(eventually(
      [&] {
        metrics = metrics_of(port, "");
        return metrics.find("logpipe_build_info") != std::string::npos;
      },
      10s));
  EXPECT_EQ(metric(metrics, R"(http_connection_events_total{event="forwarded_for_rejected"})"), 0);
}

TEST_F(ForwardedFor, AnInvalidEntryStopsStartUpNamingIt) {
  const auto [code, output] =
      run_logpipe({"serve", "--trusted-proxies", "127.0.0.1,10.0.0.1/8"},
                  {{"LOGPIPE_DATABASE_URL", db.url()}, {"LOGPIPE_STREAM", stream}});
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("trusted_proxies: \"10.0.0.1/8\" has bits set beyond its /8 prefix"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace logpipe::test
