// The live tail against real services and real clients: a WebSocket client (`ws`, Node) and an
// SSE client (curl -N) on one serve instance receive the records ingested through another one
// (same Redis stream), with their filters and their tenant; a filter changes on the open socket;
// bad filters are refused; a subscriber that stops reading is told what it missed while ingest
// and another subscriber go on.
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "http/query_string.hpp"
#include "queue/batch_codec.hpp"
#include "tail/matcher.hpp"

namespace logpipe::test {
namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// The "message" of each JSON record line; other lines (notices, acks) as they are.
std::vector<std::string> messages(const std::vector<std::string>& json_lines) {
  std::vector<std::string> out;
  simdjson::dom::parser parser;
  for (const auto& line : json_lines) {
    simdjson::dom::element e;
    std::string_view message;
    if (parser.parse(line).get(e) == simdjson::SUCCESS &&
        e["message"].get_string().get(message) == simdjson::SUCCESS) {
      out.emplace_back(message);
    } else {
      out.push_back(line);
    }
  }
  return out;
}

// The data of each SSE event (records), "dropped:N" for a notice; comments and retry skipped.
std::vector<std::string> sse_data(const std::string& body) {
  std::vector<std::string> out;
  std::string event;
  for (const auto& line : lines(body)) {
    if (line.rfind("event: ", 0) == 0) {
      event = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      out.push_back(event == "dropped" ? "dropped:" + line.substr(6) : line.substr(6));
      event.clear();
    }
  }
  return out;
}

bool exists(const std::string& path) {
  return ::access(path.c_str(), F_OK) == 0;
}

struct TailServers {
  explicit TailServers(const std::string& tag, bool keys)
      : db(tag), stream(unique_tag(tag)), keys_on(keys) {
    if (run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first != 0)
      throw std::runtime_error("migrate failed");
  }
  std::pair<int, std::string> cli(std::vector<std::string> args) const {
    return run_logpipe(args, {{"LOGPIPE_DATABASE_URL", db.url()}});
  }
  std::string key(const std::string& tenant) const {
    auto [code, out] =
        cli({"keys", "create", "--tenant", tenant, "--name", "tail", "--scopes", "ingest,query"});
    std::smatch m;
    if (code != 0 || !std::regex_search(out, m, std::regex("lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")))
      throw std::runtime_error("keys create: " + out);
    return m.str();
  }
  std::unique_ptr<Logpipe> start(const std::string& command,
                                 std::vector<std::string> extra = {}) const {
    std::map<std::string, std::string> env;
    if (keys_on)
      env = {{"LOGPIPE_AUTH", "keys"},
             {"LOGPIPE_AUTH_REFRESH", "200ms"},
             {"LOGPIPE_METRICS_AUTH", "none"}};
    return std::make_unique<Logpipe>(LogpipeOptions{.command = command,
                                                    .database_url = db.url(),
                                                    .stream = stream,
                                                    .extra_args = std::move(extra),
                                                    .env = env});
  }

  TestDatabase db;
  std::string stream;
  bool keys_on;
};

HttpResponse ingest(unsigned short port, const std::string& key, const std::string& ndjson) {
  HttpRequest r;
  r.method = "POST";
  r.target = "/api/v1/ingest";
  r.body = ndjson;
  r.content_type = "application/x-ndjson";
  if (!key.empty()) r.headers = {{"X-API-Key", key}};
  return http(port, r);
}

std::string record(const std::string& service, const std::string& level,
                   const std::string& message) {
  return R"({"service":")" + service + R"(","level":")" + level + R"(","message":")" + message +
         R"(","attrs":{"region":"eu","n":1}})" + "\n";
}

TEST(Tail, WebSocketAndSseGetRecordsIngestedThroughAnotherInstanceFilteredAndIsolated) {
  TailServers s("tail_fanout", true);
  ASSERT_EQ(s.cli({"tenants", "create", "acme"}).first, 0);
  const std::string key = s.key("default");
  const std::string acme = s.key("acme");
  auto writer = s.start("run");    // ingest goes through this one (and its worker stores)
  auto tailer = s.start("serve");  // the subscribers are on this one
  const auto port = tailer->port();
  const std::string base = "ws://127.0.0.1:" + std::to_string(port);
  const std::string tmp = "/tmp/" + unique_tag("tail_fanout");

  // Refusals before anything streams: a bad or inapplicable filter is a 422 naming it; no key 401.
  HttpRequest bad;
  bad.target = "/api/v1/tail?from=1h";
  bad.headers = {{"X-API-Key", key}};
  auto refused = http(port, bad);
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_NE(refused.body.find("\"field\":\"from\""), std::string::npos) << refused.body;
  bad.target = "/api/v1/tail?level=LOUD";
  EXPECT_EQ(http(port, bad).status, 422);
  EXPECT_EQ(get(port, "/api/v1/tail").status, 401);
  // Over the WebSocket, after the upgrade: an error message, then a close.
  const auto ws_bad = run_node("tail_ws.js", {base + "/ws/logs?cursor=x", key, "END"}, {}, 30s);
  EXPECT_NE(ws_bad.out.find(R"("field":"cursor")"), std::string::npos) << describe(ws_bad);
  EXPECT_NE(ws_bad.exit_code, 0);

  // SSE: only ERROR records of service api, of the tenant default.
  Process sse({"/usr/bin/curl", "-isN", "-H", "X-API-Key: " + key,
               "http://127.0.0.1:" + std::to_string(port) + "/api/v1/tail?service=api&level=ERROR"},
              {});
  // WebSocket: the same filter; on SWITCH an invalid filter change (refused, the old filter
  // stays) and then service=db.
  const std::string ack = tmp + ".ack";
  auto ws = std::async(std::launch::async, [&] {
    return run_node("tail_ws.js",
                    {base + "/ws/logs?service=api&level=ERROR", key, "END", "--ack", ack, "--on",
                     R"(SWITCH=[{"filter":{"level":"LOUD"}},{"filter":{"service":"db"}}])"},
                    {}, 90s);
  });
  // Another tenant, no filter: sees its own records only.
  auto ws_acme = std::async(std::launch::async, [&] {
    return run_node("tail_ws.js", {base + "/ws/logs", acme, "END"}, {}, 90s);
  });
  // Node's start under ASan on a loaded machine can take seconds: the margin is wide.
  ASSERT_TRUE(eventually(
      [&] {
        return metric(port, "tail_subscribers{transport=\"ws\"}") == 2 &&
               metric(port, "tail_subscribers{transport=\"sse\"}") == 1;
      },
      60s))
      << "subscribers: ws " << metric(port, "tail_subscribers{transport=\"ws\"}") << ", sse "
      << metric(port, "tail_subscribers{transport=\"sse\"}") << "\n"
      << tailer->process().output() << "\nSSE client: " << sse.output();

  const auto wport = writer->port();
  ASSERT_EQ(ingest(wport, key,
                   record("api", "ERROR", "e1") + record("api", "INFO", "i1") +
                       record("db", "ERROR", "d1") + record("api", "ERROR", "e2"))
                .status,
            202);
  ASSERT_EQ(ingest(wport, acme, record("api", "ERROR", "a1")).status, 202);
  ASSERT_EQ(ingest(wport, key, record("api", "ERROR", "SWITCH")).status, 202);
  ASSERT_TRUE(eventually([&] { return exists(ack); }, 30s));
  ASSERT_EQ(ingest(wport, key,
                   record("db", "ERROR", "d2") + record("api", "ERROR", "e3") +
                       record("db", "INFO", "END") + record("api", "ERROR", "END"))
                .status,
            202);
  ASSERT_EQ(ingest(wport, acme, record("api", "INFO", "END")).status, 202);

  const auto got = ws.get();
  ASSERT_EQ(got.exit_code, 0) << describe(got);
  const auto ws_lines = lines(got.out);
  const auto ws_messages = messages(ws_lines);
  ASSERT_EQ(ws_messages.size(), 7U) << got.out;
  EXPECT_EQ(std::vector<std::string>(ws_messages.begin(), ws_messages.begin() + 3),
            (std::vector<std::string>{"e1", "e2", "SWITCH"}));
  EXPECT_NE(ws_messages[3].find(R"({"error":{"code":"invalid_field")"), std::string::npos);
  EXPECT_NE(ws_messages[3].find(R"("field":"level")"), std::string::npos);
  EXPECT_EQ(ws_messages[4], R"({"filter":"ok"})");
  EXPECT_EQ(ws_messages[5], "d2");
  EXPECT_EQ(ws_messages[6], "END");

  // Each message is an item of GET /api/v1/logs without the id (not stored yet).
  simdjson::dom::parser parser;
  const auto first = parse_json(parser, ws_lines[0]);
  EXPECT_EQ(std::string_view(first["level"]), "ERROR");
  EXPECT_EQ(std::string_view(first["service"]), "api");
  EXPECT_TRUE(first["device_id"].is_null());
  EXPECT_EQ(std::string_view(first["attrs"]["region"]), "eu");
  EXPECT_FALSE(std::string_view(first["ts"]).empty());
  EXPECT_FALSE(std::string_view(first["received_at"]).empty());
  EXPECT_EQ(first["id"].error(), simdjson::NO_SUCH_FIELD);

  const auto acme_got = ws_acme.get();
  ASSERT_EQ(acme_got.exit_code, 0) << describe(acme_got);
  EXPECT_EQ(messages(lines(acme_got.out)), (std::vector<std::string>{"a1", "END"}));

  ASSERT_TRUE(eventually([&] { return sse_data(sse.output()).size() >= 5; }, 30s)) << sse.output();
  const auto events = sse_data(sse.output());
  EXPECT_EQ(messages(events), (std::vector<std::string>{"e1", "e2", "SWITCH", "e3", "END"}))
      << sse.output();
  // The headers an SSE client and a proxy need, and the reconnection delay first.
  const std::string raw = sse.output();
  EXPECT_NE(raw.find("Content-Type: text/event-stream"), std::string::npos) << raw;
  EXPECT_NE(raw.find("Cache-Control: no-cache"), std::string::npos);
  EXPECT_NE(raw.find("X-Accel-Buffering: no"), std::string::npos);
  EXPECT_NE(raw.find("\r\n\r\nretry: 1000\n\n"), std::string::npos);
  EXPECT_GT(metric(port, "tail_messages_sent_total"), 10);
  EXPECT_EQ(metric(port, "tail_messages_dropped_total"), 0);
}

// A browser's WebSocket cannot send X-API-Key: it offers the key as a subprotocol, refused
// before the upgrade when wrong, as a header's would be.
TEST(Tail, ABrowsersWebSocketCarriesItsKeyAsASubprotocol) {
  TailServers s("tail_subprotocol", true);
  const std::string key = s.key("default");
  auto server = s.start("run");
  const auto port = server->port();
  const std::string url = "ws://127.0.0.1:" + std::to_string(port) + "/ws/logs?level=ERROR";
  const auto wrong = run_node(
      "tail_ws.js", {url, "protocol:lpk_000000000000_" + std::string(43, 'x'), "END"}, {}, 30s);
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.err.find("upgrade refused: 401"), std::string::npos) << describe(wrong);
  const auto none = run_node("tail_ws.js", {url, "-", "END"}, {}, 30s);
  EXPECT_NE(none.err.find("upgrade refused: 401"), std::string::npos) << describe(none);

  const std::string ready = "/tmp/" + unique_tag("tail_subprotocol") + ".ready";
  auto ws = std::async(std::launch::async, [&] {
    return run_node("tail_ws.js", {url, "protocol:" + key, "END", "--ready", ready}, {}, 60s);
  });
  // Open on the client's side, and subscribed on the server's: only then is a record sent.
  ASSERT_TRUE(eventually(
      [&] { return exists(ready) && metric(port, "tail_subscribers{transport=\"ws\"}") == 1; },
      60s))
      << server->process().output();
  ASSERT_EQ(ingest(port, key,
                   record("api", "INFO", "quiet") + record("api", "ERROR", "loud") +
                       record("api", "ERROR", "END"))
                .status,
            202);
  const auto got = ws.get();
  ASSERT_EQ(got.exit_code, 0) << describe(got);
  EXPECT_EQ(messages(lines(got.out)), (std::vector<std::string>{"loud", "END"}));
  std::filesystem::remove(ready);
  EXPECT_EQ(server->process().terminate(), 0);
}

TEST(Tail, ASubscriberThatStopsReadingIsToldWhatItMissedWhileOthersGetEverything) {
  TailServers s("tail_slow", false);
  // serve without a worker: the entries stay in the stream. (With a worker, an entry stored and
  // deleted before the hub read it is not tailed: ARCHITECTURE "Live tail". The ASan build on a
  // busy box can lag that much; the subject here is the subscribers' queues.)
  auto lp = s.start("serve");
  const auto port = lp->port();
  const std::string base = "ws://127.0.0.1:" + std::to_string(port);
  const std::string go = "/tmp/" + unique_tag("tail_slow") + ".go";

  auto slow = std::async(std::launch::async, [&] {
    return run_node("tail_ws.js", {base + "/ws/logs?service=load", "-", "END", "--pause-until", go},
                    {}, 110s);
  });
  auto fast = std::async(std::launch::async, [&] {
    return run_node("tail_ws.js", {base + "/ws/logs?service=load", "-", "END"}, {}, 110s);
  });
  ASSERT_TRUE(
      eventually([&] { return metric(port, "tail_subscribers{transport=\"ws\"}") == 2; }, 30s));

  // 6000 records of 4 KB (24 MB): more than the paused socket's kernel buffers (loopback: a few
  // MB each way) and its queue (tail_queue_messages, 1000).
  constexpr int kRecords = 6000, kPerRequest = 50;
  const std::string padding(4000, 'x');
  const auto started = std::chrono::steady_clock::now();
  for (int r = 0; r < kRecords / kPerRequest; ++r) {
    std::string body;
    for (int i = 0; i < kPerRequest; ++i)
      body += R"({"service":"load","message":"m)" + std::to_string(r * kPerRequest + i) + " " +
              padding + "\"}\n";
    const auto answer = ingest(port, "", body);
    ASSERT_EQ(answer.status, 202) << answer.body;
    // Paced a little, as a steady stream, not one burst beyond the fast subscriber's queue.
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const auto ingest_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(eventually([&] { return metric(port, "tail_messages_dropped_total") > 0; }, 30s));
  { std::ofstream(go) << "go"; }
  // END may come while the slow subscriber's queue is still full (then it is dropped and
  // counted too): sent again until it got one.
  int ends = 0;
  auto slow_done = std::future_status::timeout;
  for (; ends < 60 && slow_done != std::future_status::ready; ++ends) {
    ASSERT_EQ(ingest(port, "", R"({"service":"load","message":"END"})").status, 202);
    slow_done = slow.wait_for(1s);
  }

  const auto fast_got = fast.get();
  ASSERT_EQ(fast_got.exit_code, 0) << describe(fast_got);
  const auto fast_lines = lines(fast_got.out);
  EXPECT_EQ(fast_lines.size(), kRecords + 1U);  // every record, no notice
  EXPECT_EQ(fast_got.out.find("dropped"), std::string::npos);

  const auto slow_got = slow.get();
  ASSERT_EQ(slow_got.exit_code, 0) << describe(slow_got);
  long records = 0, dropped = 0, notices = 0;
  simdjson::dom::parser parser;
  for (const auto& line : lines(slow_got.out)) {
    const auto e = parse_json(parser, line);
    std::int64_t n = 0;
    if (e["dropped"].get_int64().get(n) == simdjson::SUCCESS) {
      dropped += n;
      ++notices;
    } else if (std::string_view(e["message"]) != "END") {
      ++records;
    }
  }
  // Every record either reached it or was counted in a notice.
  EXPECT_GT(notices, 0);
  EXPECT_GT(dropped, 0);
  // (and the ENDs before the one it got, dropped or not)
  EXPECT_GE(records + dropped, kRecords);
  EXPECT_LE(records + dropped, kRecords + ends - 1);
  EXPECT_EQ(metric(port, "tail_messages_dropped_total"), static_cast<double>(dropped));
  // Ingest did not wait for it: 6000 records in well under a minute even on a busy box.
  EXPECT_LT(ingest_seconds, 60.0);
  RecordProperty("ingest_seconds", std::to_string(ingest_seconds));
}

// The matcher and the search's SQL select the same records for the same filters: the records as
// the hub sees them (decoded from the stream) against GET /api/v1/logs once they are stored, on a
// database with the test services' LC_CTYPE.
TEST(Tail, TheMatcherSelectsWhatTheSearchSelects) {
  TailServers s("tail_same", false);
  auto serve = s.start("serve");  // no worker yet: the entries stay in the stream to be read
  const auto port = serve->port();
  const std::string body =
      R"({"message":"m0 Großer ÄRGER im Lager","service":"api","level":"ERROR","host":"h1"})"
      "\n"
      R"({"message":"m1 σφάλμα δικτύου","service":"db","level":"WARNING","device_id":"d1"})"
      "\n"
      R"({"message":"m2 disk 100% full","service":"api","level":"INFO","attrs":{"n":1.50}})"
      "\n"
      R"({"message":"m3 key a_b set","level":"DEBUG","attrs":{"n":1e2,"x":true}})"
      "\n"
      R"({"message":"m4 GROSS","service":"api","level":"FATAL","attrs":{"n":100,"x":null}})"
      "\n"
      R"({"message":"m5 İstanbul ǅemal","level":"NOTICE","attrs":{"o":{"b":2,"aa":1},"t":["a","b"]}})"
      "\n"
      R"({"message":"m6 plain","service":"","attrs":{"o":{"aa":1,"b":2},"t":["b"],"s":"1.50"}})"
      "\n";
  ASSERT_EQ(ingest(port, "", body).status, 202);

  // The records as the hub decodes them.
  std::vector<std::pair<model::TenantId, model::Record>> records;
  auto redis = shared_redis();
  auto range = redis.command({"XRANGE", s.stream, "-", "+"});
  ASSERT_TRUE(range);
  for (std::size_t e = 0; e < queue::reply_size(**range); ++e) {
    const auto& entry = queue::reply_at(**range, e);
    auto batches =
        queue::decode_entry(queue::reply_string(queue::reply_at(queue::reply_at(entry, 1), 1)));
    ASSERT_TRUE(batches) << batches.error().message;
    for (const auto& batch : *batches)
      for (const auto& r : batch.records)
        records.emplace_back(batch.tenant_id, r);
  }
  ASSERT_EQ(records.size(), 7U);
  auto worker = s.start("worker");
  ASSERT_TRUE(eventually([&] { return s.db.count("SELECT count(*) FROM logs") == 7; }, 30s));
  auto db = s.db.connect();
  auto ctype = db.query("SHOW lc_ctype");
  ASSERT_TRUE(ctype);
  const auto folding = tail::case_folding_of(ctype->get(0, 0));

  const std::vector<query::Params> filters = {
      {{"q", "ärger"}},
      {{"q", "ÄRGER lager"}},
      {{"q", "ΣΦΆΛΜΑ"}},
      {{"q", "gross"}},
      {{"q", "\"großer ä\""}},
      {{"q", "100%"}},
      {{"q", "1_0"}},
      {{"q", "A_B"}},
      {{"q", "istanbul"}},
      {{"q", "i̇stanbul"}},
      {{"q", "ǆemal"}},
      {{"attrs.n", "1.50"}},
      {{"attrs.n", "1.5"}},
      {{"attrs.n", "100"}},
      {{"attrs.n", "1e2"}},
      {{"attrs.x", "true"}},
      {{"attrs.x", "null"}},
      {{"attrs.o", R"({"b": 2, "aa": 1})"}},
      {{"attrs.t.0", "a"}},
      {{"attrs.t.-1", "b"}},
      {{"attrs.t", R"(["b"])"}},
      {{"attrs.s", "1.50"}},
      {{"service", "api"}},
      {{"service", ""}},
      {{"min_level", "warn"}},
      {{"level", "ERROR,INFO"}},
      {{"host", "h1"}},
      {{"device_id", "d1"}},
      {{"service", "api"}, {"q", "m"}, {"min_level", "error"}},
  };
  for (const auto& params : filters) {
    const std::string qs = http::query_string(params);
    auto filter = query::parse_log_filter(params, model::kDefaultTenant, 0);
    ASSERT_TRUE(filter) << qs;
    const auto matcher = tail::Matcher::compile(*filter, folding);
    std::set<std::string> tailed, searched;
    for (const auto& [tenant, r] : records)
      if (matcher.matches(tenant, r)) tailed.insert(r.message.substr(0, 2));
    const auto page = get(port, "/api/v1/logs?" + qs);
    ASSERT_EQ(page.status, 200) << qs << " " << page.body;
    simdjson::dom::parser parser;
    for (auto log : parse_json(parser, page.body)["logs"].get_array())
      searched.insert(std::string(std::string_view(log["message"]).substr(0, 2)));
    EXPECT_EQ(tailed, searched) << qs << " (lc_ctype " << ctype->get(0, 0) << ")";
  }
}

}  // namespace
}  // namespace logpipe::test
