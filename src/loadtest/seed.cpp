#include "loadtest/seed.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <array>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include "core/time.hpp"
#include "store/batch_writer.hpp"
#include "store/connection.hpp"
#include "store/migrations.hpp"

namespace logpipe::loadtest {
namespace {

constexpr std::uint64_t kPerTransaction = 10'000;
using core::kDay;

constexpr std::array kServices{"api",    "auth",   "billing", "db",      "web",
                               "worker", "search", "cache",   "gateway", "notify"};
constexpr std::array kApps{"shop", "blog", "crm", "admin", "mobile"};
constexpr std::array kPaths{"/api/orders", "/api/users", "/api/cart", "/login", "/api/search"};
constexpr std::array kUsers{"alice", "bob", "carol", "dave", "erin", "frank"};

model::Level pick_level(std::uint32_t r) {
  // DEBUG 20%, INFO 60%, WARNING 12%, ERROR 7%, CRITICAL 1%.
  const auto p = r % 100;
  if (p < 20) return model::Level::debug;
  if (p < 80) return model::Level::info;
  if (p < 92) return model::Level::warning;
  if (p < 99) return model::Level::error;
  return model::Level::critical;
}

std::string message_for(model::Level level, std::mt19937& rng, int& status, int& latency) {
  const auto n = rng();
  latency = static_cast<int>(n % 3000);
  const char* path = kPaths[n % kPaths.size()];
  const char* user = kUsers[(n >> 8) % kUsers.size()];
  switch (level) {
    case model::Level::debug:
      status = 200;
      return fmt::format("cache lookup {} key=session:{} hit={}", path, n % 100000, n % 2 == 0);
    case model::Level::info:
      status = 200;
      return (n >> 4) % 3 == 0 ? fmt::format("user {} logged in from 10.0.{}.{}", user,
                                             (n >> 12) % 256, (n >> 20) % 256)
                               : fmt::format("GET {}/{} 200 in {} ms", path, n % 10000, latency);
    case model::Level::warning:
      status = 429;
      return (n >> 4) % 2 == 0 ? fmt::format("slow request GET {} took {} ms", path, 1000 + latency)
                               : fmt::format("disk usage {}% on /var/lib", 80 + n % 20);
    case model::Level::error:
      status = 500;
      return (n >> 4) % 2 == 0
                 ? fmt::format("database connection timeout after {} ms", 1000 + latency)
                 : fmt::format("payment declined for user {}: card expired", user);
    default:
      status = 503;
      return fmt::format("out of memory: killed worker process {}", n % 65536);
  }
}

// The records of transaction `index`: [index * kPerTransaction, …) spread over the time range.
store::StreamEntry make_entry(const SeedOptions& o, const std::string& run, std::uint64_t index,
                              core::Micros start, core::Micros span) {
  const std::uint64_t first = index * kPerTransaction;
  const std::uint64_t count = std::min(kPerTransaction, o.rows - first);
  std::mt19937 rng(o.random_seed * 7919 + static_cast<std::uint32_t>(index));
  store::StreamEntry entry;
  entry.id = fmt::format("{}-{}", run, index);
  model::Batch batch;
  batch.source_format = "seed";
  batch.records.reserve(count);
  for (std::uint64_t i = first; i < first + count; ++i) {
    model::Record r;
    r.ts = start + static_cast<core::Micros>(static_cast<double>(span) * static_cast<double>(i) /
                                             static_cast<double>(o.rows));
    r.level = pick_level(rng());
    int status = 200, latency = 0;
    r.message = message_for(r.level, rng, status, latency);
    r.device_id = fmt::format("device-{:05}", rng() % o.devices);
    r.service = kServices[rng() % kServices.size()];
    r.app = kApps[rng() % kApps.size()];
    r.host = fmt::format("host-{:02}", rng() % 20);
    r.attrs_json = fmt::format(R"({{"status":{},"latency_ms":{},"request_id":"{:08x}"}})", status,
                               latency, rng());
    batch.records.push_back(std::move(r));
  }
  batch.received_at = batch.records.empty() ? start : batch.records.back().ts;
  entry.batches.push_back(std::move(batch));
  return entry;
}

}  // namespace

core::Result<SeedReport> seed(const SeedOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  const core::Micros now = core::now_micros();
  const core::Micros start = now - o.days * kDay;
  const std::string run = fmt::format("seed-{}-{}", now, o.random_seed);
  {
    auto db = store::Connection::open(o.database_url, std::chrono::seconds(5));
    if (!db) return db.error();
    if (auto s = store::ensure_partitions(*db, o.days + 1, 1); !s) return s.error();
  }
  const std::uint64_t transactions = (o.rows + kPerTransaction - 1) / kPerTransaction;
  std::atomic<std::uint64_t> next{0};
  std::atomic<bool> failed{false};
  std::optional<core::Error> error;
  std::mutex error_mutex;
  {
    std::vector<std::jthread> threads;
    for (std::size_t c = 0; c < o.connections; ++c) {
      threads.emplace_back([&, c] {
        auto db = store::Connection::open(o.database_url, std::chrono::seconds(5));
        const auto fail = [&](core::Error e) {
          std::lock_guard lock(error_mutex);
          if (!error) error = std::move(e);
          failed = true;
        };
        if (!db) return fail(db.error());
        const int shard = store::rollup_shard(fmt::format("{}-{}", run, c));
        for (std::uint64_t i = next++; i < transactions && !failed; i = next++) {
          const auto entry = make_entry(o, run, i, start, now - start);
          auto written = store::write_entries(*db, "seed", std::span(&entry, 1), {.shard = shard});
          if (!written) return fail(written.error());
        }
      });
    }
  }
  if (error) return *error;
  return SeedReport{
      o.rows, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()};
}

void add_seed_flags(CLI::App& command, SeedOptions& o) {
  command.add_option("--rows", o.rows, "logs to store")->check(CLI::Range(1ULL, 1'000'000'000ULL));
  command.add_option("--devices", o.devices, "distinct device ids")
      ->check(CLI::Range(std::size_t{1}, std::size_t{10'000'000}));
  command.add_option("--days", o.days, "spread over the last this many days")
      ->check(CLI::Range(1, 3650));
  command.add_option("--connections", o.connections, "PostgreSQL connections writing at once")
      ->check(CLI::Range(std::size_t{1}, std::size_t{16}));
  command.add_option("--seed", o.random_seed, "random seed (the same seed gives the same data)");
}

}  // namespace logpipe::loadtest
