// The ceiling of the pipeline: raw PostgreSQL COPY of the loadtest's own rows into logpipe's
// `logs` schema (same indexes, same COPY statement as the worker), with nothing else in the way.
// Rows are parsed and formatted before the clock starts, so only PostgreSQL is measured.
//
//   copy_baseline DATABASE_URL ROWS [ROWS_PER_TRANSACTION] [CONNECTIONS] [DEVICES]
// prints {"rows":…,"connections":…,"seconds":…,"rows_per_second":…}. With several connections
// the transactions are dealt out among them and run in parallel, as the worker's consumers do.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/time.hpp"
#include "ingest/formats/json.hpp"
#include "loadtest/generator.hpp"
#include "store/batch_writer.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"

int main(int argc, char** argv) {
  using namespace logpipe;
  if (argc < 3) {
    fmt::print(stderr,
               "usage: copy_baseline DATABASE_URL ROWS [ROWS_PER_TRANSACTION] [CONNECTIONS] "
               "[DEVICES]\n");
    return 2;
  }
  const std::string url = argv[1];
  const std::size_t rows = std::strtoull(argv[2], nullptr, 10);
  const std::size_t per_transaction = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100'000;
  const std::size_t connections = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
  const std::size_t devices = argc > 5 ? std::strtoull(argv[5], nullptr, 10) : 100;
  if (rows == 0 || per_transaction == 0 || connections == 0 || connections > 64 || devices == 0) {
    fmt::print(stderr,
               "copy_baseline: ROWS, ROWS_PER_TRANSACTION, CONNECTIONS (<= 64) and DEVICES must be "
               "positive\n");
    return 2;
  }

  const loadtest::Generator generator(loadtest::new_run_id(), devices);
  std::vector<std::string> chunks;
  constexpr std::size_t kPerRequest = 1000;
  std::string body;
  for (std::size_t first = 0; first < rows; first += kPerRequest) {
    const std::size_t n = std::min(kPerRequest, rows - first);
    body.clear();
    generator.append_body(body, loadtest::Api::batch, first, n);
    ingest::DecodeOptions options;
    options.received_at = core::now_micros();
    model::Batch batch;
    batch.received_at = options.received_at;
    auto records = ingest::parse_logs_envelope(body, options);
    if (!records) {
      fmt::print(stderr, "copy_baseline: generated rows do not parse: {}\n",
                 records.error().message);
      return 1;
    }
    batch.records = std::move(records).value();
    if (first % per_transaction == 0) chunks.emplace_back();
    for (const auto& r : batch.records)
      store::append_copy_row(chunks.back(), r, batch);
  }

  std::vector<store::Connection> dbs;
  for (std::size_t i = 0; i < connections; ++i) {
    auto db = store::Connection::open(url, std::chrono::seconds(5));
    if (!db) {
      fmt::print(stderr, "copy_baseline: {}\n", db.error().message);
      return 1;
    }
    dbs.push_back(std::move(db).value());
  }
  if (auto s = store::ensure_partitions(dbs.front(), 1, 2); !s) {
    fmt::print(stderr, "copy_baseline: {}\n", s.error().message);
    return 1;
  }
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  const auto start = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> threads;
    threads.reserve(dbs.size());
    for (auto& db : dbs) {
      threads.emplace_back([&] {
        for (std::size_t i = next++; i < chunks.size() && !failed; i = next++) {
          auto s = store::in_transaction(db, [&] { return store::copy_rows(db, chunks[i]); });
          if (!s) {
            fmt::print(stderr, "copy_baseline: {}\n", s.error().message);
            failed = true;
          }
        }
      });
    }
  }
  if (failed) return 1;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  fmt::print("{{\"rows\":{},\"connections\":{},\"seconds\":{:.3f},\"rows_per_second\":{:.0f}}}\n",
             rows, connections, seconds, static_cast<double>(rows) / seconds);
  return 0;
}
