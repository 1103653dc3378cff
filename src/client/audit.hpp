// `logpipe audit`: a terminal client of GET /api/v1/audit, as `logpipe query` is of
// /api/v1/logs. Its flags are the API's filters; it follows next_cursor until --limit rows were
// printed or there are no more, and prints each row as a table line or as the API's object
// (json: one array; ndjson: one object per line).
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "client/query.hpp"

namespace logpipe::client {

struct AuditCommandLine {
  std::string url = "http://127.0.0.1:8080";
  std::string api_key;
  TlsFlags tls;
  std::vector<std::string> actions;  // each as given: "app.delete" or "app.delete,logs.delete"
  std::string key_id, from, to;
  std::size_t limit = 100;
  std::string output = "table";
  std::size_t timeout_seconds = 60;
};

void add_audit_flags(CLI::App& command, AuditCommandLine& line);

// The checked command (Query's fields: `search` holds the filters); Errc::invalid_argument for a
// bad --url or --output.
core::Result<Query> finish_audit_flags(const AuditCommandLine& line);

// "/api/v1/audit?<filters>&limit=<page_size>[&cursor=<cursor>]", percent-encoded.
std::string audit_page_target(const Params& filters, std::size_t page_size,
                              std::string_view cursor);

// One row of a page as the table shows it:
// "<at> <action> <target|-> key=<key_id|-> from=<remote_addr|-> request=<request_id|-> <detail>\n",
// control characters escaped. `entry` is an object of GET /api/v1/audit.
core::Result<std::string> audit_table_row(std::string_view entry);

// Runs the command and prints to `out`; errors as run() of `logpipe query` words them.
core::Status run_audit(const Query& query, std::FILE* out);

// A keyset-paged listing of the API (GET /api/v1/audit, /api/v1/alerts/events): the array
// `member` of each page, the next page from next_cursor.
struct Listing {
  std::string_view path;                                           // "/api/v1/audit"
  std::string_view member;                                         // "entries"
  std::string_view what;                                           // "the audit log", for messages
  core::Result<std::string> (*table_row)(std::string_view entry);  // one line, with its "\n"
};
// GET listing.path?<query.search>&limit=…[&cursor=…] until query.limit entries were printed or
// no page follows; each entry as listing.table_row gives it, or the API's object (json: one
// array; ndjson: one per line).
core::Status run_listing(const Query& query, const Listing& listing, std::FILE* out);

}  // namespace logpipe::client
