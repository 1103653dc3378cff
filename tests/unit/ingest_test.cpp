#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <stdexcept>

#include "../common/compress.hpp"
#include "ingest/formats/json.hpp"
#include "ingest/formats/ndjson.hpp"

namespace logpipe::ingest {
namespace {

using model::Level;
using model::Record;

constexpr core::Micros kReceived = 1'731'580'200'000'000;  // 2024-11-14T10:30:00Z

DecodeOptions options() {
  DecodeOptions o;
  o.received_at = kReceived;
  return o;
}

Record one(std::string_view body, DecodeOptions o = options()) {
  auto r = parse_json(body, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok() || r->size() != 1) return {};
  return (*r)[0];
}

core::Error failure(const core::Result<std::vector<Record>>& r) {
  EXPECT_FALSE(r.ok());
  return r.ok() ? core::Error{} : r.error();
}

TEST(JsonInput, SeedFieldAliasesMapIn) {
  Record r =
      one(R"({"device_id":"device_001","log_level":"WARN","message":"hot","log_data":{"t":42}})");
  EXPECT_EQ(r.device_id, "device_001");
  EXPECT_EQ(r.level, Level::warning);
  EXPECT_EQ(r.message, "hot");
  EXPECT_EQ(r.attrs_json, R"({"t":42})");
  EXPECT_EQ(r.ts, kReceived);

  Record s = one(R"({"msg":"m","severity":2,"source":"svc","application":"a","hostname":"h",)"
                 R"("metadata":{"k":"v"},"@timestamp":"2024-11-14T12:30:00+02:00"})");
  EXPECT_EQ(s.message, "m");
  EXPECT_EQ(s.level, Level::critical);
  EXPECT_EQ(s.service, "svc");
  EXPECT_EQ(s.app, "a");
  EXPECT_EQ(s.host, "h");
  EXPECT_EQ(s.attrs_json, R"({"k":"v"})");
  EXPECT_EQ(s.ts, kReceived);
}

TEST(JsonInput, UnicodeAndNestedAttrsKeptExactly) {
  Record r = one(
      R"({"message":"Température 42 °C — 警告 🔥 \"q\"","attrs":{"a":{"b":[1,2.5,null,true,"x"]},"e":{}}})");
  EXPECT_EQ(r.message, "Température 42 °C — 警告 🔥 \"q\"");
  EXPECT_EQ(r.attrs_json, R"({"a":{"b":[1,2.5,null,true,"x"]},"e":{}})");
}

TEST(JsonInput, UnknownFieldsMergeIntoAttrsExplicitWins) {
  Record r = one(R"({"message":"m","user":"bob","n":[1,2],"attrs":{"user":"alice"}})");
  EXPECT_EQ(r.attrs_json, R"({"user":"alice","n":[1,2]})");
  Record s = one(R"({"message":"m","tenant_id":99,"code":7})");
  EXPECT_EQ(s.attrs_json, R"({"code":7})") << "tenant_id comes from the API key, never the body";
}

TEST(JsonInput, TimestampForms) {
  EXPECT_EQ(one(R"({"message":"m","ts":1731580200})").ts, kReceived);
  EXPECT_EQ(one(R"({"message":"m","ts":1731580200123})").ts, kReceived + 123'000);
  EXPECT_EQ(one(R"({"message":"m","time":1731580200123456789})").ts, kReceived + 123'456);
  EXPECT_EQ(one(R"({"message":"m","timestamp":"2024-11-14T10:30:00.5Z"})").ts, kReceived + 500'000);
  EXPECT_EQ(one(R"({"message":"m","ts":null})").ts, kReceived);
  auto bad = failure(parse_json(R"({"message":"m","ts":"yesterday"})", options()));
  EXPECT_EQ(bad.code, core::Errc::invalid_field);
  auto huge = failure(parse_json(R"({"message":"m","ts":1e300})", options()));
  EXPECT_EQ(huge.code, core::Errc::invalid_field);
}

TEST(JsonInput, NumericDeviceIdBecomesText) {
  EXPECT_EQ(one(R"({"message":"m","device_id":1234})").device_id, "1234");
}

TEST(JsonInput, FieldErrorsNameIndexAndFieldAndKeepNothing) {
  auto e = failure(parse_json(
      R"([{"message":"ok"},{"message":42},{"level":"INFO"},{"message":"x","log_level":"LOUD"},)"
      R"({"message":"x","attrs":[1]},5,{"message":""},{"message":"x","service":{}}])",
      options()));
  EXPECT_EQ(e.code, core::Errc::invalid_field);
  std::vector<std::pair<long, std::string>> got;
  for (const auto& d : e.details)
    got.emplace_back(d.index, d.field);
  const std::vector<std::pair<long, std::string>> want{
      {1, "message"}, {2, "message"}, {3, "log_level"}, {4, "attrs"},
      {5, ""},        {6, "message"}, {7, "service"}};
  EXPECT_EQ(got, want);
}

TEST(JsonInput, RequiredDeviceId) {
  auto o = options();
  o.require_device_id = true;
  auto missing = failure(parse_json(R"({"message":"m"})", o));
  ASSERT_EQ(missing.details.size(), 1u);
  EXPECT_EQ(missing.details[0].field, "device_id");
  auto empty = failure(parse_json(R"({"message":"m","device_id":""})", o));
  ASSERT_EQ(empty.details.size(), 1u);
  EXPECT_EQ(empty.details[0].message, "must not be empty");
}

TEST(JsonInput, MalformedInvalidUtf8AndTooDeep) {
  for (const char* body : {"", "{", "[1,", "nope", "{\"a\":1}}"}) {
    EXPECT_EQ(failure(parse_json(body, options())).code, core::Errc::malformed) << body;
  }
  EXPECT_EQ(failure(parse_json("{\"message\":\"\xC3\x28\"}", options())).code,
            core::Errc::malformed);
  std::string deep = "{\"message\":\"m\",\"attrs\":";
  for (int i = 0; i < 100; ++i)
    deep += "[";
  for (int i = 0; i < 100; ++i)
    deep += "]";
  deep += "}";
  auto e = failure(parse_json(deep, options()));
  EXPECT_EQ(e.code, core::Errc::malformed);
  EXPECT_NE(e.message.find("deeper"), std::string::npos) << e.message;
  // max_depth levels exactly: the array, the record, attrs and one object in it are four.
  auto four = options();
  four.max_depth = 4;
  EXPECT_TRUE(parse_json(R"([{"message":"m","attrs":{"a":{"b":1}}}])", four));
  EXPECT_EQ(failure(parse_json(R"([{"message":"m","attrs":{"a":{"b":{"c":1}}}}])", four)).code,
            core::Errc::malformed);
}

TEST(JsonInput, BodyShapes) {
  EXPECT_EQ(failure(parse_json("[]", options())).code, core::Errc::invalid_field);
  EXPECT_EQ(failure(parse_json("\"text\"", options())).code, core::Errc::invalid_field);
  auto o = options();
  o.max_records = 2;
  EXPECT_EQ(failure(parse_json(R"([{"message":"a"},{"message":"b"},{"message":"c"}])", o)).code,
            core::Errc::too_large);
  auto two = parse_json(R"([{"message":"a"},{"message":"b"}])", o);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->size(), 2u);
}

TEST(NdjsonInput, LinesBlankLinesAndCrlf) {
  auto r = parse_ndjson("{\"message\":\"a\"}\r\n\n  \n{\"message\":\"b\",\"level\":\"error\"}",
                        options());
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[1].message, "b");
  EXPECT_EQ((*r)[1].level, Level::error);
}

TEST(NdjsonInput, ErrorsNameTheLineAndRecord) {
  auto bad = failure(parse_ndjson("{\"message\":\"a\"}\n\n{\"message\":", options()));
  EXPECT_EQ(bad.code, core::Errc::malformed);
  EXPECT_NE(bad.message.find("line 3"), std::string::npos) << bad.message;
  auto invalid = failure(parse_ndjson("{\"message\":\"a\"}\n\n{\"message\":1}\n", options()));
  EXPECT_EQ(invalid.code, core::Errc::invalid_field);
  ASSERT_EQ(invalid.details.size(), 1u);
  EXPECT_EQ(invalid.details[0].index, 1) << "index among non-blank lines";
  EXPECT_EQ(failure(parse_ndjson("\n\n", options())).code, core::Errc::invalid_field);
  auto o = options();
  o.max_records = 1;
  EXPECT_EQ(failure(parse_ndjson("{\"message\":\"a\"}\n{\"message\":\"b\"}", o)).code,
            core::Errc::too_large);
}

TEST(LogsEnvelope, Shapes) {
  auto ok = parse_logs_envelope(R"({"logs":[{"message":"a"},{"message":"b"}]})", options());
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  for (const char* body : {R"({"logs":[]})", R"({"logs":{}})", R"({"items":[]})", R"([])"}) {
    auto e = failure(parse_logs_envelope(body, options()));
    EXPECT_EQ(e.code, core::Errc::invalid_field) << body;
    ASSERT_FALSE(e.details.empty()) << body;
    EXPECT_EQ(e.details[0].field, "logs") << body;
  }
}

// ---- Format plugins ----

TEST(Formats, BuiltinsAreFoundByNameAndMediaType) {
  const auto& formats = builtin_formats();
  ASSERT_NE(formats.find("json"), nullptr);
  ASSERT_NE(formats.find("ndjson"), nullptr);
  ASSERT_NE(formats.find("logs_envelope"), nullptr);
  EXPECT_EQ(formats.find("nope"), nullptr);
  EXPECT_EQ(formats.for_media_type("application/json"), formats.find("json"));
  for (const char* type : {"application/x-ndjson", "application/ndjson", "application/jsonl",
                           "application/x-jsonlines", "application/jsonlines"}) {
    EXPECT_EQ(formats.for_media_type(type), formats.find("ndjson")) << type;
  }
  EXPECT_EQ(formats.for_media_type("application/xml"), nullptr);
}

TEST(Formats, ARegisteredFormatIsReachableByItsMediaTypeAndSniff) {
  FormatRegistry registry;
  register_builtin_formats(registry);
  registry.add({"lines",
                {"text/x-lines"},
                [](std::string_view head) { return head.starts_with("LINES") ? 90 : 0; },
                [](std::string_view body, const DecodeOptions& o) -> core::Result<Decoded> {
                  Decoded d;
                  d.records.push_back({});
                  d.records.back().message = std::string(body);
                  d.records.back().ts = o.received_at;
                  return d;
                },
                {},
                {}});
  const Format* lines = registry.for_media_type("text/x-lines");
  ASSERT_NE(lines, nullptr);
  EXPECT_EQ(lines->name, "lines");
  EXPECT_EQ(registry.sniff("LINES one", {}), lines);
  EXPECT_EQ(registry.sniff("LINES one", {"json", "ndjson"}), nullptr);  // not a candidate
  auto records = all_or_nothing(lines->decode("hello", options()));
  ASSERT_TRUE(records.ok());
  EXPECT_EQ((*records)[0].message, "hello");
  const auto types = registry.media_types();
  EXPECT_NE(std::find(types.begin(), types.end(), "text/x-lines"), types.end());
  // One name, one media type: registering either twice is a programming error.
  EXPECT_THROW(registry.add({"lines", {}, {}, {}, {}, {}}), std::logic_error);
  EXPECT_THROW(registry.add({"other", {"application/json"}, {}, {}, {}, {}}), std::logic_error);
}

TEST(Formats, SniffTellsJsonFromNdjson) {
  const auto& formats = builtin_formats();
  const std::vector<std::string_view> both{"json", "ndjson"};
  EXPECT_EQ(formats.sniff("{\"message\":\"a\"}\n{\"message\":\"b\"}\n", both),
            formats.find("ndjson"));
  EXPECT_EQ(formats.sniff("{\n  \"message\": \"pretty\"\n}\n", both), formats.find("json"));
  EXPECT_EQ(formats.sniff("[{\"message\":\"a\"}]", both), formats.find("json"));
  EXPECT_EQ(formats.sniff("  {\"message\":\"one\"}\n", both), formats.find("json"));
  EXPECT_EQ(formats.sniff("plain text", both), nullptr);
}

TEST(Formats, DecodeKeepsTheValidItemsAndNamesTheRejectedOnes) {
  auto decoded = decode_json(
      R"([{"message":"a"},{"message":42},{"message":"c"},{"level":"LOUD","message":"d"}])",
      options());
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(decoded->records[0].message, "a");
  EXPECT_EQ(decoded->records[1].message, "c");
  EXPECT_EQ(decoded->rejected_items, 2u);
  EXPECT_EQ(decoded->problem_count, 2u);
  ASSERT_EQ(decoded->problems.size(), 2u);
  EXPECT_EQ(decoded->problems[0].index, 1);
  EXPECT_EQ(decoded->problems[1].index, 3);
  // The all-or-nothing policy refuses the whole body, naming both.
  auto all = all_or_nothing(std::move(decoded).value());
  ASSERT_FALSE(all.ok());
  EXPECT_EQ(all.error().code, core::Errc::invalid_field);
  EXPECT_EQ(all.error().details.size(), 2u);

  auto lines = decode_ndjson("{\"message\":\"a\"}\n{\"msg\":1}\n{\"message\":\"c\"}", options());
  ASSERT_TRUE(lines.ok());
  EXPECT_EQ(lines->records.size(), 2u);
  EXPECT_EQ(lines->problems.at(0).index, 1);
}

using test::deflated;
using test::gzipped;

std::string zstded(std::string_view text) {
  std::string out(ZSTD_compressBound(text.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), text.data(), text.size(), 3));
  return out;
}

TEST(Formats, ContentEncodingStep) {
  std::string storage;
  auto plain = decode_content("", "body", storage);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*plain, "body");
  EXPECT_TRUE(decode_content("Identity", "body", storage).ok());
  auto brotli = decode_content("br", "body", storage);
  ASSERT_FALSE(brotli.ok());
  EXPECT_EQ(brotli.error().code, core::Errc::unsupported);
}

TEST(Formats, ContentEncodingsDecode) {
  const std::string text = R"({"message":"hello"})" + std::string(5000, ' ');
  std::string storage;
  for (const auto& [coding, body] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", gzipped(text)},
           {"X-GZIP", gzipped(text)},
           {"deflate", deflated(text, 15)},
           {"deflate", deflated(text, -15)},  // raw, as some clients send it
           {"zstd", zstded(text)},
           {"gzip", gzipped(text.substr(0, 100)) + gzipped(text.substr(100))},  // two members
           {"zstd, gzip", gzipped(zstded(text))},
           {"identity, zstd", zstded(text)}}) {
    auto decoded = decode_content(coding, body, storage);
    ASSERT_TRUE(decoded.ok()) << coding << ": " << decoded.error().message;
    EXPECT_EQ(*decoded, text) << coding;
  }
}

TEST(Formats, ContentEncodingRefusesCorruptAndBombs) {
  std::string storage;
  const std::string text(1 << 20, 'a');  // 1 MiB that compresses to ~1 KiB
  for (const auto& [coding, body] : std::vector<std::pair<std::string, std::string>>{
           {"gzip", gzipped(text)}, {"deflate", deflated(text, 15)}, {"zstd", zstded(text)}}) {
    auto capped = decode_content(coding, body, storage, 64 * 1024);
    ASSERT_FALSE(capped.ok()) << coding;
    EXPECT_EQ(capped.error().code, core::Errc::too_large) << coding;
    auto exact = decode_content(coding, body, storage, text.size());
    ASSERT_TRUE(exact.ok()) << coding << " at exactly the cap";
    EXPECT_EQ(exact->size(), text.size());
    const std::string cut = body.substr(0, body.size() / 2);
    auto truncated = decode_content(coding, cut, storage);
    ASSERT_FALSE(truncated.ok()) << coding;
    EXPECT_EQ(truncated.error().code, core::Errc::malformed) << coding;
  }
  for (const char* coding : {"gzip", "deflate", "zstd"}) {
    auto garbage = decode_content(coding, "this is not compressed", storage);
    ASSERT_FALSE(garbage.ok()) << coding;
    EXPECT_EQ(garbage.error().code, core::Errc::malformed) << coding;
    EXPECT_EQ(decode_content(coding, "", storage).error().code, core::Errc::malformed) << coding;
  }
  EXPECT_EQ(decode_content("gzip, gzip, gzip, gzip, gzip", "x", storage).error().code,
            core::Errc::unsupported);
}

TEST(Formats, MediaTypeDropsParametersAndCase) {
  EXPECT_EQ(media_type("Application/JSON; charset=utf-8"), "application/json");
  EXPECT_EQ(media_type("  text/plain  "), "text/plain");
  EXPECT_EQ(media_type(""), "");
}

TEST(LineFormats, DecodeLinesSkipsBomBlankAndCrAndNumbersRejectedLines) {
  const ParseLine upper_only = [](std::string_view line, const DecodeOptions&, Record& out,
                                  std::string& why) {
    if (line.front() < 'A' || line.front() > 'Z') {
      why = "starts in lower case";
      return false;
    }
    out.message = line;
    return true;
  };
  auto decoded = decode_lines(
      "\xEF\xBB\xBF"
      "Alpha\r\n\n  \t\nbeta\nGamma",
      options(), upper_only);
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->records.size(), 2u);
  EXPECT_EQ(decoded->records[0].message, "Alpha");
  EXPECT_EQ(decoded->records[1].message, "Gamma");
  ASSERT_EQ(decoded->problem_count, 1u);
  EXPECT_EQ(decoded->problems[0].index, 4);  // the line number, counting blank lines
  EXPECT_EQ(decoded->problems[0].message, "starts in lower case");
  EXPECT_EQ(decoded->rejected_items, 1u);

  EXPECT_EQ(decode_lines(" \r\n\n", options(), upper_only).error().code, core::Errc::invalid_field);
  DecodeOptions two = options();
  two.max_records = 2;
  EXPECT_EQ(decode_lines("A\nB\nC\n", two, upper_only).error().code, core::Errc::too_large);
  EXPECT_TRUE(decode_lines("A\nB\n\n", two, upper_only).ok());
}

TEST(LineFormats, IntoBatchesGroupsRecordsBySourceFormat) {
  Decoded decoded;
  for (const char* m : {"a", "b", "c", "d"})
    decoded.records.emplace_back().message = m;
  auto whole = into_batches(decoded, "logfmt", kReceived);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].source_format, "logfmt");
  EXPECT_EQ(whole[0].records.size(), 4u);
  EXPECT_EQ(whole[0].received_at, kReceived);

  decoded.record_formats = {"syslog", "json", "syslog", "plain"};
  auto mixed = into_batches(decoded, "auto", kReceived);
  ASSERT_EQ(mixed.size(), 3u);
  EXPECT_EQ(mixed[0].source_format, "syslog");
  ASSERT_EQ(mixed[0].records.size(), 2u);
  EXPECT_EQ(mixed[0].records[1].message, "c");
  EXPECT_EQ(mixed[1].source_format, "json");
  EXPECT_EQ(mixed[2].source_format, "plain");
  EXPECT_EQ(mixed[2].records[0].message, "d");
}

}  // namespace
}  // namespace logpipe::ingest
