// The Loki push format: JSON and snappy protobuf, labels, structured metadata, bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "ingest/formats/loki.hpp"
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

TEST(LokiJson, ThePushFromLokisDocs) {
  auto d = decode(loki::decode_json(
      R"({"streams":[{"stream":{"foo":"bar2"},"values":[["1570818238000000000","fizzbuzz"]]}]})",
      options()));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].message, "fizzbuzz");
  EXPECT_EQ(d.records[0].ts, 1'570'818'238'000'000);
  EXPECT_EQ(d.records[0].attrs_json, R"({"foo":"bar2"})");
  EXPECT_EQ(d.records[0].level, Level::info);
}

TEST(LokiJson, LabelsMapToFieldsAndMetadataToAttrs) {
  auto d = decode(loki::decode_json(R"({"streams":[{"stream":{
      "job":"varlogs","service_name":"billing","app":"api","hostname":"h1","instance":"i:9100",
      "level":"warn","env":"prod"},
    "values":[["1700000000123456789","{\"msg\":\"a JSON line\",\"level\":\"error\"}"],
              ["1700000000000000001","second",{"trace_id":"abc","env":"canary"}]]}]})",
                                    options()));
  ASSERT_EQ(d.records.size(), 2u);
  const auto& r = d.records[0];
  EXPECT_EQ(r.service, "billing");  // service_name wins over job
  EXPECT_EQ(r.app, "api");
  EXPECT_EQ(r.host, "h1");  // hostname wins over instance
  EXPECT_EQ(r.level, Level::warning);
  EXPECT_EQ(r.ts, 1'700'000'000'123'456);
  // The line is not parsed: its "level" does not override the stream's.
  EXPECT_EQ(r.message, R"({"msg":"a JSON line","level":"error"})");
  EXPECT_EQ(r.attrs_json, R"({"job":"varlogs","instance":"i:9100","env":"prod"})");
  // Structured metadata joins attrs and wins over a label of the same name.
  EXPECT_EQ(d.records[1].attrs_json,
            R"({"job":"varlogs","instance":"i:9100","trace_id":"abc","env":"canary"})");
}

TEST(LokiJson, AnUnknownLevelStaysALabel) {
  auto d = decode(loki::decode_json(
      R"({"streams":[{"stream":{"detected_level":"unknown"},"values":[["1","x"]]}]})", options()));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].level, Level::info);
  EXPECT_EQ(d.records[0].attrs_json, R"({"detected_level":"unknown"})");
}

TEST(LokiJson, BadEntriesAreRejectedByIndexTheOthersKept) {
  auto d = decode(loki::decode_json(R"({"streams":[
      {"stream":{"a":"b"},"values":[["1","ok"],["soon","bad ts"],["2",42],"x",["3","y",[1]]]},
      {"stream":{"n":1},"values":[["4","number label"]]},
      {"values":[["5","no labels"]]}]})",
                                    options()));
  EXPECT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.rejected_items, 5u);
  std::vector<long> indexes;
  for (const auto& p : d.problems)
    indexes.push_back(p.index);
  EXPECT_EQ(indexes, (std::vector<long>{1, 2, 3, 4, 5}));
  EXPECT_EQ(d.records[1].message, "no labels");
  EXPECT_EQ(d.records[1].attrs_json, "{}");
}

TEST(LokiJson, ShapesThatAreNotAPushAreMalformed) {
  for (const char* body : {"[]", R"({"streams":{}})", R"({"streams":[1]})",
                           R"({"streams":[{"values":{}}]})", "{", ""}) {
    auto r = loki::decode_json(body, options());
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_EQ(r.error().code, core::Errc::malformed) << body;
  }
  auto empty = loki::decode_json(R"({"streams":[]})", options());
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->records.empty());
}

TEST(LokiJson, TooManyEntriesIsTooLarge) {
  DecodeOptions o = options();
  o.max_records = 2;
  auto r = loki::decode_json(R"({"streams":[{"values":[["1","a"],["2","b"],["3","c"]]}]})", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, core::Errc::too_large);
}

TEST(LokiLabels, PrometheusSyntaxWithGoEscapes) {
  auto l = loki::parse_labels(
      R"({a="b", c="say \"hi\"\n", path="C:\\logs", x="\x41\u00e9\101", r=`raw\n`, s='q"', })");
  ASSERT_TRUE(l.ok()) << l.error().message;
  const loki::Labels expected{{"a", "b"},
                              {"c", "say \"hi\"\n"},
                              {"path", "C:\\logs"},
                              {"x",
                               "A\xC3\xA9"
                               "A"},
                              {"r", "raw\\n"},
                              {"s", "q\""}};
  EXPECT_EQ(*l, expected);
  auto empty = loki::parse_labels(" {} ");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  auto quoted_name = loki::parse_labels(R"({"service.name"="x"})");
  ASSERT_TRUE(quoted_name.ok());
  EXPECT_EQ((*quoted_name)[0].first, "service.name");
}

TEST(LokiLabels, BadSyntaxIsRefused) {
  for (const char* text :
       {"", "a=\"b\"", "{a=\"b\"", "{a=\"b}", "{a!=\"b\"}", "{a=b}", "{a=\"\\q\"}", "{a=\"\\x4\"}",
        "{a=\"\\ud800\"}", "{1a=\"b\"}", "{a=\"b\" c=\"d\"}", "{a=\"b\"} x", "{a=\"\\777\"}"}) {
    EXPECT_FALSE(loki::parse_labels(text).ok()) << text;
  }
}

// A PushRequest built field by field, as push.proto lays it out.
std::string entry(std::int64_t seconds, std::int32_t nanos, std::string_view line,
                  std::vector<std::pair<std::string, std::string>> metadata = {}) {
  std::string ts, e;
  pb::put_varint_field(ts, 1, static_cast<std::uint64_t>(seconds));
  pb::put_varint_field(ts, 2, static_cast<std::uint64_t>(static_cast<std::int64_t>(nanos)));
  pb::put_len(e, 1, ts);
  pb::put_len(e, 2, line);
  for (const auto& [name, value] : metadata) {
    std::string pair;
    pb::put_len(pair, 1, name);
    pb::put_len(pair, 2, value);
    pb::put_len(e, 3, pair);
  }
  return e;
}

std::string stream(std::string_view labels, const std::vector<std::string>& entries) {
  std::string s;
  pb::put_len(s, 1, labels);
  for (const auto& e : entries)
    pb::put_len(s, 2, e);
  pb::put_varint_field(s, 3, 12345);  // hash
  return s;
}

std::string push(const std::vector<std::string>& streams) {
  std::string p;
  for (const auto& s : streams)
    pb::put_len(p, 1, s);
  return p;
}

TEST(LokiProtobuf, ThePushOfProtobufjsAndSnappyjs) {
  // Recorded from tests/clients/loki_push.js (4 entries in 2 streams).
  std::string body;
  ASSERT_TRUE(decode_snappy(read_file("loki_push.snappy"), 1 << 20, body));
  auto d = decode(loki::decode_protobuf(body, options()));
  ASSERT_EQ(d.records.size(), 4u);
  const auto& a = d.records[0];
  EXPECT_EQ(a.service, "billing");
  EXPECT_EQ(a.host, "node-7");
  EXPECT_EQ(a.level, Level::warning);
  EXPECT_EQ(a.ts, 1'731'580'200'123'456);
  EXPECT_EQ(a.message, R"(stream 0 line 0 {"json":"kept as text"})");
  EXPECT_EQ(a.attrs_json, R"({"job":"varlogs","env":"prod","run":"s1"})");
  const auto& b = d.records[3];
  EXPECT_EQ(b.app, "api");
  EXPECT_EQ(b.host, "10.0.0.5:9100");
  EXPECT_EQ(b.level, Level::error);
  EXPECT_EQ(b.ts, 1'731'580'201'123'456);
  EXPECT_EQ(b.attrs_json, R"({"path":"C:\\logs\\app \"x\"","run":"s1","trace_id":"trace-1"})");
}

TEST(LokiProtobuf, FieldsInAnyOrderAndUnknownFieldsSkipped) {
  std::string s;
  pb::put_len(s, 2, entry(1700000000, 5000, "first"));
  pb::put_fixed32(s, 9, 7);                  // unknown fixed32
  pb::put_fixed64(s, 10, 7);                 // unknown fixed64
  pb::put_len(s, 11, "junk");                // unknown bytes
  pb::put_len(s, 1, R"({service="late"})");  // labels after the entries
  std::string p;
  pb::put_len(p, 1, s);
  pb::put_len(p, 2, "loki");  // PushRequest.format
  auto d = decode(loki::decode_protobuf(p, options()));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].service, "late");
  EXPECT_EQ(d.records[0].ts, 1'700'000'000'000'005);
}

TEST(LokiProtobuf, EntriesWithoutTimestampGetTheReceiveTime) {
  std::string e;
  pb::put_len(e, 2, "no ts");
  auto d = decode(loki::decode_protobuf(push({stream("{}", {e})}), options()));
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].ts, kReceived);
}

TEST(LokiProtobuf, BadEntriesAndStreamsAreRejectedByIndex) {
  const std::string body = push({
      stream(R"({a="b"})", {entry(1, 0, "ok"), entry(1, 0, "bad \xC3\x28 utf-8"),
                            entry(-62135596801, 0, "year 0"), entry(1, 1'000'000'000, "nanos")}),
      stream(R"({a="b)", {entry(1, 0, "bad labels"), entry(1, 0, "bad labels too")}),
      stream(R"({service_name="s"})", {entry(2, 0, "fine")}),
  });
  auto d = decode(loki::decode_protobuf(body, options()));
  EXPECT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.rejected_items, 5u);
  std::vector<std::pair<long, std::string>> problems;
  for (const auto& p : d.problems)
    problems.emplace_back(p.index, p.field);
  const std::vector<std::pair<long, std::string>> expected{
      {1, "line"}, {2, "timestamp"}, {3, "timestamp"}, {4, "labels"}, {5, "labels"}};
  EXPECT_EQ(problems, expected);
  EXPECT_EQ(d.records[1].service, "s");
}

TEST(LokiProtobuf, ALineOverTheLimitIsRejected) {
  DecodeOptions o = options();
  o.max_message_bytes = 10;
  auto d = decode(loki::decode_protobuf(
      push({stream("{}", {entry(1, 0, "0123456789"), entry(1, 0, "0123456789x")})}), o));
  EXPECT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.rejected_items, 1u);
}

TEST(LokiProtobuf, TruncatedOrCorruptBodiesAreMalformed) {
  const std::string good = push({stream(R"({a="b"})", {entry(1, 0, "line"), entry(2, 0, "two")})});
  for (std::size_t n = 1; n < good.size(); ++n) {
    auto r = loki::decode_protobuf(good.substr(0, n), options());
    // A cut at a field boundary of the outer message is a shorter valid push; any other cut
    // must be refused as malformed, never crash or read past the end.
    if (!r.ok()) {
      EXPECT_EQ(r.error().code, core::Errc::malformed);
    }
  }
  auto group = loki::decode_protobuf(std::string("\x0b", 1), options());
  ASSERT_FALSE(group.ok());
  EXPECT_EQ(group.error().code, core::Errc::malformed);
  std::string huge_length("\x0a");
  pb::put_varint(huge_length, ~std::uint64_t{0});
  auto past = loki::decode_protobuf(huge_length, options());
  ASSERT_FALSE(past.ok());
  EXPECT_EQ(past.error().code, core::Errc::malformed);
}

TEST(LokiFormat, RegisteredAndPicksTheEncodingByTheFirstByte) {
  const Format* f = builtin_formats().find("loki");
  ASSERT_NE(f, nullptr);
  EXPECT_TRUE(f->media_types.empty());
  auto json = f->decode(R"( {"streams":[{"values":[["1","j"]]}]})", options());
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->records.at(0).message, "j");
  auto proto = f->decode(push({stream("{}", {entry(1, 0, "p")})}), options());
  ASSERT_TRUE(proto.ok());
  EXPECT_EQ(proto->records.at(0).message, "p");
}

}  // namespace
}  // namespace logpipe::ingest
