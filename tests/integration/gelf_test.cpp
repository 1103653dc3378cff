// GELF over HTTP as Graylog's GELF HTTP input takes it: gzip-compressed, several messages per
// request, additional fields into attrs, source_format gelf.
#include <gtest/gtest.h>

#include "../common/compress.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

TEST(Gelf, HttpMessagesArriveWithTheirFields) {
  TestDatabase db("gelf_http");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  Logpipe lp(LogpipeOptions{.database_url = db.url(), .stream = unique_tag("gelf")});

  HttpRequest request;
  request.method = "POST";
  request.target = "/gelf";
  request.headers = {{"Content-Encoding", "gzip"}};
  request.body = gzipped(
      R"({"version":"1.1","host":"web-1","short_message":"disk full","full_message":"disk full\n/var at 100%","timestamp":1732615200.25,"level":3,"_service":"storage","_mount":"/var"})"
      "\n"
      R"({"version":"1.1","host":"web-2","short_message":"started","level":6,"_app":"shop"})");
  const auto r = http(lp.port(), request);
  ASSERT_EQ(r.status, 202) << r.body;
  EXPECT_EQ(r.body, R"({"enqueued":2,"backend":"redis"})");
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 2; }, 20s));
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE host = 'web-1' AND level = 'ERROR' AND "
                     "service = 'storage' AND message = 'disk full' AND source_format = 'gelf' "
                     "AND ts = '2024-11-26T10:00:00.25Z' AND attrs->>'mount' = '/var' AND "
                     "attrs->>'full_message' LIKE 'disk full%100%'"),
            1);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs WHERE host = 'web-2' AND level = 'INFO' AND "
                     "app = 'shop' AND source_format = 'gelf'"),
            1);

  // A message without short_message is refused, naming it; nothing of the request is stored.
  request.headers.clear();
  request.body = R"({"short_message":"fine"})"
                 "\n"
                 R"({"host":"h"})";
  const auto bad = http(lp.port(), request);
  EXPECT_EQ(bad.status, 422) << bad.body;
  EXPECT_NE(bad.body.find("short_message"), std::string::npos) << bad.body;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(db.count("SELECT count(*) FROM logs"), 2);
}

}  // namespace
}  // namespace logpipe::test
