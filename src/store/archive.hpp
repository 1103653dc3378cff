// Archives of `logs` partitions: one zstd-compressed NDJSON file per partition, written before
// retention drops it, and read back by `logpipe import`. One line per record:
//   {"tenant_id","id","ts","received_at","level","message","device_id","service","app","host",
//    "attrs","source_format"}
// Import stores through write_entries under the stream name "import" with entry ids
// "<file name>:<chunk>", so importing a file twice stores its records once.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/result.hpp"
#include "store/batch_writer.hpp"
#include "store/connection.hpp"

namespace logpipe::store {

// Writes every row of `partition` to `path` (through `path`.tmp, fsynced, renamed). Returns the
// number of rows written.
core::Result<std::int64_t> archive_partition(Connection& connection, const std::string& partition,
                                             const std::string& path);

struct ImportReport {
  std::int64_t records = 0;         // read from the file
  std::int64_t records_stored = 0;  // newly stored (0 for a file imported before)
};

// Reads an archive and stores its records, creating the daily partitions they need.
core::Result<ImportReport> import_archive(Connection& connection, const std::string& path);

}  // namespace logpipe::store
