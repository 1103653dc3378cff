// Micro-benchmarks of the per-record hot paths: request parsing and validation, level
// normalisation, batch encode/decode for the stream, and COPY row formatting. Run with
// `make bench`; results and their commands go in docs/PERFORMANCE.md.
#include <benchmark/benchmark.h>

#include <random>

#include "ingest/formats/json.hpp"
#include "ingest/formats/ndjson.hpp"
#include "queue/batch_codec.hpp"
#include "store/batch_writer.hpp"

namespace {

using namespace logpipe;

// Realistic ~190-byte device logs with varied levels, messages and attrs.
std::string device_log(int i) {
  static const char* levels[] = {"INFO", "DEBUG", "WARNING", "ERROR", "INFO", "INFO"};
  static const char* messages[] = {
      "temperature reading within range", "battery level dropped below threshold",
      "connection to gateway re-established after timeout", "firmware update check completed"};
  return R"({"device_id":"device_)" + std::to_string(i % 100) + R"(","log_level":")" +
         levels[i % 6] + R"(","message":")" + messages[i % 4] + " #" + std::to_string(i) +
         R"(","log_data":{"temp":)" + std::to_string(20 + i % 15) + R"(.5,"battery":)" +
         std::to_string(i % 100) + R"(,"fw":"1.4.)" + std::to_string(i % 9) + R"(","run":"b"}})";
}

std::string envelope(int n) {
  std::string body = R"({"logs":[)";
  // Appended piece by piece: `"," + std::string&&` trips GCC 12's -Wrestrict false positive
  // (GCC bug 105329) in Release builds.
  for (int i = 0; i < n; ++i) {
    if (i) body += ',';
    body += device_log(i);
  }
  return body + "]}";
}

model::Batch parsed_batch(int n) {
  ingest::DecodeOptions options;
  options.received_at = 1'731'580'200'000'000;
  model::Batch batch;
  batch.received_at = options.received_at;
  batch.records = std::move(ingest::parse_logs_envelope(envelope(n), options)).value();
  return batch;
}

void BM_ParseEnvelope(benchmark::State& state) {
  const std::string body = envelope(static_cast<int>(state.range(0)));
  ingest::DecodeOptions options;
  for (auto _ : state) {
    auto records = ingest::parse_logs_envelope(body, options);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_ParseEnvelope)->Arg(5)->Arg(100)->Arg(1000);

void BM_ParseNdjson(benchmark::State& state) {
  std::string body;
  for (int i = 0; i < state.range(0); ++i)
    body += device_log(i) + "\n";
  ingest::DecodeOptions options;
  for (auto _ : state) {
    auto records = ingest::parse_ndjson(body, options);
    benchmark::DoNotOptimize(records);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ParseNdjson)->Arg(100);

void BM_ParseLevel(benchmark::State& state) {
  const std::string_view names[] = {"INFO", "warn", "Error", "debug", "CRIT", "6"};
  std::size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(model::parse_level(names[i++ % 6]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseLevel);

void BM_EncodeBatch(benchmark::State& state) {
  const auto batch = parsed_batch(static_cast<int>(state.range(0)));
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto payload = queue::encode_batch(batch);
    bytes = payload.size();
    benchmark::DoNotOptimize(payload);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["payload_bytes_per_record"] =
      static_cast<double>(bytes) / static_cast<double>(state.range(0));
}
BENCHMARK(BM_EncodeBatch)->Arg(5)->Arg(100)->Arg(1000);

void BM_DecodeBatch(benchmark::State& state) {
  const std::string payload = queue::encode_batch(parsed_batch(static_cast<int>(state.range(0))));
  for (auto _ : state) {
    auto batch = queue::decode_batch(payload);
    benchmark::DoNotOptimize(batch);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_DecodeBatch)->Arg(100)->Arg(1000);

void BM_CopyRows(benchmark::State& state) {
  const auto batch = parsed_batch(static_cast<int>(state.range(0)));
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (const auto& r : batch.records)
      store::append_copy_row(out, r, batch);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_CopyRows)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
