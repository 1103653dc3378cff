// The es_bulk decoder (Elasticsearch _bulk bodies) on a generated corpus that mixes what real
// senders send: the ES client's ECS documents, Filebeat's (nested host/log/agent objects) and
// pino-elasticsearch's. Target (issue #10): at least 100 MiB/s per core; the number and the
// command are in docs/PERFORMANCE.md "Formats (issue #10)".
#include <benchmark/benchmark.h>

#include <string>

#include "ingest/formats/es_bulk.hpp"

namespace {

using namespace logpipe;

const char* const kLevels[] = {"info", "warn", "error", "debug", "info", "info"};

// One action line and its document, in the style of sender i % 3.
void append_pair(std::string& body, int i) {
  const std::string n = std::to_string(i);
  const std::string ms = std::to_string(100 + i % 900);
  switch (i % 3) {
    case 0:  // @elastic/elasticsearch helpers.bulk with ECS fields (~330 bytes)
      body +=
          R"({"index":{"_index":"checkout"}})"
          "\n"
          R"({"@timestamp":"2024-01-15T12:00:01.)" +
          ms + R"(Z","message":"order )" + n + R"( placed for customer c-)" +
          std::to_string(i % 977) + R"(","log":{"level":")" + kLevels[i % 6] +
          R"(","logger":"orders"},"host":{"name":"web-)" + std::to_string(i % 7) +
          R"("},"service":{"name":"checkout","version":"1.4.2"},"trace":{"id":"4bf92f3577b34da6a3ce929d0e0e)" +
          std::to_string(1000 + i % 9000) + R"("},"order":{"id":)" + n +
          R"(,"total":129.95,"items":3}})"
          "\n";
      break;
    case 1:  // Filebeat 8 (data stream, ~620 bytes)
      body += R"({"create":{"_index":"filebeat-8.11.0"}})"
              "\n"
              R"({"@timestamp":"2024-01-15T12:00:02.)" +
              ms + R"(Z","message":"Jan 15 12:00:02 web-3 sshd[1234]: Accepted publickey for )" +
              "deploy from 10.0.0." + std::to_string(i % 250) +
              R"( port 52144 ssh2","log":{"offset":)" + n +
              R"js(,"file":{"path":"/var/log/auth.log"}},"input":{"type":"log"},)js"
              R"js("host":{"name":"web-3","hostname":"web-3","architecture":"x86_64",)js"
              R"js("os":{"family":"debian","name":"Debian GNU/Linux","version":"12 (bookworm)",)js"
              R"js("kernel":"6.1.0-17-amd64"},"ip":["10.0.0.3","fe80::1"]},)js"
              R"js("agent":{"type":"filebeat","version":"8.11.0",)js"
              R"js("ephemeral_id":"0d4b6f0e-8c7c-4a2b-9a61-4f3c2f7e1a11","name":"web-3"},)js"
              R"js("ecs":{"version":"8.0.0"}})js"
              "\n";
      break;
    default:  // pino-elasticsearch (~170 bytes)
      body += R"({"index":{"_index":"pino"}})"
              "\n"
              R"({"level":)" +
              std::to_string(30 + 10 * (i % 3)) + R"(,"time":"2024-01-15T12:00:03.)" + ms +
              R"(Z","pid":4242,"hostname":"api-1","req":{"method":"GET","url":"/cart/)" + n +
              R"("},"msg":"request completed"})"
              "\n";
  }
}

std::string corpus(int pairs) {
  std::string body;
  for (int i = 0; i < pairs; ++i)
    append_pair(body, i);
  return body;
}

void BM_DecodeEsBulk(benchmark::State& state) {
  const std::string body = corpus(static_cast<int>(state.range(0)));
  ingest::DecodeOptions options;
  options.received_at = 1'705'320'000'000'000;
  options.max_records = 100'000;
  for (auto _ : state) {
    auto request = ingest::decode_es_bulk_request(body, {}, options);
    if (!request || request->records.size() != static_cast<std::size_t>(state.range(0)))
      state.SkipWithError("the corpus did not decode whole");
    benchmark::DoNotOptimize(request);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}
BENCHMARK(BM_DecodeEsBulk)->Arg(1000)->Arg(10000);

}  // namespace
