// The live tail without Redis: the matcher (what query::where_clause's SQL means, in memory),
// #>> on attrs, the WebSocket filter message, and the hub's fan-out, drops and notices.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "metrics/metrics.hpp"
#include "tail/filter_message.hpp"
#include "tail/hub.hpp"
#include "tail/json_path.hpp"
#include "tail/matcher.hpp"

namespace logpipe::tail {
namespace {

using model::Level;

query::LogFilter parse(const query::Params& params, model::TenantId tenant = 1) {
  auto filter = query::parse_log_filter(params, tenant, 0);
  EXPECT_TRUE(filter.ok()) << (filter ? "" : filter.error().message);
  return filter ? *filter : query::LogFilter{};
}

bool matches(const query::Params& params, const model::Record& record,
             CaseFolding folding = CaseFolding::unicode) {
  return Matcher::compile(parse(params), folding).matches(1, record);
}

model::Record record(std::string message = "hello", Level level = Level::info) {
  model::Record r;
  r.message = std::move(message);
  r.level = level;
  r.service = "api";
  r.device_id = "dev-1";
  r.app = "shop";
  r.host = "web-1";
  return r;
}

TEST(TailFilter, RefusesWhatATailCannotMeanNamingTheParameter) {
  for (const char* key : {"from", "to", "order", "limit", "cursor", "bogus"}) {
    auto filter = query::parse_log_filter({{key, "1"}}, 1, 0);
    ASSERT_FALSE(filter.ok()) << key;
    EXPECT_EQ(filter.error().code, core::Errc::invalid_field);
    ASSERT_EQ(filter.error().details.size(), 1U);
    EXPECT_EQ(filter.error().details[0].field, key);
  }
  EXPECT_FALSE(query::parse_log_filter({{"level", "LOUD"}}, 1, 0).ok());
  EXPECT_TRUE(query::parse_log_filter({{"service", "api"}, {"q", "a \"b c\""}}, 1, 0).ok());
}

TEST(TailMatcher, FieldsAreEqualAndAnEmptyFieldIsNull) {
  EXPECT_TRUE(matches({}, record()));
  EXPECT_TRUE(matches({{"service", "api"}}, record()));
  EXPECT_FALSE(matches({{"service", "API"}}, record()));  // = is exact, as in SQL
  EXPECT_TRUE(matches({{"device_id", "dev-1"}, {"app", "shop"}, {"host", "web-1"}}, record()));
  EXPECT_FALSE(matches({{"host", "web-2"}}, record()));
  auto bare = record();
  bare.service.clear();
  // Stored as NULL: `service = ''` is not true in SQL either.
  EXPECT_FALSE(matches({{"service", ""}}, bare));
  EXPECT_TRUE(matches({}, bare));
}

TEST(TailMatcher, TenantIsolation) {
  const auto m = Matcher::compile(parse({}, 2));
  EXPECT_FALSE(m.matches(1, record()));
  EXPECT_TRUE(m.matches(2, record()));
}

TEST(TailMatcher, LevelsAndMinLevel) {
  EXPECT_TRUE(matches({{"level", "ERROR"}}, record("x", Level::error)));
  EXPECT_FALSE(matches({{"level", "ERROR"}}, record("x", Level::warning)));
  EXPECT_TRUE(matches({{"level", "ERROR,FATAL"}}, record("x", Level::fatal)));
  EXPECT_TRUE(matches({{"min_level", "warn"}}, record("x", Level::warning)));
  EXPECT_TRUE(matches({{"min_level", "warn"}}, record("x", Level::critical)));
  EXPECT_FALSE(matches({{"min_level", "warn"}}, record("x", Level::info)));
  // Both: a level must satisfy both.
  EXPECT_FALSE(matches({{"level", "INFO,ERROR"}, {"min_level", "WARNING"}}, record("x")));
  EXPECT_TRUE(
      matches({{"level", "INFO,ERROR"}, {"min_level", "WARNING"}}, record("x", Level::error)));
}

TEST(TailMatcher, TermsAreCaseInsensitiveSubstringsLikeIlike) {
  EXPECT_TRUE(matches({{"q", "TIMEOUT"}}, record("upstream timeout after 30s")));
  EXPECT_TRUE(matches({{"q", "time out"}}, record("timeout, then out")));       // each word
  EXPECT_FALSE(matches({{"q", "\"time out\""}}, record("timeout, then out")));  // the phrase
  EXPECT_TRUE(matches({{"q", "\"Then Out\""}}, record("timeout, then out")));
  // LIKE's own characters are literal in a term.
  EXPECT_TRUE(matches({{"q", "100%"}}, record("disk 100% full")));
  EXPECT_FALSE(matches({{"q", "1_0"}}, record("disk 100% full")));
  EXPECT_TRUE(matches({{"q", "a_b"}}, record("key a_b set")));
  // Unicode case under a UTF-8 LC_CTYPE (lower() of both sides, as ILIKE does): Ä/ä, Σ/σ, Ж/ж.
  EXPECT_TRUE(matches({{"q", "ÄRGER"}}, record("großer ärger")));
  EXPECT_TRUE(matches({{"q", "ΣΦΆΛΜΑ"}}, record("σφάλμα δικτύου")));
  EXPECT_TRUE(matches({{"q", "ошибка"}}, record("ОШИБКА подключения")));
  // ß has no single-character upper case: lower() leaves it, so SS does not find it.
  EXPECT_FALSE(matches({{"q", "GROSS"}}, record("großer ärger")));
  // LC_CTYPE C: only A-Z fold.
  EXPECT_FALSE(matches({{"q", "ÄRGER"}}, record("großer ärger"), CaseFolding::ascii));
  EXPECT_TRUE(matches({{"q", "GROßER"}}, record("großer ärger"), CaseFolding::ascii));
  EXPECT_FALSE(matches({{"q", "missing"}}, record("hello")));
  // Invalid UTF-8 in a message folds byte by byte, without harm.
  EXPECT_TRUE(matches({{"q", "ok"}}, record("\xff\xfe OK")));
}

TEST(TailMatcher, CaseFoldingOfTheDatabase) {
  EXPECT_EQ(case_folding_of("C"), CaseFolding::ascii);
  EXPECT_EQ(case_folding_of("POSIX"), CaseFolding::ascii);
  EXPECT_EQ(case_folding_of("C.UTF-8"), CaseFolding::unicode);
  EXPECT_EQ(case_folding_of("en_US.UTF-8"), CaseFolding::unicode);
  EXPECT_EQ(fold_case("ÀÉÎ ABC", CaseFolding::unicode), "àéî abc");
}

TEST(TailMatcher, AttrsCompareTheTextAtThePath) {
  auto r = record();
  r.attrs_json = R"({"region":"eu","http":{"status":500,"ok":false,"ratio":1.50,"big":1e2},)"
                 R"("tags":["a","b",{"k":"v"}],"nothing":null,"esc":"a\"b\u00e9\u0000",)"
                 R"("obj":{"b":2,"aa":1,"b":3}})";
  EXPECT_TRUE(matches({{"attrs.region", "eu"}}, r));
  EXPECT_FALSE(matches({{"attrs.region", "\"eu\""}}, r));  // a string compares unquoted
  EXPECT_TRUE(matches({{"attrs.http.status", "500"}}, r));
  EXPECT_TRUE(matches({{"attrs.http.ok", "false"}}, r));
  EXPECT_TRUE(matches({{"attrs.http.ratio", "1.50"}}, r));  // numeric keeps the scale
  EXPECT_FALSE(matches({{"attrs.http.ratio", "1.5"}}, r));
  EXPECT_TRUE(matches({{"attrs.http.big", "100"}}, r));  // 1e2 as numeric prints it
  EXPECT_TRUE(matches({{"attrs.tags.1", "b"}}, r));      // an array index
  EXPECT_TRUE(matches({{"attrs.tags.-1.k", "v"}}, r));   // from the end
  EXPECT_FALSE(matches({{"attrs.tags.3", "b"}}, r));
  EXPECT_FALSE(matches({{"attrs.tags.x", "b"}}, r));
  EXPECT_FALSE(matches({{"attrs.nothing", "null"}}, r));  // JSON null is SQL NULL
  EXPECT_FALSE(matches({{"attrs.region.x", "eu"}}, r));   // through a scalar
  EXPECT_FALSE(matches({{"attrs.missing", ""}}, r));
  EXPECT_TRUE(matches({{"attrs.esc", "a\"bé\xEF\xBF\xBD"}}, r));
  // An object as jsonb prints it: keys by length then bytes, a repeated key's last value.
  EXPECT_TRUE(matches({{"attrs.obj", R"({"b": 3, "aa": 1})"}}, r));
  EXPECT_TRUE(matches({{"attrs.tags", R"(["a", "b", {"k": "v"}])"}}, r));
  EXPECT_TRUE(matches({{"attrs.region", "eu"}, {"attrs.http.status", "500"}}, r));
  EXPECT_FALSE(matches({{"attrs.region", "eu"}, {"attrs.http.status", "501"}}, r));
}

TEST(TailJsonPath, NumbersAsNumericPrintsThem) {
  EXPECT_EQ(numeric_text("0"), "0");
  EXPECT_EQ(numeric_text("-0"), "0");
  EXPECT_EQ(numeric_text("-0.0"), "0.0");
  EXPECT_EQ(numeric_text("12"), "12");
  EXPECT_EQ(numeric_text("-12.340"), "-12.340");
  EXPECT_EQ(numeric_text("1e2"), "100");
  EXPECT_EQ(numeric_text("1.5E+1"), "15");
  EXPECT_EQ(numeric_text("1.25e1"), "12.5");
  EXPECT_EQ(numeric_text("1e-2"), "0.01");
  EXPECT_EQ(numeric_text("12.5e-3"), "0.0125");
  EXPECT_EQ(numeric_text("1.0e1"), "10");
  EXPECT_FALSE(numeric_text("1.").has_value());
  EXPECT_FALSE(numeric_text("abc").has_value());
  EXPECT_FALSE(json_path_text("{\"a\":", {"a"}).has_value());
  EXPECT_FALSE(json_path_text("not json", {"a"}).has_value());
  EXPECT_EQ(json_path_text(R"({"a":{"b":[1,2]}})", {"a"}), R"({"b": [1, 2]})");
}

TEST(TailFilterMessage, ParsesAFilterChange) {
  auto f = parse_filter_message(
      R"({"filter":{"service":"api","min_level":"warn","attrs.region":"eu","attrs.code":500,)"
      R"("level":["ERROR","FATAL"]}})",
      7, 0);
  ASSERT_TRUE(f.ok()) << f.error().message;
  EXPECT_EQ(f->tenant, 7);
  EXPECT_EQ(f->service, "api");
  EXPECT_EQ(f->levels, (std::vector<Level>{Level::error, Level::fatal}));
  ASSERT_EQ(f->attrs.size(), 2U);
  EXPECT_EQ(f->attrs[1].second, "500");
  EXPECT_TRUE(parse_filter_message(R"({"filter":{}})", 1, 0).ok());
}

TEST(TailFilterMessage, RefusesWithTheUsualErrors) {
  const auto code = [](std::string_view text) {
    auto f = parse_filter_message(text, 1, 0);
    return f ? std::string("ok") : std::string(core::to_string(f.error().code));
  };
  EXPECT_EQ(code("not json"), "malformed");
  EXPECT_EQ(code("[]"), "malformed");
  EXPECT_EQ(code("{}"), "malformed");
  EXPECT_EQ(code(R"({"filter":1})"), "malformed");
  EXPECT_EQ(code(R"({"filter":{},"x":1})"), "malformed");
  EXPECT_EQ(code(R"({"filter":{"level":"LOUD"}})"), core::to_string(core::Errc::invalid_field));
  EXPECT_EQ(code(R"({"filter":{"from":"1h"}})"), core::to_string(core::Errc::invalid_field));
  EXPECT_EQ(code(R"({"filter":{"service":{"a":1}}})"), core::to_string(core::Errc::invalid_field));
  EXPECT_EQ(code(R"({"filter":{"service":null}})"), core::to_string(core::Errc::invalid_field));
}

// A sink with a queue of `room` messages the test takes from by hand.
class FakeSink : public Sink {
 public:
  explicit FakeSink(std::size_t room) : room_(room) {}
  Offer record(std::string_view json) override { return take(std::string(json)); }
  Offer dropped(const tail::Drops& drops) override { return take(tail::drops_json(drops)); }
  bool tick(std::chrono::steady_clock::time_point) override { return !gone; }
  void close() override { closed = true; }

  std::vector<std::string> drain() {
    std::vector<std::string> out(queue.begin(), queue.end());
    queue.clear();
    return out;
  }
  std::deque<std::string> queue;
  bool gone = false;
  bool closed = false;

 private:
  Offer take(std::string message) {
    if (gone) return Offer::closed;
    if (queue.size() >= room_) return Offer::full;
    queue.push_back(std::move(message));
    return Offer::taken;
  }
  std::size_t room_;
};

struct HubTest : ::testing::Test {
  metrics::Metrics metrics;
  int renders = 0;
  Hub hub{HubOptions{},
          [this](const model::Batch&, const model::Record& r) {
            ++renders;
            return r.message;
          },
          metrics};

  static model::Batch batch(model::TenantId tenant, std::vector<model::Record> records) {
    model::Batch b;
    b.tenant_id = tenant;
    b.records = std::move(records);
    return b;
  }
  Hub::Id subscribe(const query::Params& params, std::shared_ptr<Sink> sink,
                    model::TenantId tenant = 1) {
    auto id = hub.subscribe(Matcher::compile(parse(params, tenant)), std::move(sink), "ws");
    EXPECT_TRUE(id.ok());
    return id ? *id : 0;
  }
};

TEST_F(HubTest, FansOutByFilterAndTenantRenderingEachRecordOnce) {
  auto all = std::make_shared<FakeSink>(100);
  auto errors = std::make_shared<FakeSink>(100);
  auto other_tenant = std::make_shared<FakeSink>(100);
  subscribe({}, all);
  subscribe({{"level", "ERROR"}}, errors);
  subscribe({}, other_tenant, 2);
  std::vector<std::pair<model::TenantId, std::string>> raw;
  hub.subscribe_raw([&raw](const model::Batch& b, const model::Record& r) {
    raw.emplace_back(b.tenant_id, r.message);
  });
  hub.deliver(batch(1, {record("a"), record("b", Level::error)}));
  hub.deliver(batch(2, {record("c")}));
  EXPECT_EQ(all->drain(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(errors->drain(), (std::vector<std::string>{"b"}));
  EXPECT_EQ(other_tenant->drain(), (std::vector<std::string>{"c"}));
  EXPECT_EQ(renders, 3);  // b matched twice, rendered once
  EXPECT_EQ(raw.size(), 3U);
  EXPECT_EQ(raw[2].first, 2);
}

TEST_F(HubTest, AFullSinkDropsCountsAndIsToldBeforeTheNextRecord) {
  auto slow = std::make_shared<FakeSink>(2);
  auto fast = std::make_shared<FakeSink>(1000);
  subscribe({}, slow);
  subscribe({}, fast);
  std::vector<model::Record> records;
  for (int i = 0; i < 10; ++i)
    records.push_back(record(std::to_string(i)));
  hub.deliver(batch(1, records));
  EXPECT_EQ(fast->drain().size(), 10U);  // the slow one slowed nobody
  EXPECT_EQ(slow->drain(), (std::vector<std::string>{"0", "1"}));
  // Room again: the notice first, then records.
  hub.deliver(batch(1, {record("10")}));
  EXPECT_EQ(slow->drain(), (std::vector<std::string>{R"({"dropped":8})", "10"}));
  // A notice waiting with no new record goes out at the next tick.
  hub.deliver(batch(1, {record("11"), record("12"), record("13")}));
  EXPECT_EQ(slow->drain(), (std::vector<std::string>{"11", "12"}));
  hub.tick(std::chrono::steady_clock::now());
  EXPECT_EQ(slow->drain(), (std::vector<std::string>{R"({"dropped":1})"}));
  const std::string text = metrics.render();
  EXPECT_NE(text.find("tail_messages_dropped_total 9"), std::string::npos) << text;
  EXPECT_NE(text.find("tail_subscribers{transport=\"ws\"} 2"), std::string::npos);
}

TEST_F(HubTest, EntriesTheReaderMissedAreToldToEverySubscriberInItsNextNotice) {
  auto slow = std::make_shared<FakeSink>(1);
  auto idle = std::make_shared<FakeSink>(100);
  subscribe({}, slow);
  subscribe({{"service", "nobody"}}, idle);
  EXPECT_EQ(hub.last_gap(), 0);
  hub.deliver(batch(1, {record("a"), record("b")}));  // slow takes a, drops b
  hub.missed(3);
  EXPECT_GT(hub.last_gap(), 0);
  EXPECT_EQ(slow->drain(), (std::vector<std::string>{"a"}));
  hub.tick(std::chrono::steady_clock::now());
  EXPECT_EQ(slow->drain(), (std::vector<std::string>{R"({"dropped":1,"missed_batches":3})"}));
  EXPECT_EQ(idle->drain(), (std::vector<std::string>{R"({"dropped":0,"missed_batches":3})"}));
  hub.tick(std::chrono::steady_clock::now());  // told once
  EXPECT_TRUE(idle->drain().empty());
  EXPECT_NE(metrics.render().find("tail_entries_missed_total 3"), std::string::npos);
}

TEST_F(HubTest, FilterChangesClosedSinksLimitsAndStop) {
  auto sink = std::make_shared<FakeSink>(100);
  const auto id = subscribe({{"service", "api"}}, sink);
  hub.deliver(batch(1, {record("a")}));
  ASSERT_TRUE(hub.set_filter(id, Matcher::compile(parse({{"service", "db"}}))));
  hub.deliver(batch(1, {record("b")}));
  EXPECT_EQ(sink->drain(), (std::vector<std::string>{"a"}));

  // A sink whose client went is forgotten at the next tick and closed.
  sink->gone = true;
  hub.deliver(batch(1, {record("c")}));
  hub.tick(std::chrono::steady_clock::now());
  EXPECT_EQ(hub.subscribers(), 0U);
  EXPECT_TRUE(sink->closed);
  EXPECT_FALSE(hub.set_filter(id, Matcher::compile(parse({}))));

  HubOptions one;
  one.max_subscribers = 1;
  Hub small(
      one, [](const auto&, const auto&) { return std::string(); }, metrics);
  ASSERT_TRUE(small.subscribe(Matcher::compile(parse({})), std::make_shared<FakeSink>(1), "sse"));
  auto refused = small.subscribe(Matcher::compile(parse({})), std::make_shared<FakeSink>(1), "sse");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, core::Errc::unavailable);

  auto open = std::make_shared<FakeSink>(10);
  subscribe({}, open);
  hub.stop();
  EXPECT_TRUE(open->closed);
  EXPECT_FALSE(hub.subscribe(Matcher::compile(parse({})), open, "ws").ok());
}

}  // namespace
}  // namespace logpipe::tail
