// The es_bulk and splunk_hec formats on what real senders send: the Elasticsearch JS client's
// helpers.bulk, pino-elasticsearch (plain and ECS), Fluent Bit, Vector and Filebeat bulk bodies,
// and HEC batches from Vector, the OpenTelemetry Collector and the Splunk logging libraries.
#include <gtest/gtest.h>

#include "ingest/formats/es_bulk.hpp"
#include "ingest/formats/splunk_hec.hpp"

namespace logpipe::ingest {
namespace {

using model::Level;

constexpr core::Micros kReceived = 1'731'580'200'000'000;  // 2024-11-14T10:30:00Z

DecodeOptions options() {
  DecodeOptions o;
  o.received_at = kReceived;
  return o;
}

BulkRequest bulk(std::string_view body, std::string_view index = {}, DecodeOptions o = options()) {
  auto r = decode_es_bulk_request(body, index, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : BulkRequest{};
}

core::Micros at(const char* rfc3339) {
  return *core::parse_rfc3339(rfc3339);
}

TEST(EsBulk, ElasticsearchClientHelpersBulk) {
  const auto r = bulk(
      "{\"index\":{\"_index\":\"shop\"}}\n"
      "{\"@timestamp\":\"2024-01-15T12:00:00.007Z\",\"message\":\"order 7 placed\",\"log\":{"
      "\"level\":\"warn\",\"logger\":\"orders\"},\"host\":{\"name\":\"web-1\"},\"service\":{"
      "\"name\":\"checkout\",\"version\":\"1.4.2\"},\"seq\":7,\"user\":{\"id\":\"u7\"}}\n"
      "{\"create\":{\"_index\":\"shop\",\"_id\":\"abc\"}}\n"
      "{\"@timestamp\":\"2024-01-15T12:00:00.008Z\",\"message\":\"order 8 placed\"}\n");
  ASSERT_EQ(r.items.size(), 2u);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.items[0].action, "index");
  EXPECT_EQ(r.items[0].status, 201);
  EXPECT_EQ(r.items[1].action, "create");
  EXPECT_EQ(r.items[1].id, "abc");
  const auto& a = r.records[0];
  EXPECT_EQ(a.ts, at("2024-01-15T12:00:00.007Z"));
  EXPECT_EQ(a.message, "order 7 placed");
  EXPECT_EQ(a.level, Level::warning);
  EXPECT_EQ(a.host, "web-1");
  EXPECT_EQ(a.service, "checkout");
  EXPECT_EQ(a.app, "shop");
  EXPECT_EQ(
      a.attrs_json,
      R"({"log":{"logger":"orders"},"service":{"version":"1.4.2"},"seq":7,"user":{"id":"u7"}})");
  EXPECT_EQ(r.records[1].level, Level::info);
  EXPECT_EQ(r.records[1].attrs_json, "{}");
}

TEST(EsBulk, PinoElasticsearchPlainAndEcs) {
  // pino's own fields (pino-elasticsearch turns time into ISO text) and @elastic/ecs-pino-format's
  // dotted ECS keys.
  const auto r = bulk(
      "{\"index\":{\"_index\":\"pino\"}}\n"
      "{\"level\":30,\"time\":\"2024-01-15T12:00:00.000Z\",\"pid\":4242,\"hostname\":\"box\","
      "\"msg\":\"hello\"}\n"
      "{\"index\":{\"_index\":\"pino\"}}\n"
      "{\"level\":50,\"time\":\"2024-01-15T12:00:01.000Z\",\"pid\":4242,\"hostname\":\"box\","
      "\"msg\":\"boom\",\"err\":{\"type\":\"Error\",\"stack\":\"Error: boom\\n    at x\"}}\n"
      "{\"index\":{\"_index\":\"pino-ecs\"}}\n"
      "{\"log.level\":\"error\",\"@timestamp\":\"2024-01-15T12:00:02.000Z\",\"process.pid\":4242,"
      "\"host.hostname\":\"box\",\"ecs.version\":\"8.10.0\",\"message\":\"ecs\"}\n"
      "{\"index\":{\"_index\":\"pino\"}}\n"
      "{\"level\":60,\"msg\":\"fatal\"}\n"
      "{\"index\":{\"_index\":\"pino\"}}\n"
      "{\"level\":10,\"msg\":\"trace\"}\n");
  ASSERT_EQ(r.records.size(), 5u);
  EXPECT_EQ(r.records[0].level, Level::info);
  EXPECT_EQ(r.records[0].message, "hello");
  EXPECT_EQ(r.records[0].host, "box");
  EXPECT_EQ(r.records[0].ts, at("2024-01-15T12:00:00Z"));
  EXPECT_EQ(r.records[0].attrs_json, R"({"pid":4242})");
  EXPECT_EQ(r.records[1].level, Level::error);
  EXPECT_EQ(r.records[1].attrs_json,
            R"({"pid":4242,"err":{"type":"Error","stack":"Error: boom\n    at x"}})");
  EXPECT_EQ(r.records[2].level, Level::error);
  EXPECT_EQ(r.records[2].host, "box");
  EXPECT_EQ(r.records[2].app, "pino-ecs");
  EXPECT_EQ(r.records[2].attrs_json, R"({"process.pid":4242,"ecs.version":"8.10.0"})");
  EXPECT_EQ(r.records[3].level, Level::fatal);
  EXPECT_EQ(r.records[3].ts, kReceived);  // no time: the receive time
  EXPECT_EQ(r.records[4].level, Level::trace);
}

TEST(EsBulk, FluentBitVectorAndFilebeatBodies) {
  const auto r = bulk(
      // Fluent Bit, es output (Suppress_Type_Name Off) of a tail input: the line is "log".
      "{\"create\":{\"_index\":\"fluent-bit\",\"_type\":\"_doc\"}}\r\n"
      "{\"@timestamp\":\"2024-01-15T12:00:00.123Z\",\"log\":\"GET /cart 200\",\"stream\":"
      "\"stdout\",\"kubernetes\":{\"pod_name\":\"web-1\",\"namespace_name\":\"shop\"}}\r\n"
      "\r\n"
      // Vector's elasticsearch sink: host is a string, timestamp with nanoseconds.
      "{\"index\":{\"_index\":\"vector-2024.01.15\"}}\n"
      "{\"host\":\"web-2\",\"message\":\"GET / 200\",\"source_type\":\"file\",\"timestamp\":"
      "\"2024-01-15T12:00:00.123456789Z\",\"file\":\"/var/log/nginx/access.log\"}\n"
      // Filebeat 8 (data stream, create): host object with more than the name.
      "{\"create\":{\"_index\":\"filebeat-8.11.0\"}}\n"
      "{\"@timestamp\":\"2024-01-15T12:00:01.000Z\",\"message\":\"Started Session 3\",\"log\":{"
      "\"offset\":123,\"file\":{\"path\":\"/var/log/syslog\"}},\"input\":{\"type\":\"log\"},"
      "\"host\":{\"name\":\"web-3\",\"os\":{\"family\":\"debian\"}},\"ecs\":{\"version\":"
      "\"8.0.0\"}}");
  ASSERT_EQ(r.records.size(), 3u);
  const auto& fb = r.records[0];
  EXPECT_EQ(fb.message, "GET /cart 200");
  EXPECT_EQ(fb.app, "fluent-bit");
  EXPECT_EQ(fb.ts, at("2024-01-15T12:00:00.123Z"));
  EXPECT_EQ(fb.attrs_json,
            R"({"stream":"stdout","kubernetes":{"pod_name":"web-1","namespace_name":"shop"}})");
  const auto& vector = r.records[1];
  EXPECT_EQ(vector.host, "web-2");
  EXPECT_EQ(vector.ts, at("2024-01-15T12:00:00.123456Z"));
  EXPECT_EQ(vector.app, "vector-2024.01.15");
  EXPECT_EQ(vector.attrs_json, R"({"source_type":"file","file":"/var/log/nginx/access.log"})");
  const auto& filebeat = r.records[2];
  EXPECT_EQ(filebeat.host, "web-3");
  EXPECT_EQ(filebeat.level, Level::info);
  EXPECT_EQ(filebeat.attrs_json,
            R"({"log":{"offset":123,"file":{"path":"/var/log/syslog"}},"input":{"type":"log"},)"
            R"("host":{"os":{"family":"debian"}},"ecs":{"version":"8.0.0"}})");
}

TEST(EsBulk, BadItemsFailAloneWithElasticsearchErrors) {
  const std::string long_host(300, 'h');
  const auto r = bulk(
      "{\"index\":{}}\n{\"message\":\"first\"}\n"               // 0: path's index
      "{\"index\":{\"_index\":\"x\"}}\n{not json\n"             // 1
      "{\"index\":{\"_index\":\"x\"}}\n[1,2]\n"                 // 2
      "{\"index\":{\"_index\":\"x\"}}\n{\"level\":\"info\"}\n"  // 3: no message
      "{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"m\",\"@timestamp\":\"noon\"}\n"  // 4
      "{\"delete\":{\"_index\":\"x\",\"_id\":\"1\"}}\n"                                // 5
      "{\"update\":{\"_index\":\"x\",\"_id\":2}}\n{\"doc\":{\"a\":1}}\n"               // 6
      "{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"m\",\"host\":\"" +
          long_host +
          "\"}\n"                                                                         // 7
          "{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"\"}\n"                          // 8
          "{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"last\",\"level\":\"loud\"}\n",  // 9
      "default-index");
  ASSERT_EQ(r.items.size(), 10u);
  std::vector<int> statuses;
  for (const auto& item : r.items)
    statuses.push_back(item.status);
  EXPECT_EQ(statuses, (std::vector<int>{201, 400, 400, 400, 400, 400, 400, 400, 400, 201}));
  EXPECT_EQ(r.items[0].index, "default-index");
  EXPECT_EQ(r.items[1].error_type, "mapper_parsing_exception");
  EXPECT_EQ(r.items[3].error_reason, "no message: the document needs message, msg or log");
  EXPECT_NE(r.items[4].error_reason.find("[@timestamp]"), std::string::npos);
  EXPECT_EQ(r.items[5].action, "delete");
  EXPECT_EQ(r.items[5].error_type, "illegal_argument_exception");
  EXPECT_EQ(r.items[6].id, "2");
  EXPECT_NE(r.items[7].error_reason.find("[host]"), std::string::npos);
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].app, "default-index");
  // An unknown level keeps INFO and is kept in attrs.
  EXPECT_EQ(r.records[1].level, Level::info);
  EXPECT_EQ(r.records[1].attrs_json, R"({"level":"loud"})");

  // The generic decode: a problem per failed item, in order.
  auto decoded = decode_es_bulk("{\"index\":{\"_index\":\"x\"}}\n{}\n", options());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->rejected_items, 1u);
  EXPECT_EQ(decoded->problems.at(0).index, 0);
}

TEST(EsBulk, UnreadableActionsFailTheWholeRequest) {
  for (const std::string body :
       {"", "\n\n", "hello world", "[1,2]\n{}\n", "{\"index\":{}, \"create\":{}}\n{}\n",
        "{\"upsert\":{}}\n{}\n", "{\"index\":1}\n{}\n", "{\"index\":{\"_index\":\"x\"}}\n",
        "{\"index\":{\"_index\":\"x\"}}\n{\"message\":\"a\"}\nnot an action\n"}) {
    auto r = decode_es_bulk_request(body, "x", options());
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, core::Errc::malformed) << body;
  }
  auto o = options();
  o.max_records = 2;
  std::string body;
  for (int i = 0; i < 3; ++i)
    body += "{\"index\":{}}\n{\"message\":\"m\"}\n";
  auto r = decode_es_bulk_request(body, "x", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::too_large);
}

TEST(EsBulk, NumbersAndNestedNames) {
  const auto r = bulk(
      "{\"index\":{\"_index\":\"n\"}}\n"
      "{\"@timestamp\":1705320000123,\"message\":42,\"level\":4,\"host.name\":\"h\","
      "\"host\":\"ignored-less-specific\",\"service.name\":\"s\",\"device_id\":17}\n"
      "{\"index\":{\"_index\":\"n\"}}\n"
      "{\"timestamp\":1705320000.5,\"msg\":\"m\",\"severity\":\"3\",\"service\":\"plain\"}\n");
  ASSERT_EQ(r.records.size(), 2u);
  EXPECT_EQ(r.records[0].ts, at("2024-01-15T12:00:00.123Z"));
  EXPECT_EQ(r.records[0].message, "42");
  EXPECT_EQ(r.records[0].level, Level::warning);  // syslog 4
  EXPECT_EQ(r.records[0].host, "h");
  EXPECT_EQ(r.records[0].service, "s");
  EXPECT_EQ(r.records[0].device_id, "17");
  EXPECT_EQ(r.records[0].attrs_json, R"({"host":"ignored-less-specific"})");
  EXPECT_EQ(r.records[1].ts, at("2024-01-15T12:00:00.5Z"));
  EXPECT_EQ(r.records[1].level, Level::error);
  EXPECT_EQ(r.records[1].service, "plain");
}

HecBatch events(std::string_view body, const HecDefaults& defaults = {}) {
  auto r = decode_hec_events(body, defaults, options());
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : HecBatch{};
}

TEST(SplunkHec, VectorAndOtelCollectorBatches) {
  // Vector's splunk_hec_logs (json encoding) and the OpenTelemetry Collector's splunk_hec
  // exporter: objects back to back, with and without whitespace between them.
  const auto b = events(
      R"({"event":"GET /cart 200","fields":{"store":"north"},"host":"web-1","index":"retail",)"
      R"("source":"/var/log/nginx/access.log","sourcetype":"nginx","time":1705320000.25})"
      R"({"event":{"message":"payment failed","level":"error","order":42},"time":1705320001})"
      "\n\t "
      R"({"time":"1705320002.5","event":{"body":"no message field"},"host":"otel-host",)"
      R"("fields":{"otel.log.severity.number":9}})",
      {.host = "default-host", .source = "default-source", .sourcetype = "", .index = "default"});
  ASSERT_FALSE(b.problem) << b.problem->reason;
  ASSERT_EQ(b.records.size(), 3u);
  const auto& a = b.records[0];
  EXPECT_EQ(a.message, "GET /cart 200");
  EXPECT_EQ(a.ts, at("2024-01-15T12:00:00.25Z"));
  EXPECT_EQ(a.host, "web-1");
  EXPECT_EQ(a.service, "/var/log/nginx/access.log");
  EXPECT_EQ(a.app, "retail");
  EXPECT_EQ(a.attrs_json, R"({"store":"north","sourcetype":"nginx"})");
  const auto& object_event = b.records[1];
  EXPECT_EQ(object_event.message, "payment failed");
  EXPECT_EQ(object_event.level, Level::error);
  EXPECT_EQ(object_event.host, "default-host");
  EXPECT_EQ(object_event.service, "default-source");
  EXPECT_EQ(object_event.app, "default");
  EXPECT_EQ(object_event.attrs_json, R"({"order":42})");
  const auto& no_message = b.records[2];
  EXPECT_EQ(no_message.message, R"({"body":"no message field"})");
  EXPECT_EQ(no_message.ts, at("2024-01-15T12:00:02.5Z"));
  EXPECT_EQ(no_message.attrs_json, R"({"otel.log.severity.number":9})");
}

TEST(SplunkHec, BadEventsRefuseTheBatchWithHecCodes) {
  struct Case {
    std::string body;
    HecCode code;
    std::size_t event;
  };
  for (const auto& c : std::vector<Case>{
           {"", HecCode::no_data, 0},
           {"  \n ", HecCode::no_data, 0},
           {"hello", HecCode::invalid_data_format, 0},
           {R"({"event":"a"} [1])", HecCode::invalid_data_format, 1},
           {R"({"event":"a"}{"event":"b")", HecCode::invalid_data_format, 1},
           {R"({"event":"a"}{"event":"b",})", HecCode::invalid_data_format, 1},
           {R"({"time":1})", HecCode::event_required, 0},
           {R"({"event":null})", HecCode::event_required, 0},
           {R"({"event":"a"}{"event":"  "})", HecCode::event_blank, 1},
           {R"({"event":"a","fields":[1]})", HecCode::indexed_fields, 0},
           {R"({"event":"a","time":"soon"})", HecCode::invalid_data_format, 0},
           {R"({"event":"a","host":7})", HecCode::invalid_data_format, 0},
           {R"({"event":{"message":"m","@timestamp":"noon"}})", HecCode::invalid_data_format, 0}}) {
    auto r = decode_hec_events(c.body, {}, options());
    ASSERT_TRUE(r.ok()) << c.body;
    ASSERT_TRUE(r->problem) << c.body;
    EXPECT_EQ(r->problem->code, c.code) << c.body;
    EXPECT_EQ(r->problem->event, c.event) << c.body;
  }
  // Braces inside strings do not end an event.
  const auto b = events(R"({"event":"} { \" }"}{"event":"x"})");
  ASSERT_EQ(b.records.size(), 2u);
  EXPECT_EQ(b.records[0].message, R"(} { " })");
}

TEST(SplunkHec, RawLines) {
  auto r = decode_hec_raw("first line\r\n\nsecond\tline\n",
                          {.host = "fw1", .source = "edge", .sourcetype = "syslog", .index = "net"},
                          options());
  ASSERT_TRUE(r.ok());
  ASSERT_FALSE(r->problem);
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->records[0].message, "first line");
  EXPECT_EQ(r->records[1].message, "second\tline");
  EXPECT_EQ(r->records[1].host, "fw1");
  EXPECT_EQ(r->records[1].service, "edge");
  EXPECT_EQ(r->records[1].app, "net");
  EXPECT_EQ(r->records[1].attrs_json, R"({"sourcetype":"syslog"})");
  EXPECT_EQ(r->records[1].ts, kReceived);
  auto empty = decode_hec_raw("\n\n", {}, options());
  ASSERT_TRUE(empty.ok());
  ASSERT_TRUE(empty->problem);
  EXPECT_EQ(empty->problem->code, HecCode::no_data);
}

TEST(ShipperFormats, RegisteredByName) {
  for (const char* name : {"es_bulk", "splunk_hec", "splunk_hec_raw"})
    EXPECT_NE(builtin_formats().find(name), nullptr) << name;
}

}  // namespace
}  // namespace logpipe::ingest
