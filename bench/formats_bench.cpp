// Line formats (issue 10): each parser and format=auto over a generated realistic corpus of
// ≥ 10 MiB, in MiB/s of input per core. Results and their command: docs/PERFORMANCE.md,
// "Formats (issue #10)".
#include <benchmark/benchmark.h>

#include <random>
#include <string>

#include "ingest/auto_detect.hpp"
#include "ingest/format.hpp"
#include "ingest/formats/pattern.hpp"

namespace {

using namespace logpipe;

constexpr std::size_t kCorpusBytes = std::size_t{12} << 20;

struct Rng {
  std::mt19937 engine;
  unsigned operator()() { return static_cast<unsigned>(engine()); }
};

const char* const kPaths[] = {"/",
                              "/api/v1/orders?page=2&limit=50",
                              "/static/js/app.3f9a1c.js",
                              "/images/logo.png",
                              "/login",
                              "/api/v1/users/8812/profile",
                              "/wp-login.php",
                              "/health"};
const char* const kAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.2 Mobile/15E148 Safari/604.1",
    "curl/8.5.0", "Go-http-client/1.1", "kube-probe/1.29"};
const int kStatuses[] = {200, 200, 200, 304, 301, 404, 200, 500, 201, 403};
const char* const kLevels[] = {"info", "debug", "warn", "error", "info", "info"};
const char* const kWords[] = {"request completed",          "cache miss for key user:8812",
                              "connection reset by peer",   "retrying upstream call",
                              "flushed 128 series to disk", "slow query detected"};

std::string apache_line(Rng& rng) {
  char ip[64];
  if (rng() % 10 == 0)
    std::snprintf(ip, sizeof ip, "2001:db8::%x", static_cast<unsigned>(rng() % 65536));
  else
    std::snprintf(ip, sizeof ip, "%u.%u.%u.%u", 10 + rng() % 200, rng() % 256, rng() % 256,
                  rng() % 256);
  char buf[768];
  std::snprintf(buf, sizeof buf,
                "%s - %s [%02u/Feb/2024:%02u:%02u:%02u +0100] \"%s %s HTTP/1.1\" %d %u "
                "\"https://shop.example.com/\" \"%s\"\n",
                ip, rng() % 4 ? "-" : "alice", 1 + rng() % 29, rng() % 24, rng() % 60, rng() % 60,
                rng() % 3 ? "GET" : "POST", kPaths[rng() % 8], kStatuses[rng() % 10],
                static_cast<unsigned>(rng() % 100000), kAgents[rng() % 5]);
  return buf;
}

std::string logfmt_line(Rng& rng) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "ts=2024-02-29T%02u:%02u:%02u.%03uZ level=%s caller=head.go:%u component=tsdb "
                "msg=\"%s\" duration=%ums series=%u\n",
                rng() % 24, rng() % 60, rng() % 60, rng() % 1000, kLevels[rng() % 6], rng() % 900,
                kWords[rng() % 6], rng() % 5000, rng() % 100000);
  return buf;
}

std::string plain_line(Rng& rng) {
  static const char* const upper[] = {"INFO", "DEBUG", "WARN", "ERROR", "INFO", "INFO"};
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "2024-02-29 %02u:%02u:%02u,%03u %s [worker-%u] com.example.orders.Service - %s "
                "(order %u)\n",
                rng() % 24, rng() % 60, rng() % 60, rng() % 1000, upper[rng() % 6], rng() % 16,
                kWords[rng() % 6], rng() % 1000000);
  return buf;
}

std::string json_line(Rng& rng) {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "{\"timestamp\":\"2024-02-29T%02u:%02u:%02u.%03uZ\",\"level\":\"%s\",\"service\":"
                "\"orders\",\"message\":\"%s\",\"attrs\":{\"order\":%u,\"ms\":%u}}\n",
                rng() % 24, rng() % 60, rng() % 60, rng() % 1000, kLevels[rng() % 6],
                kWords[rng() % 6], rng() % 1000000, rng() % 5000);
  return buf;
}

std::string pattern_line(Rng& rng) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "2024-02-29 %02u:%02u:%02u [%s] billing-%u: %s\n", rng() % 24,
                rng() % 60, rng() % 60, kLevels[rng() % 6], rng() % 8, kWords[rng() % 6]);
  return buf;
}

enum class Kind { apache, logfmt, plain, json, pattern, mixed };

const std::string& corpus(Kind kind) {
  static std::string bodies[6];
  std::string& body = bodies[static_cast<int>(kind)];
  if (!body.empty()) return body;
  Rng rng{std::mt19937(42)};
  body.reserve(kCorpusBytes + 1024);
  for (std::size_t i = 0; body.size() < kCorpusBytes; ++i) {
    Kind k = kind;
    if (kind == Kind::mixed) k = static_cast<Kind>(i % 5);
    switch (k) {
      case Kind::apache:
        body += apache_line(rng);
        break;
      case Kind::logfmt:
        body += logfmt_line(rng);
        break;
      case Kind::plain:
        body += plain_line(rng);
        break;
      case Kind::json:
        body += json_line(rng);
        break;
      default:
        body += pattern_line(rng);
    }
  }
  return body;
}

const ingest::FormatRegistry& registry() {
  static const auto formats =
      std::move(ingest::formats_with_patterns({{"myapp",
                                                R"(^(?P<ts>\S+ \S+) \[(?P<level>\w+)\] )"
                                                R"((?P<service>[\w-]+): (?P<message>.*)$)",
                                                "%Y-%m-%d %H:%M:%S"}}))
          .value();
  return *formats;
}

ingest::DecodeOptions options() {
  ingest::DecodeOptions o;
  o.received_at = 1'709'200'000'000'000;
  o.max_records = 10'000'000;
  return o;
}

void run(benchmark::State& state, const std::string& body,
         const std::function<core::Result<ingest::Decoded>()>& decode) {
  std::size_t records = 0;
  for (auto _ : state) {
    auto decoded = decode();
    if (!decoded || decoded->problem_count != 0) {
      state.SkipWithError("lines were rejected");
      return;
    }
    records = decoded->records.size();
    benchmark::DoNotOptimize(decoded);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(records));
}

void BM_Format(benchmark::State& state, const char* name, Kind kind) {
  const std::string& body = corpus(kind);
  const ingest::Format* format = registry().find(name);
  const auto o = options();
  run(state, body, [&] { return ingest::decode_lines(body, o, format->parse_line); });
}
BENCHMARK_CAPTURE(BM_Format, apache, "apache", Kind::apache)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Format, logfmt, "logfmt", Kind::logfmt)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Format, plain, "plain", Kind::plain)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Format, json, "json", Kind::json)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Format, pattern, "myapp", Kind::pattern)->Unit(benchmark::kMillisecond);

// format=auto on one format's corpus, and on the mix of all five (one line each in turn).
void BM_Auto(benchmark::State& state, Kind kind) {
  const std::string& body = corpus(kind);
  const ingest::AutoDetect detect(registry());
  const auto o = options();
  run(state, body, [&] { return detect.decode(body, o); });
}
BENCHMARK_CAPTURE(BM_Auto, mixed, Kind::mixed)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Auto, apache, Kind::apache)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Auto, plain, Kind::plain)->Unit(benchmark::kMillisecond);

// What a pattern costs auto-detection: its sniff is a match without captures (RE2's DFA) on
// every line. The same corpus without the pattern's lines, with and without the pattern.
void BM_AutoPatternCost(benchmark::State& state, bool with_pattern) {
  const std::string& body = corpus(Kind::plain);
  const ingest::AutoDetect detect(with_pattern ? registry() : ingest::builtin_formats());
  const auto o = options();
  run(state, body, [&] { return detect.decode(body, o); });
}
BENCHMARK_CAPTURE(BM_AutoPatternCost, builtins_only, false)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_AutoPatternCost, with_one_pattern, true)->Unit(benchmark::kMillisecond);

}  // namespace
