// OTLP logs: what the OpenTelemetry JS exporters send (JSON and protobuf), AnyValue kinds,
// severities, times, ids, partial rejection, bad input, and the response encodings.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <fstream>
#include <sstream>

#include "ingest/formats/otlp.hpp"
#include "ingest/protobuf.hpp"

namespace logpipe::ingest {
namespace {

using model::Level;
namespace pb = protobuf;

constexpr core::Micros kReceived = 1'731'580'200'000'000;  // 2024-11-14T10:30:00Z

DecodeOptions options() {
  DecodeOptions o;
  o.received_at = kReceived;
  return o;
}

std::string read_file(const std::string& name) {
  std::ifstream in(std::string(LOGPIPE_TEST_DATA) + "/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Decoded decode(core::Result<Decoded> r) {
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? std::move(r).value() : Decoded{};
}

// Recorded from tests/clients/otel_logs.js: 5 records, DEBUG, INFO, WARN, ERROR, FATAL.
void expect_js_exporter_records(const Decoded& d) {
  ASSERT_EQ(d.records.size(), 5u);
  EXPECT_EQ(d.rejected_items, 0u);
  const Level levels[] = {Level::debug, Level::info, Level::warning, Level::error, Level::fatal};
  for (std::size_t i = 0; i < 5; ++i) {
    const auto& r = d.records[i];
    EXPECT_EQ(r.service, "checkout");
    EXPECT_EQ(r.app, "shop");
    EXPECT_EQ(r.host, "web-1");
    EXPECT_EQ(r.device_id, "device-s1");
    EXPECT_EQ(r.level, levels[i]);
    EXPECT_EQ(r.message, "order " + std::to_string(i) + " of run s1 processed");
    EXPECT_GT(r.ts, 1'700'000'000'000'000);
    EXPECT_EQ(r.attrs_json,
              R"({"deployment.environment":"test","otel.scope.name":"checkout-logger",)"
              R"("otel.scope.version":"1.2.3","order.id":)" +
                  std::to_string(i) + R"(,"run":"s1","amount":12.5,"paid":)" +
                  (i % 2 == 0 ? "true" : "false") +
                  R"(,"items":["a","b"],"trace_id":"5b8efff798038103d269b633813fc60c",)"
                  R"("span_id":"100000000000000)" +
                  std::to_string(i) + R"("})");
  }
}

TEST(OtlpJson, WhatTheJsExporterSends) {
  expect_js_exporter_records(
      decode(otlp::decode_json(read_file("otlp_js_exporter.json"), options())));
}

TEST(OtlpProtobuf, WhatTheJsProtoExporterSends) {
  expect_js_exporter_records(
      decode(otlp::decode_protobuf(read_file("otlp_js_exporter.pb"), options())));
}

TEST(OtlpJson, ValueKindsTimesAndSpellings) {
  auto d = decode(otlp::decode_json(R"({"resource_logs":[{"resource":{"attributes":[
        {"key":"service.name","value":{"intValue":"7"}}]},
      "scope_logs":[{"log_records":[
        {"time_unix_nano":1700000000000000000,"severity_number":"SEVERITY_NUMBER_WARN2",
         "body":{"kvlistValue":{"values":[{"key":"k","value":{"arrayValue":{"values":[
            {"intValue":"-9007199254740993"},{"doubleValue":1.5},{"bytesValue":"AQI="},{}]}}}]}},
         "attributes":[{"key":"big","value":{"intValue":"18446744073709551615"}}]},
        {"observedTimeUnixNano":"1700000001000000000","severityText":"notice",
         "traceId":"00000000000000000000000000000000","spanId":"ABCDEF0123456789",
         "eventName":"user.login"},
        {"severityNumber":99,"severityText":"chatty","body":{"stringValue":""}}]}]}]})",
                                    options()));
  ASSERT_EQ(d.records.size(), 3u);
  const auto& a = d.records[0];
  EXPECT_EQ(a.service, "");  // not a string: kept in attrs
  EXPECT_EQ(a.ts, 1'700'000'000'000'000);
  EXPECT_EQ(a.level, Level::warning);
  EXPECT_EQ(a.message, R"({"k":[-9007199254740993,1.5,"AQI=",null]})");
  EXPECT_EQ(a.attrs_json, R"({"service.name":7,"big":"18446744073709551615"})");
  const auto& b = d.records[1];
  EXPECT_EQ(b.ts, 1'700'000'001'000'000);
  EXPECT_EQ(b.level, Level::notice);
  EXPECT_EQ(b.message, "user.login");  // no body: the event name
  EXPECT_EQ(b.attrs_json,
            R"({"service.name":7,"event.name":"user.login","span_id":"abcdef0123456789"})");
  const auto& c = d.records[2];
  EXPECT_EQ(c.ts, kReceived);
  EXPECT_EQ(c.level, Level::info);
  EXPECT_EQ(c.message, "");
  EXPECT_EQ(c.attrs_json, R"({"service.name":7,"severity_text":"chatty"})");
}

TEST(OtlpJson, ShapesThatAreNotARequestAreMalformed) {
  for (const char* body : {"[]", R"({"resourceLogs":{}})", R"({"resourceLogs":[1]})",
                           R"({"resourceLogs":[{"scopeLogs":{}}]})",
                           R"({"resourceLogs":[{"scopeLogs":[{"logRecords":3}]}]})", "{"}) {
    auto r = otlp::decode_json(body, options());
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, core::Errc::malformed) << body;
  }
  auto empty = otlp::decode_json("{}", options());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
}

// Protobuf builders, as opentelemetry-proto lays the messages out.
std::string any_string(std::string_view s) {
  std::string v;
  pb::put_len(v, 1, s);
  return v;
}
std::string key_value(std::string_view key, const std::string& any) {
  std::string kv;
  pb::put_len(kv, 1, key);
  pb::put_len(kv, 2, any);
  return kv;
}
std::string request(const std::vector<std::string>& resource_attrs,
                    const std::vector<std::string>& logs) {
  std::string resource, scope_logs, resource_logs, req;
  for (const auto& kv : resource_attrs)
    pb::put_len(resource, 1, kv);
  std::string scope;
  pb::put_len(scope, 1, "my.scope");
  pb::put_len(scope_logs, 1, scope);
  for (const auto& log : logs)
    pb::put_len(scope_logs, 2, log);
  pb::put_len(resource_logs, 1, resource);
  pb::put_len(resource_logs, 2, scope_logs);
  pb::put_len(req, 1, resource_logs);
  return req;
}

TEST(OtlpProtobuf, ValueKindsNestedKvlistsAndIds) {
  std::string kvlist, inner, array, any_bytes, any_double, any_int, any_bool, body, log;
  pb::put_fixed64(any_double, 4, std::bit_cast<std::uint64_t>(std::nan("")));
  pb::put_varint_field(any_int, 3, static_cast<std::uint64_t>(std::int64_t{-5}));
  pb::put_varint_field(any_bool, 2, 1);
  pb::put_len(any_bytes, 7, std::string("\x00\xff\x10", 3));
  pb::put_len(array, 1, any_int);
  pb::put_len(array, 1, any_bool);
  pb::put_len(array, 1, "");  // an empty AnyValue
  std::string array_any;
  pb::put_len(array_any, 5, array);
  pb::put_len(inner, 1, key_value("deep", any_string("x\"y")));
  std::string inner_any;
  pb::put_len(inner_any, 6, inner);
  pb::put_len(kvlist, 1, key_value("arr", array_any));
  pb::put_len(kvlist, 1, key_value("obj", inner_any));
  pb::put_len(kvlist, 1, key_value("nan", any_double));
  pb::put_len(kvlist, 1, key_value("raw", any_bytes));
  pb::put_len(body, 6, kvlist);
  pb::put_fixed64(log, 1, 1'700'000'000'123'456'789ULL);
  pb::put_varint_field(log, 2, 18);  // ERROR2
  pb::put_len(log, 5, body);
  pb::put_len(log, 6, key_value("user", any_string("ann")));
  pb::put_fixed32(log, 8, 1);
  pb::put_len(log, 9,
              std::string("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10", 16));
  pb::put_len(log, 10, std::string(8, '\0'));  // all zero: unset
  pb::put_varint_field(log, 99, 1);            // unknown
  const std::string req =
      request({key_value("service.name", any_string("svc")),
               key_value("host.name", any_string("h")), key_value("k8s.pod.name", any_string("p"))},
              {log});
  auto d = decode(otlp::decode_protobuf(req, options()));
  ASSERT_EQ(d.records.size(), 1u);
  const auto& r = d.records[0];
  EXPECT_EQ(r.service, "svc");
  EXPECT_EQ(r.host, "h");
  EXPECT_EQ(r.level, Level::error);
  EXPECT_EQ(r.ts, 1'700'000'000'123'456);
  EXPECT_EQ(r.message, R"({"arr":[-5,true,null],"obj":{"deep":"x\"y"},"nan":"NaN","raw":"AP8Q"})");
  EXPECT_EQ(r.attrs_json, R"({"k8s.pod.name":"p","otel.scope.name":"my.scope","user":"ann",)"
                          R"("trace_id":"0102030405060708090a0b0c0d0e0f10"})");
}

TEST(OtlpProtobuf, NestingBeyondTheDepthLimitIsMalformed) {
  std::string value = any_string("leaf");
  for (int i = 0; i < 80; ++i) {
    std::string list, any;
    pb::put_len(list, 1, key_value("k", value));
    pb::put_len(any, 6, list);
    value = any;
  }
  std::string log;
  pb::put_len(log, 5, value);
  auto r = otlp::decode_protobuf(request({}, {log}), options());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::malformed);
}

TEST(OtlpProtobuf, RecordsThatCannotBeStoredArePartiallyRejected) {
  DecodeOptions o = options();
  o.max_message_bytes = 8;
  std::string ok, too_long, bad_utf8;
  pb::put_len(ok, 5, any_string("fine"));
  pb::put_len(too_long, 5, any_string("much too long"));
  pb::put_len(bad_utf8, 5, any_string("\xC3\x28"));
  auto d = decode(otlp::decode_protobuf(request({}, {ok, too_long, ok, bad_utf8}), o));
  EXPECT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.rejected_items, 2u);
  ASSERT_EQ(d.problems.size(), 2u);
  EXPECT_EQ(d.problems[0].index, 1);
  EXPECT_EQ(d.problems[1].index, 3);
  EXPECT_EQ(d.problems[0].field, "body");

  o.max_name_bytes = 3;
  auto all = decode(otlp::decode_protobuf(
      request({key_value("service.name", any_string("toolong"))}, {ok, ok}), o));
  EXPECT_EQ(all.records.size(), 0u);
  EXPECT_EQ(all.rejected_items, 2u);
}

TEST(OtlpProtobuf, TruncatedAndCorruptBodiesAreMalformed) {
  std::string log;
  pb::put_len(log, 5, any_string("hello"));
  pb::put_len(log, 6, key_value("a", any_string("b")));
  const std::string good = request({key_value("service.name", any_string("s"))}, {log, log});
  for (std::size_t n = 1; n < good.size(); ++n) {
    auto r = otlp::decode_protobuf(good.substr(0, n), options());
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, core::Errc::malformed);
    }
  }
  auto group = otlp::decode_protobuf(std::string("\x0a\x01\x0b", 3), options());
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().code, core::Errc::malformed);
}

TEST(OtlpProtobuf, TooManyRecordsIsTooLarge) {
  DecodeOptions o = options();
  o.max_records = 2;
  auto r = otlp::decode_protobuf(request({}, {"", "", ""}), o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::too_large);
}

TEST(OtlpSeverity, NumbersMapToLevels) {
  EXPECT_FALSE(otlp::level_from_severity_number(0));
  EXPECT_EQ(otlp::level_from_severity_number(1), Level::trace);
  EXPECT_EQ(otlp::level_from_severity_number(4), Level::trace);
  EXPECT_EQ(otlp::level_from_severity_number(5), Level::debug);
  EXPECT_EQ(otlp::level_from_severity_number(12), Level::info);
  EXPECT_EQ(otlp::level_from_severity_number(13), Level::warning);
  EXPECT_EQ(otlp::level_from_severity_number(20), Level::error);
  EXPECT_EQ(otlp::level_from_severity_number(24), Level::fatal);
  EXPECT_FALSE(otlp::level_from_severity_number(25));
  EXPECT_FALSE(otlp::level_from_severity_number(-1));
}

TEST(OtlpResponse, EncodingsOfTheAnswer) {
  EXPECT_EQ(otlp::response_json(0, ""), "{}");
  EXPECT_EQ(otlp::response_json(2, "why"),
            R"({"partialSuccess":{"rejectedLogRecords":2,"errorMessage":"why"}})");
  EXPECT_EQ(otlp::response_protobuf(0, ""), "");
  // partial_success=1 { rejected_log_records=1: 2, error_message=2: "why" }
  EXPECT_EQ(otlp::response_protobuf(2, "why"), std::string("\x0a\x07\x08\x02\x12\x03why", 9));
  EXPECT_EQ(otlp::status_protobuf(3, "bad"), std::string("\x08\x03\x12\x03"
                                                         "bad",
                                                         7));
}

}  // namespace
}  // namespace logpipe::ingest
