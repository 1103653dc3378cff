// Micro-benchmarks of the shipper protocols' decoders (issue #10) on generated bodies shaped
// like what the real clients send: a Promtail/Alloy Loki push (a few streams of file-tailing
// labels, ~150-byte lines) and an OpenTelemetry SDK export (one resource, one scope, records
// with five attributes, trace and span ids), in protobuf and OTLP JSON. Bytes per second are
// of the uncompressed body, also for BM_LokiSnappyPush (which includes snappy's decompression;
// its counter `ratio` is how much smaller the body on the wire was). Results in
// docs/PERFORMANCE.md ("Formats (issue #10)").
#include <benchmark/benchmark.h>
#include <snappy.h>

#include <string>

#include "ingest/formats/loki.hpp"
#include "ingest/formats/otlp.hpp"
#include "ingest/protobuf.hpp"

namespace {

using namespace logpipe;
namespace pb = ingest::protobuf;

const char* const kMessages[] = {
    "GET /api/v1/orders/%d 200 12ms user_agent=\"Mozilla/5.0 (X11; Linux x86_64)\" bytes=5231",
    "connection to upstream 10.0.3.%d:5432 re-established after 3 retries, pool size 20",
    "level=warn msg=\"slow query\" duration=812ms table=orders rows=%d trace=ab12cd34",
    "worker %d finished batch: 512 items in 33 ms, queue depth 17, memory 214 MiB"};

std::string line(int i) {
  char buf[256];
  std::snprintf(buf, sizeof buf, kMessages[i % 4], i);
  return buf;
}

std::string loki_push(int streams, int entries) {
  std::string push;
  for (int s = 0; s < streams; ++s) {
    std::string stream;
    pb::put_len(stream, 1,
                "{filename=\"/var/log/app/service-" + std::to_string(s) + ".log\", host=\"node-" +
                    std::to_string(s % 3) +
                    "\", job=\"varlogs\", level=\"info\", service_name=\"svc-" + std::to_string(s) +
                    "\"}");
    for (int e = 0; e < entries; ++e) {
      std::string entry, ts;
      pb::put_varint_field(ts, 1, 1'731'580'200 + static_cast<std::uint64_t>(e));
      pb::put_varint_field(ts, 2, static_cast<std::uint64_t>(e) * 1000 + 7);
      pb::put_len(entry, 1, ts);
      pb::put_len(entry, 2, line(e));
      pb::put_len(stream, 2, entry);
    }
    pb::put_len(push, 1, stream);
  }
  return push;
}

std::string any_string(std::string_view s) {
  std::string v;
  pb::put_len(v, 1, s);
  return v;
}
std::string any_int(std::int64_t n) {
  std::string v;
  pb::put_varint_field(v, 3, static_cast<std::uint64_t>(n));
  return v;
}
std::string key_value(std::string_view key, const std::string& any) {
  std::string kv;
  pb::put_len(kv, 1, key);
  pb::put_len(kv, 2, any);
  return kv;
}

std::string otlp_protobuf(int records) {
  std::string resource, scope, scope_logs, resource_logs, request;
  pb::put_len(resource, 1, key_value("service.name", any_string("checkout")));
  pb::put_len(resource, 1, key_value("service.namespace", any_string("shop")));
  pb::put_len(resource, 1, key_value("host.name", any_string("web-1")));
  pb::put_len(resource, 1, key_value("telemetry.sdk.language", any_string("nodejs")));
  pb::put_len(resource, 1, key_value("telemetry.sdk.version", any_string("2.0.0")));
  pb::put_len(scope, 1, "checkout-logger");
  pb::put_len(scope, 2, "1.2.3");
  pb::put_len(scope_logs, 1, scope);
  for (int i = 0; i < records; ++i) {
    std::string log;
    pb::put_fixed64(log, 1, 1'731'580'200'000'000'000ULL + static_cast<std::uint64_t>(i));
    pb::put_varint_field(log, 2, 9);
    pb::put_len(log, 3, "INFO");
    pb::put_len(log, 5, any_string(line(i)));
    pb::put_len(log, 6, key_value("order.id", any_int(i)));
    pb::put_len(log, 6, key_value("http.method", any_string("GET")));
    pb::put_len(log, 6, key_value("http.route", any_string("/api/v1/orders/:id")));
    pb::put_len(log, 6, key_value("http.status_code", any_int(200)));
    pb::put_len(log, 6, key_value("user.id", any_string("u-" + std::to_string(i % 97))));
    pb::put_fixed32(log, 8, 1);
    pb::put_len(log, 9, std::string(16, static_cast<char>(i)));
    pb::put_len(log, 10, std::string(8, static_cast<char>(i + 1)));
    pb::put_fixed64(log, 11, 1'731'580'200'000'000'000ULL + static_cast<std::uint64_t>(i));
    pb::put_len(scope_logs, 2, log);
  }
  pb::put_len(resource_logs, 1, resource);
  pb::put_len(resource_logs, 2, scope_logs);
  pb::put_len(request, 1, resource_logs);
  return request;
}

std::string otlp_json(int records) {
  const auto kv = [](std::string_view key, std::string_view value) {
    return R"({"key":")" + std::string(key) + R"(","value":)" + std::string(value) + "}";
  };
  std::string out =
      R"({"resourceLogs":[{"resource":{"attributes":[)" +
      kv("service.name", R"({"stringValue":"checkout"})") + "," +
      kv("service.namespace", R"({"stringValue":"shop"})") + "," +
      kv("host.name", R"({"stringValue":"web-1"})") + "," +
      kv("telemetry.sdk.language", R"({"stringValue":"nodejs"})") + "," +
      kv("telemetry.sdk.version", R"({"stringValue":"2.0.0"})") +
      R"(],"droppedAttributesCount":0},"scopeLogs":[{"scope":{"name":"checkout-logger","version":"1.2.3"},"logRecords":[)";
  for (int i = 0; i < records; ++i) {
    if (i) out += ",";
    std::string message = line(i);
    std::string escaped;
    for (char c : message) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    const std::string t = std::to_string(1'731'580'200'000'000'000ULL + static_cast<unsigned>(i));
    out +=
        R"({"timeUnixNano":")" + t + R"(","observedTimeUnixNano":")" + t +
        R"(","severityNumber":9,"severityText":"INFO","body":{"stringValue":")" + escaped +
        R"("},"attributes":[)" + kv("order.id", R"({"intValue":)" + std::to_string(i) + "}") + "," +
        kv("http.method", R"({"stringValue":"GET"})") + "," +
        kv("http.route", R"({"stringValue":"/api/v1/orders/:id"})") + "," +
        kv("http.status_code", R"({"intValue":200})") + "," +
        kv("user.id", R"({"stringValue":"u-)" + std::to_string(i % 97) + R"("})") +
        R"(],"droppedAttributesCount":0,"flags":1,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"1000000000000000"})";
  }
  out += "]}]}]}";
  return out;
}

ingest::DecodeOptions options() {
  ingest::DecodeOptions o;
  o.received_at = 1'731'580'200'000'000;
  o.max_records = 100000;
  return o;
}

template <class Decode>
void run(benchmark::State& state, const std::string& body, std::size_t bytes, Decode decode) {
  const auto o = options();
  for (auto _ : state) {
    auto d = decode(body, o);
    benchmark::DoNotOptimize(d);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes));
}

void BM_LokiProtobufPush(benchmark::State& state) {
  const std::string body = loki_push(10, static_cast<int>(state.range(0)));
  run(state, body, body.size(), ingest::loki::decode_protobuf);
}
BENCHMARK(BM_LokiProtobufPush)->Arg(100)->Arg(1000);

void BM_LokiSnappyPush(benchmark::State& state) {
  const std::string raw = loki_push(10, static_cast<int>(state.range(0)));
  std::string compressed;
  snappy::Compress(raw.data(), raw.size(), &compressed);
  state.counters["ratio"] =
      static_cast<double>(raw.size()) / static_cast<double>(compressed.size());
  run(state, compressed, raw.size(), [](const std::string& body, const ingest::DecodeOptions& o) {
    std::string out;
    if (!ingest::decode_snappy(body, std::size_t{64} << 20, out))
      return core::Result<ingest::Decoded>(core::make_error(core::Errc::malformed, ""));
    return ingest::loki::decode_protobuf(out, o);
  });
}
BENCHMARK(BM_LokiSnappyPush)->Arg(1000);

void BM_LokiJsonPush(benchmark::State& state) {
  std::string body = R"({"streams":[{"stream":{"service_name":"svc","job":"varlogs"},"values":[)";
  for (int i = 0; i < state.range(0); ++i) {
    if (i) body += ",";
    std::string escaped;
    for (char c : line(i)) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    body += R"([")" + std::to_string(1'731'580'200'000'000'000ULL + static_cast<unsigned>(i)) +
            R"(",")" + escaped + R"("])";
  }
  body += "]}]}";
  run(state, body, body.size(), ingest::loki::decode_json);
}
BENCHMARK(BM_LokiJsonPush)->Arg(1000);

void BM_OtlpProtobuf(benchmark::State& state) {
  const std::string body = otlp_protobuf(static_cast<int>(state.range(0)));
  run(state, body, body.size(), ingest::otlp::decode_protobuf);
}
BENCHMARK(BM_OtlpProtobuf)->Arg(512)->Arg(8192);

void BM_OtlpJson(benchmark::State& state) {
  const std::string body = otlp_json(static_cast<int>(state.range(0)));
  run(state, body, body.size(), ingest::otlp::decode_json);
}
BENCHMARK(BM_OtlpJson)->Arg(512)->Arg(8192);

}  // namespace
