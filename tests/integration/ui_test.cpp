// The web UI in a real browser (Debian's chromium driven by puppeteer-core: tests/browser/ui.js)
// against a real logpipe (serve + worker) with seeded data, each test on its own database and
// stream: the explorer's rows are PostgreSQL's answer to the same filters, paging to the end
// visits every row once, the histogram's drag zooms the range and the rows, the live tail shows a
// record ingested after it opened, hostile messages stay text, the keyboard reaches every
// control, the UI asks for a key and names a missing scope, screenshots of every page in both
// themes, and Lighthouse's scores on the explorer.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <set>

#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "harness.hpp"
#include "http/query_string.hpp"

namespace logpipe::test {
namespace {

std::string json_string(std::string_view text) {
  core::JsonWriter w;
  w.value(text);
  return w.take();
}

// A whole second, so that the address and SQL spell the same instant.
core::Micros whole_second(core::Micros t) {
  return t / 1'000'000 * 1'000'000;
}

std::string iso(core::Micros t) {
  return core::format_rfc3339(t);
}

// One logpipe (`run`: serve and worker) on a database and stream of the test's own.
struct UiServer {
  explicit UiServer(const std::string& tag, std::map<std::string, std::string> env = {})
      : db(tag), stream(unique_tag(tag)) {
    if (run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first != 0)
      throw std::runtime_error("migrate failed");
    lp = std::make_unique<Logpipe>(
        LogpipeOptions{.database_url = db.url(), .stream = stream, .env = std::move(env)});
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(lp->port()); }
  // The ids of the logs matching `where`, newest first as the API orders them.
  std::vector<std::string> ids(const std::string& where) const {
    auto c = db.connect();
    auto rows = c.query("SELECT id FROM logs WHERE " + where + " ORDER BY ts DESC, id DESC");
    if (!rows) throw std::runtime_error(rows.error().message);
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(rows->size()));
    for (int i = 0; i < rows->size(); ++i)
      out.emplace_back(rows->get(i, 0));
    return out;
  }

  TestDatabase db;
  std::string stream;
  std::unique_ptr<Logpipe> lp;
};

// `count` records from `start`, two per second (pairs share a timestamp: the order's tie-break
// by id is part of what is compared): services api/web, levels ERROR/WARNING/INFO, messages with
// "timeout" or "ok", attrs.region eu/us. Posted through the API; stored when this returns.
void seed(UiServer& s, core::Micros start, int count, const std::string& key = "") {
  static const std::vector<std::string> kLevels{"ERROR", "WARNING", "INFO", "DEBUG", "CRITICAL"};
  for (int from = 0; from < count; from += 1000) {
    std::string body;
    for (int i = from; i < std::min(count, from + 1000); ++i) {
      fmt::format_to(std::back_inserter(body),
                     R"({{"ts":"{}","service":"{}","host":"h{}","device_id":"dev-{}","level":"{}",)"
                     R"("message":"req {} {}","attrs":{{"region":"{}","n":{}}}}})"
                     "\n",
                     iso(start + (i / 2) * 1'000'000LL), i % 10 == 9 ? "web" : "api", i % 3, i % 7,
                     kLevels[static_cast<std::size_t>(i) % (i % 50 == 0 ? 5 : 3)], i,
                     i % 2 == 0 ? "timeout" : "ok", i % 5 == 2 ? "us" : "eu", i);
    }
    HttpRequest r{.method = "POST", .target = "/api/v1/ingest", .body = body};
    r.content_type = "application/x-ndjson";
    if (!key.empty()) r.headers = {{"X-API-Key", key}};
    const auto answer = http(s.lp->port(), r);
    ASSERT_EQ(answer.status, 202) << answer.body;
  }
  ASSERT_TRUE(eventually([&] { return s.db.count("SELECT count(*) FROM logs") >= count; }, 60s))
      << s.db.count("SELECT count(*) FROM logs") << " of " << count << " stored";
}

// One run of tests/browser/ui.js: its JSON report, with every problem it found reported as a
// failure. nullopt when it did not answer.
std::optional<simdjson::dom::element> browse(simdjson::dom::parser& parser,
                                             const std::string& command, const std::string& args,
                                             std::chrono::milliseconds timeout = 100s) {
  const auto result = run_browser("ui.js", {command, args}, {}, timeout);
  simdjson::dom::element report;
  if (result.exit_code != 0 || parser.parse(result.out).get(report) != simdjson::SUCCESS) {
    ADD_FAILURE() << "ui.js " << command << ": " << describe(result);
    return std::nullopt;
  }
  for (auto problem : report["problems"].get_array())
    ADD_FAILURE() << "ui.js " << command << ": " << std::string_view(problem.get_string());
  std::cout << "ui.js " << command << ": " << int64_t(report["ms"]) << " ms\n";
  return report;
}

std::vector<std::string> strings(simdjson::dom::element array) {
  std::vector<std::string> out;
  for (auto e : array.get_array())
    out.emplace_back(std::string_view(e.get_string()));
  return out;
}

std::string text(simdjson::dom::element e) {
  return std::string(std::string_view(e.get_string()));
}

// The rows a collect (ui.js collectRows) found, checked for completeness: every index seen
// once, the same id each time, no id twice.
std::vector<std::string> collected(simdjson::dom::element rows) {
  EXPECT_EQ(int64_t(rows["missingCount"]), 0) << simdjson::to_string(rows["missing"]);
  EXPECT_EQ(rows["conflicts"].get_array().size(), 0U) << simdjson::to_string(rows["conflicts"]);
  auto ids = strings(rows["ids"]);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), ids.size())
      << "an id shown twice";
  return ids;
}

// The explorer's address for [from, to) plus `more` parameters.
std::string explore(core::Micros from, core::Micros to, const std::string& more = "") {
  return "/ui/explore?from=" + iso(from) + "&to=" + iso(to) + more;
}

std::string artifacts(const std::string& name) {
  std::string dir = std::string(LOGPIPE_UI_ARTIFACTS) + "/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

TEST(UiBrowser, SearchRowsEqualSqlAndPagingToTheEndVisitsEveryRowOnce) {
  UiServer s("ui_rows");
  const auto now = whole_second(core::now_micros());
  const auto start =
      now - core::Micros{40} * 60'000'000;  // 3,000 logs, two a second: 25 minutes from here
  seed(s, start, 3000);
  const auto from = start - 1'000'000, to = now + 60'000'000;
  const std::string range = fmt::format("ts >= '{}' AND ts < '{}'", iso(from), iso(to));

  // The search typed into the form (levels clicked); then a larger one opened by its address.
  simdjson::dom::parser parser;
  const std::string args = fmt::format(
      R"({{"base":{},"path":{},"then":{},"viewport":{{"width":1280,"height":1400}},)"
      R"("form":{{"q":"timeout","service":"api","attrs":"region=eu","levels":["ERROR","WARNING"]}}}})",
      json_string(s.base()), json_string(explore(from, to)),
      json_string(explore(from, to, "&service=api")));
  auto report = browse(parser, "rows", args, 110s);
  ASSERT_TRUE(report);

  const auto params = http::query_params(text((*report)["search"]));
  const std::multimap<std::string, std::string> got(params.begin(), params.end());
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"q", "timeout"},
                                                        {"service", "api"},
                                                        {"attrs.region", "eu"},
                                                        {"level", "ERROR"},
                                                        {"level", "WARNING"}}) {
    bool found = false;
    for (auto [it, end] = got.equal_range(k); it != end; ++it)
      found = found || it->second == v;
    EXPECT_TRUE(found) << k << "=" << v << " is not in the address " << text((*report)["search"]);
  }
  const auto shown = collected(*report);
  const auto truth = s.ids(range +
                           " AND level IN ('ERROR','WARNING') AND service = 'api' AND message "
                           "ILIKE '%timeout%' AND attrs #>> '{region}' = 'eu'");
  EXPECT_GT(truth.size(), 200U) << "the search should need more than the first page";
  EXPECT_EQ(shown, truth);

  const auto all = collected((*report)["then"]);
  const auto all_truth = s.ids(range + " AND service = 'api'");
  EXPECT_GE(all_truth.size(), 2500U);
  EXPECT_EQ(all.size(), all_truth.size());
  EXPECT_EQ(all, all_truth) << "paging to the end: not every row once, newest first";
  EXPECT_GE(int64_t((*report)["then"]["nextPages"]), 2) << "several keyset pages should load";
}

TEST(UiBrowser, ZoomingTheHistogramNarrowsTheTimeRangeAndTheRows) {
  UiServer s("ui_zoom");
  const auto now = whole_second(core::now_micros());
  const auto start = now - core::Micros{20} * 60'000'000;
  seed(s, start, 1200);  // ten minutes of logs
  const auto from = start - 60'000'000, to = start + 660'000'000;
  simdjson::dom::parser parser;
  auto report =
      browse(parser, "zoom",
             fmt::format(R"({{"base":{},"path":{},"fraction":[0.3,0.7]}})", json_string(s.base()),
                         json_string(explore(from, to, "&service=api"))));
  ASSERT_TRUE(report);
  const std::string address = text((*report)["search"]);
  const auto zoomed_from = http::query_param(address, "from");
  const auto zoomed_to = http::query_param(address, "to");
  ASSERT_TRUE(zoomed_from && zoomed_to) << address;
  EXPECT_EQ(http::query_param(address, "service"), "api") << "the zoom kept the filters";
  const auto f = core::parse_rfc3339(*zoomed_from);
  const auto t = core::parse_rfc3339(*zoomed_to);
  ASSERT_TRUE(f && t) << address;
  EXPECT_GT(*f, from) << address;
  EXPECT_LT(*t, to) << address;
  EXPECT_LT(*f, *t) << address;
  const auto shown = collected(*report);
  const auto truth =
      s.ids(fmt::format("service = 'api' AND ts >= '{}' AND ts < '{}'", iso(*f), iso(*t)));
  EXPECT_EQ(shown, truth);
  EXPECT_GT(truth.size(), 0U);
  EXPECT_LT(truth.size(), static_cast<std::size_t>(
                              s.db.count("SELECT count(*) FROM logs WHERE service = 'api'")));
}

TEST(UiBrowser, LiveTailShowsARecordIngestedAfterItOpened) {
  UiServer s("ui_tail");
  const std::string message = "tail " + unique_tag("arrived");
  simdjson::dom::parser parser;
  const std::string args =
      fmt::format(R"({{"base":{},"path":"/ui/tail?service=ui-tail","expect":[{}],)"
                  R"("probe":{{"service":"ui-tail"}},)"
                  R"("ingest":[{{"service":"other","level":"INFO","message":"not this one"}},)"
                  R"({{"service":"ui-tail","level":"ERROR","message":{}}}]}})",
                  json_string(s.base()), json_string(message), json_string(message));
  auto report = browse(parser, "tail", args);
  ASSERT_TRUE(report);
  EXPECT_EQ(int64_t((*report)["ingestStatus"]), 202);
  // Only what the filter (service=ui-tail, from the address) lets through (probes aside: ui.js
  // first waits for one to show, so that the tail surely reads the stream).
  EXPECT_EQ(strings((*report)["messages"]), std::vector<std::string>{message});
  EXPECT_TRUE(eventually(
      [&] {
        return s.db.count("SELECT count(*) FROM logs WHERE message = '" + message + "'") == 1;
      },
      30s));
}

const std::vector<std::string> kHostile{
    R"(<img src=x onerror=alert(1)>)",
    R"(<script>alert(2)</script>)",
    R"(javascript:alert(3))",
    R"x(<a href="javascript:alert(4)">click</a><svg onload=alert(5)>)x",
};

TEST(UiBrowser, HostileMessagesRenderAsTextInRowsRecordAndTail) {
  UiServer s("ui_hostile");
  std::string body, messages;
  for (const auto& m : kHostile) {
    body += R"({"service":"evil","level":"ERROR","message":)" + json_string(m) + "}\n";
    messages += (messages.empty() ? "" : ",") + json_string(m);
  }
  ASSERT_EQ(ingest_ndjson(s.lp->port(), body).status, 202);
  ASSERT_TRUE(eventually(
      [&] {
        return s.db.count("SELECT count(*) FROM logs") == static_cast<long long>(kHostile.size());
      },
      30s));

  simdjson::dom::parser parser;
  auto report =
      browse(parser, "hostile",
             fmt::format(R"({{"base":{},"path":"/ui/explore?service=evil","messages":[{}]}})",
                         json_string(s.base()), messages));
  ASSERT_TRUE(report);
  EXPECT_EQ(simdjson::to_string((*report)["rows"]), R"({"elements":[],"absent":[]})");
  for (auto panel : (*report)["panels"].get_array())
    EXPECT_EQ(simdjson::to_string(panel), R"({"elements":[],"absent":[]})");
  EXPECT_EQ(simdjson::to_string((*report)["allImages"]), "[]");
  EXPECT_EQ(strings((*report)["scripts"]), std::vector<std::string>{"/ui/assets/app.js"});
  EXPECT_EQ(simdjson::to_string((*report)["javascriptLinks"]), "[]");

  // The same messages arriving in the live tail.
  std::string ingest;
  for (const auto& m : kHostile)
    ingest += (ingest.empty() ? "" : ",") +
              fmt::format(R"({{"service":"evil","level":"ERROR","message":{}}})", json_string(m));
  simdjson::dom::parser tail_parser;
  auto tail = browse(tail_parser, "tail",
                     fmt::format(R"({{"base":{},"path":"/ui/tail","hostile":true,)"
                                 R"("expect":[{}],"ingest":[{}]}})",
                                 json_string(s.base()), messages, ingest));
  ASSERT_TRUE(tail);
  EXPECT_EQ(simdjson::to_string((*tail)["hostile"]), R"({"elements":[],"absent":[]})");
}

TEST(UiBrowser, KeyboardAloneReachesEveryControlAndOpensAndClosesARecord) {
  UiServer s("ui_keyboard");
  const auto now = whole_second(core::now_micros());
  seed(s, now - core::Micros{10} * 60'000'000, 100);
  simdjson::dom::parser parser;
  auto report = browse(
      parser, "keyboard",
      fmt::format(R"({{"base":{},"explore":{}}})", json_string(s.base()),
                  json_string(explore(now - core::Micros{11} * 60'000'000, now + 60'000'000))));
  ASSERT_TRUE(report);
  std::set<std::string> pages;
  for (auto page : (*report)["pages"].get_array()) {
    const std::string where = text(page["path"]);
    pages.insert(where.substr(0, where.find('?')));
    EXPECT_GT(int64_t(page["controls"]), 5) << where;
    EXPECT_EQ(int64_t(page["focused"]), int64_t(page["controls"])) << where;
    EXPECT_EQ(simdjson::to_string(page["missing"]), "[]") << where << ": never focused by Tab";
  }
  EXPECT_TRUE(pages.count("/ui/explore") && pages.count("/ui/tail"));
  auto record = (*report)["record"];
  EXPECT_TRUE(bool(record["rowFocused"]));
  const std::string row = text(record["rowId"]);
  EXPECT_EQ(text(record["panelTitle"]), "Log " + row);
  EXPECT_EQ(text(record["focusInPanel"]), "Close");
  EXPECT_EQ(text(record["focusAfterEscape"]), row) << "Escape should give focus back to the row";
  EXPECT_EQ(text(record["focusAfterClose"]), row) << "Close should give focus back to the row";
}

// The width and height in a PNG's IHDR.
std::pair<int, int> png_size(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::string head(24, '\0');
  in.read(head.data(), 24);
  if (head.compare(1, 3, "PNG") != 0) return {0, 0};
  auto be32 = [&](std::size_t at) {
    int v = 0;
    for (std::size_t i = 0; i < 4; ++i)
      v = (v << 8) | static_cast<unsigned char>(head[at + i]);
    return v;
  };
  return {be32(16), be32(20)};
}

// The screenshots' logs from kBurst.first to kBurst.second come five times as fast, and are
// errors and warnings: an incident two thirds of the way through the hour.
constexpr std::pair<int, int> kBurst{1000, 1150};

// A log line of a small shop's systems, the n-th of the screenshots' data.
std::string showcase_record(int n, core::Micros ts) {
  struct Kind {
    const char *service, *host, *level, *format;
  };
  static const std::vector<Kind> kKinds{
      {"api", "web-1", "INFO", "GET /api/orders/{} 200 in {} ms"},
      {"api", "web-2", "INFO", "POST /api/cart 201 in {} ms ({} items)"},
      {"web", "web-1", "DEBUG", "cache hit for /products?page={} ({} µs)"},
      {"auth", "web-2", "NOTICE", "user u{} signed in from 10.0.{}.7"},
      {"api", "web-1", "WARNING", "slow query on orders: {} ms (order {})"},
      {"db", "db-1", "ERROR", "connection pool exhausted ({}/20 in use), request {} waited"},
      {"worker", "db-1", "INFO", "invoice batch {} sent ({} mails)"},
  };
  // Mostly the calm ones; errors and warnings in the burst (see kBurst).
  const bool burst = n >= kBurst.first && n < kBurst.second;
  const Kind& k = kKinds[static_cast<std::size_t>(burst ? 4 + n % 2
                                                        : (n % 11 == 0  ? 4
                                                           : n % 4 == 0 ? 6
                                                                        : n % 4))];
  const std::string message = fmt::format(fmt::runtime(k.format), 1000 + n * 7 % 900, 3 + n % 40);
  return fmt::format(R"({{"ts":"{}","service":"{}","host":"{}","device_id":"{}","level":"{}",)"
                     R"("message":{},"attrs":{{"region":"eu-west","n":{}}}}})"
                     "\n",
                     iso(ts), k.service, k.host, n % 5 == 0 ? "edge-router-2" : "edge-router-1",
                     n % 97 == 0 ? "CRITICAL" : k.level, json_string(message), n);
}

TEST(UiBrowser, ScreenshotsOfEveryPageInBothThemes) {
  UiServer s("ui_shots");
  const auto now = whole_second(core::now_micros());
  std::string body;
  constexpr int kLogs = 1500;  // the last hour, one every 2.5 s but in the burst
  core::Micros ts = now - core::Micros{59} * 60'000'000;
  for (int n = 0; n < kLogs; ++n) {
    body += showcase_record(n, ts);
    ts += n >= kBurst.first && n < kBurst.second ? 500'000 : 2'500'000;
  }
  ASSERT_EQ(ingest_ndjson(s.lp->port(), body).status, 202);
  ASSERT_TRUE(eventually([&] { return s.db.count("SELECT count(*) FROM logs") == kLogs; }, 60s));
  // Rules for the alerts page to list.
  for (
      const auto* rule :
      {R"({"name":"db errors","kind":"threshold","filter":{"service":"db","level":"ERROR"},)"
       R"("threshold":20,"window_seconds":300,"notify":[{"type":"webhook",)"
       R"("url":"https://hooks.example.com/logpipe"}]})",
       R"({"name":"router silent","kind":"absence","filter":{"device_id":"edge-router-2"},)"
       R"("window_seconds":600,"notify":[{"type":"webhook","url":"https://hooks.example.com/ops"}]})"}) {
    const auto created = post_json(s.lp->port(), "/api/v1/alerts/rules", rule);
    EXPECT_EQ(created.status, 201) << created.body;
  }
  // The tail's records without their time (the server stamps them) and newline.
  std::string tail_records;
  for (int n = 0; n < 12; ++n) {
    std::string r = showcase_record(n * 13 + 1, now);
    r = std::regex_replace(r, std::regex(R"("ts":"[^"]*",)"), "");
    r.pop_back();
    tail_records += (tail_records.empty() ? "" : ",") + r;
  }
  const std::string out = artifacts("ui-screenshots");
  simdjson::dom::parser parser;
  auto report = browse(
      parser, "screenshots",
      fmt::format(R"({{"base":{},"out":{},"explore":"/ui/explore?from=1h","tail_records":[{}]}})",
                  json_string(s.base()), json_string(out), tail_records));
  ASSERT_TRUE(report);
  const auto files = strings((*report)["files"]);
  EXPECT_GE(files.size(), 4U);
  std::set<std::string> names;
  for (const auto& file : files) {
    names.insert(std::filesystem::path(file).filename());
    EXPECT_EQ(png_size(file), std::make_pair(1280, 800)) << file;
  }
  for (const auto* name :
       {"explore-light.png", "explore-dark.png", "tail-light.png", "tail-dark.png"})
    EXPECT_TRUE(names.count(name)) << name;
}

TEST(UiBrowser, AsksForAKeyNamesAMissingScopeAndSearchesWithAQueryKey) {
  TestDatabase db("ui_auth");
  ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
  auto key = [&](const std::string& scopes) {
    auto [code, out] = run_logpipe(
        {"keys", "create", "--tenant", "default", "--name", "ui " + scopes, "--scopes", scopes},
        {{"LOGPIPE_DATABASE_URL", db.url()}});
    std::smatch m;
    EXPECT_TRUE(code == 0 &&
                std::regex_search(out, m, std::regex("lpk_[0-9a-f]{12}_[A-Za-z0-9_-]{43}")))
        << out;
    return m.str();
  };
  const std::string ingest_key = key("ingest"), query_key = key("query");
  Logpipe lp(LogpipeOptions{.database_url = db.url(),
                            .stream = unique_tag("ui_auth"),
                            .env = {{"LOGPIPE_AUTH", "keys"}, {"LOGPIPE_AUTH_REFRESH", "200ms"}}});
  HttpRequest r{.method = "POST", .target = "/api/v1/ingest"};
  for (int i = 0; i < 30; ++i)
    r.body += fmt::format(R"({{"service":"keyed","level":"INFO","message":"keyed {}"}})"
                          "\n",
                          i);
  r.content_type = "application/x-ndjson";
  r.headers = {{"X-API-Key", ingest_key}};
  ASSERT_EQ(http(lp.port(), r).status, 202);
  ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == 30; }, 30s));

  simdjson::dom::parser parser;
  auto report =
      browse(parser, "auth",
             fmt::format(R"({{"base":{},"path":"/ui/explore?service=keyed","ingest_key":{},)"
                         R"("query_key":{},"keys_page":{}}})",
                         json_string("http://127.0.0.1:" + std::to_string(lp.port())),
                         json_string(ingest_key), json_string(query_key), R"("/ui/keys")"));
  ASSERT_TRUE(report);
  EXPECT_NE(text((*report)["dialogText"]).find("API key"), std::string::npos);
  const std::string notice = text((*report)["ingestKeyNotice"]);
  EXPECT_NE(notice.find("Not allowed with this key"), std::string::npos) << notice;
  EXPECT_NE(notice.find("\"query\" scope"), std::string::npos) << notice;
  EXPECT_FALSE(bool((*report)["dialogOpenAfterKey"]));
  std::vector<std::string> truth;
  {
    auto c = db.connect();
    auto rows = c.query("SELECT id FROM logs ORDER BY ts DESC, id DESC");
    ASSERT_TRUE(rows);
    for (int i = 0; i < rows->size(); ++i)
      truth.emplace_back(rows->get(i, 0));
  }
  EXPECT_EQ(collected((*report)["rows"]), truth);
  // The keys page (admin scope) says which scope the query key lacks.
  const std::string keys_notice = text((*report)["keysPageNotice"]);
  EXPECT_NE(keys_notice.find("Not allowed with this key"), std::string::npos) << keys_notice;
  EXPECT_NE(keys_notice.find("\"admin\" scope"), std::string::npos) << keys_notice;
}

TEST(UiBrowser, AnAlertRuleCreatedInTheUiFires) {
  UiServer s("ui_alert",
             {{"LOGPIPE_ALERT_INTERVAL", "200ms"}, {"LOGPIPE_ALERT_RESEND_INTERVAL", "1s"}});
  const unsigned short hook_port = free_port();
  const std::string secret = "s3cret-" + unique_tag("ui-hook") + "-padding";
  const std::string service = unique_tag("ui-alert");
  const std::string name = "ui rule " + service;
  simdjson::dom::parser parser;
  auto report = browse(
      parser, "alert",
      fmt::format(R"({{"base":{},"fields":{{"name":{},"kind":"threshold","threshold":"3",)"
                  R"("window":"10","cooldown":"2","filter-service":{},"target-type-0":"webhook",)"
                  R"("target-url-0":{},"secret":{}}}}})",
                  json_string(s.base()), json_string(name), json_string(service),
                  json_string("http://127.0.0.1:" + std::to_string(hook_port) + "/hooks/logpipe"),
                  json_string(secret)));
  ASSERT_TRUE(report);
  ASSERT_EQ(s.db.count("SELECT count(*) FROM alert_rules WHERE name = '" + name + "'"), 1);
  // Listening from now (it gives up after 30 s without a request).
  auto receiver = start_webhook_receiver(hook_port, secret, "200", 1);
  // Matching logs until the receiver got the notification: the evaluator reads a new rule within
  // its refresh and counts only from then.
  const auto give_up = std::chrono::steady_clock::now() + 60s;
  while (receiver.wait_for(300ms) != std::future_status::ready &&
         std::chrono::steady_clock::now() < give_up) {
    std::string body;
    for (int i = 0; i < 4; ++i)
      body += fmt::format(R"({{"service":"{}","level":"ERROR","message":"boom {}"}})"
                          "\n",
                          service, i);
    EXPECT_EQ(ingest_ndjson(s.lp->port(), body).status, 202);
  }
  ASSERT_EQ(receiver.wait_for(0s), std::future_status::ready) << "no notification within 60 s";
  const auto got = receiver.get();
  ASSERT_EQ(got.exit_code, 0) << describe(got);
  simdjson::dom::parser hook_parser;
  auto requests = parse_json(hook_parser, got.out);
  ASSERT_EQ(requests.get_array().size(), 1U) << got.out;
  auto request = requests.at(0);
  EXPECT_TRUE(bool(request["verified"])) << got.out;
  simdjson::dom::parser body_parser;
  auto body = parse_json(body_parser, text(request["body"]));
  EXPECT_EQ(text(body["status"]), "firing") << got.out;
  EXPECT_NE(text(request["body"]).find(name), std::string::npos) << got.out;
}

// Lighthouse (desktop: an operator's tool on a desk) on the explorer with seeded data. Slow
// under sanitizers and measuring them rather than the UI: the normal build only.
TEST(UiLighthouse, ExplorerScoresAccessibility95Performance90BestPractices95) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "Lighthouse runs in the normal build only";
#endif
  UiServer s("ui_lighthouse");
  const auto now = whole_second(core::now_micros());
  seed(s, now - core::Micros{30} * 60'000'000, 1000);
  simdjson::dom::parser parser;
  auto report = browse(parser, "lighthouse",
                       fmt::format(R"({{"base":{},"path":"/ui/explore?from=1h","out":{}}})",
                                   json_string(s.base()), json_string(artifacts("ui-lighthouse"))),
                       110s);
  ASSERT_TRUE(report);
  const std::map<std::string, int64_t> wanted{
      {"accessibility", 95}, {"performance", 90}, {"best-practices", 95}};
  for (const auto& [category, minimum] : wanted) {
    const int64_t score = (*report)["scores"][category];
    std::cout << "lighthouse " << category << ": " << score << "\n";
    EXPECT_GE(score, minimum) << category << " below " << minimum << "; failing audits: "
                              << simdjson::to_string((*report)["failing"][category]);
  }
}

}  // namespace
}  // namespace logpipe::test
