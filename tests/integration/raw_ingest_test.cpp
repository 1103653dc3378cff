// POST /api/v1/ingest/raw end to end: lines of several formats in one body → rows in PostgreSQL
// with their fields and the source_format of each; strict mode stores nothing; user patterns
// from a config file.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "harness.hpp"

namespace logpipe::test {
namespace {

HttpResponse post_raw(unsigned short port, const std::string& query, const std::string& body) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/ingest/raw" + query;
  r.content_type = "text/plain";
  r.body = body;
  return http(port, r);
}

TEST(RawIngest, MixedBodyLandsWithFieldsAndSourceFormatPerRow) {
  TestDatabase db("raw_mixed");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("raw_mixed")});

  const std::string body =
      "\xEF\xBB\xBF{\"message\":\"json line\",\"level\":\"error\",\"service\":\"billing\"}\r\n"
      "2001:db8::7 - bob [29/Feb/2024:13:55:36 +0100] \"GET /cart?id=1 HTTP/1.1\" 503 12 \"-\" "
      "\"Mozilla \\\"X\\\"\"\r\n"
      "ts=2024-02-29T10:00:00Z level=warn msg=\"cache \\\"hot\\\" miss\" key=user:1 host=web-9\n"
      "2024/02/29 13:55:36 [error] 7#7: *1 connect() failed, client: 10.0.0.1\n"
      "\n"
      "{\"message\":42}\n"
      "Température élevée: 42 °C\n"
      "<34>1 2024-02-29T13:55:40Z gw-host su - - - 'su root' failed\n";
  auto r = post_raw(lp.port(), "?service=fallback-svc&device_id=gw-1", body);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body,
            R"({"accepted":6,"rejected":1,"errors":[{"line":6,"message":"json: message must be )"
            R"(a string"}],"formats":{"apache":1,"json":1,"logfmt":1,"plain":2,"syslog":1},)"
            R"("backend":"redis"})");

  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 6; }, 10s))
      << lp.process().output();
  EXPECT_EQ(db.count("SELECT count(*) FROM ingest_batches"), 1) << "one request, one entry";
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'json' AND message = "
                     "'json line' AND level = 'ERROR' AND service = 'billing' AND device_id = "
                     "'gw-1'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'apache' AND level = "
                     "'ERROR' AND ts = '2024-02-29T12:55:36Z' AND attrs->>'client_ip' = "
                     "'2001:db8::7' AND attrs->>'user' = 'bob' AND attrs->>'path' = '/cart?id=1' "
                     "AND (attrs->>'status')::int = 503 AND attrs->>'user_agent' = 'Mozilla \"X\"' "
                     "AND service = 'fallback-svc' AND message LIKE '2001:db8::7 - bob %'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'logfmt' AND level = "
                     "'WARNING' AND message = 'cache \"hot\" miss' AND host = 'web-9' AND "
                     "attrs->>'key' = 'user:1' AND ts = '2024-02-29T10:00:00Z'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'plain' AND level = "
                     "'ERROR' AND ts = '2024-02-29T13:55:36Z' AND message LIKE '2024/02/29 %'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'plain' AND level = "
                     "'INFO' AND message = 'Température élevée: 42 °C'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'syslog' AND level = "
                     "'CRITICAL' AND host = 'gw-host' AND ts = '2024-02-29T13:55:40Z'"),
            1);
}

TEST(RawIngest, StrictRefusesTheWholeBodyAndBadRequestsAreClear) {
  TestDatabase db("raw_strict");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp({.database_url = db.url(), .stream = unique_tag("raw_strict")});

  auto r = post_raw(lp.port(), "?format=logfmt&strict=true",
                    "level=info msg=ok\nlevel=info msg=\"open\nlevel=loud msg=x\n");
  ASSERT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("lines 2, 3 rejected (strict=true: nothing was stored)"), std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find(R"({"index":2,"field":"line","message":"the quoted value of msg is )"),
            std::string::npos)
      << r.body;

  r = post_raw(lp.port(), "?format=nope", "x\n");
  ASSERT_EQ(r.status, 422);
  EXPECT_NE(
      r.body.find(
          "unknown format \\\"nope\\\"; known: auto, json, gelf, syslog, apache, logfmt, plain"),
      std::string::npos)
      << r.body;
  r = post_raw(lp.port(), "?format=apache", "not an access log\nnor this\n");
  ASSERT_EQ(r.status, 422) << "no line accepted";
  EXPECT_NE(r.body.find("lines 1, 2 rejected: no line was accepted"), std::string::npos) << r.body;
  r = post_raw(lp.port(), "?colour=blue", "x\n");
  EXPECT_EQ(r.status, 422);
  r = post_raw(lp.port(), "", "\n \r\n\t\n");
  EXPECT_EQ(r.status, 422) << "blank lines only";

  // The same body without strict: the good line goes in, through the seed's alias. (With
  // format=auto the broken line would be stored as plain text: it is no logfmt.)
  HttpRequest alias;
  alias.method = "POST";
  alias.target = "/parse/auto?format=logfmt";
  alias.content_type = std::nullopt;
  alias.body = "level=info msg=ok\nlevel=info msg=\"open\n";
  r = http(lp.port(), alias);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find(R"("accepted":1,"rejected":1)"), std::string::npos) << r.body;

  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 1; }, 10s));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE message = 'ok'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM ingest_batches"), 1) << "strict stored nothing";
}

TEST(RawIngest, APatternFromTheConfigFileParsesLinesEndToEnd) {
  TestDatabase db("raw_pattern");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  const std::string config = "/tmp/" + unique_tag("raw_pattern") + ".toml";
  std::ofstream(config) << R"(
[patterns.myapp]
regex = '^(?P<ts>\S+ \S+) \[(?P<level>\w+)\] (?P<service>[\w-]+): (?P<message>.*)$'
ts_format = "%Y-%m-%d %H:%M:%S"
)";
  Logpipe lp({.database_url = db.url(),
              .stream = unique_tag("raw_pattern"),
              .extra_args = {"--config", config}});
  auto r = post_raw(lp.port(), "?format=myapp",
                    "2024-02-29 13:55:36 [warn] billing-api: card declined\n"
                    "not my app\n");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, R"({"accepted":1,"rejected":1,"errors":[{"line":2,"message":"does not match )"
                    R"(pattern myapp"}],"formats":{"myapp":1},"backend":"redis"})");
  // And in auto-detection, beside the built-in formats.
  r = post_raw(lp.port(), "",
               "2024-02-29 13:55:37 [error] billing-api: auto\nlevel=info msg=x a=b\n");
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_NE(r.body.find(R"("formats":{"logfmt":1,"myapp":1})"), std::string::npos) << r.body;
  r = post_raw(lp.port(), "?format=nope", "x\n");
  EXPECT_NE(r.body.find("known: auto, json, gelf, syslog, apache, logfmt, plain, myapp"),
            std::string::npos)
      << r.body;

  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 3; }, 10s));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'myapp' AND service = "
                     "'billing-api' AND level = 'WARNING' AND message = 'card declined' AND ts = "
                     "'2024-02-29T13:55:36Z'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE source_format = 'myapp' AND level = "
                     "'ERROR' AND message = 'auto'"),
            1);
  EXPECT_EQ(lp.process().terminate(), 0);

  // A bad regex stops start-up with a message naming the pattern.
  std::ofstream(config) << "[patterns.broken]\nregex = '(?P<x>unclosed'\n";
  auto [code, output] = run_logpipe(
      {"serve", "--config", config},
      {{"LOGPIPE_DATABASE_URL", db.url()}, {"LOGPIPE_REDIS_URL", Services::shared().redis_url}},
      20s);
  EXPECT_NE(code, 0);
  EXPECT_NE(output.find("pattern \"broken\": invalid regex"), std::string::npos) << output;
  std::remove(config.c_str());
}

}  // namespace
}  // namespace logpipe::test
