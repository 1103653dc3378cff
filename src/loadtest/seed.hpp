// `logpipe seed`: fills the database with realistic logs for demos and benchmarks, fast. Records
// are spread evenly over the last `days` days, in time order, from `devices` devices across a
// fixed set of services, apps and hosts, with a skewed level mix, varied messages (words the text
// search can find) and attrs. They are stored through store::write_entries (COPY, rollups, one
// transaction per 10,000 records) on `connections` connections at once, so statistics, devices
// and apps are right from the start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace CLI {
class App;
}

namespace logpipe::loadtest {

struct SeedOptions {
  std::string database_url;
  std::uint64_t rows = 1'000'000;
  std::size_t devices = 1000;
  int days = 30;
  std::size_t connections = 2;
  std::uint32_t random_seed = 1;
};

struct SeedReport {
  std::uint64_t rows = 0;
  double seconds = 0;
};

core::Result<SeedReport> seed(const SeedOptions& options);

// --rows, --devices, --days, --connections, --seed.
void add_seed_flags(CLI::App& command, SeedOptions& options);

}  // namespace logpipe::loadtest
