// `logpipe query`: a terminal client of GET /api/v1/logs, like Loki's logcli. Its flags carry
// the API's filter names and syntax (query/logs.hpp); it follows next_cursor over pages of up to
// 1000 until --limit logs were printed or the search has no more, and prints each log as a table
// row or as the API's own JSON object (json: one array once all pages are in; ndjson: a line per
// log, written page by page).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "http/client.hpp"

namespace CLI {
class App;
}

namespace logpipe::client {

enum class Output { table, json, ndjson };
// --output: "table", "json" or "ndjson"; Errc::invalid_argument naming them otherwise.
core::Result<Output> parse_output(std::string_view text);

using Params = std::vector<std::pair<std::string, std::string>>;

// --cacert and --insecure, shared by `logpipe query` and `logpipe audit`.
struct TlsFlags {
  std::string cacert;
  bool insecure = false;
};
void add_tls_flags(CLI::App& command, TlsFlags& flags);

// The flags as given on the command line (add_flags binds them); empty means not given.
struct CommandLine {
  std::string url = "http://127.0.0.1:8080";
  std::string api_key;
  TlsFlags tls;
  std::string device_id, service, app, host, min_level, from, to, order;
  std::vector<std::string> levels;  // each as given: "ERROR" or "ERROR,FATAL"
  std::vector<std::string> attrs;   // "key.path=value"
  std::vector<std::string> words;   // the positional arguments
  std::size_t limit = 100;
  std::string output = "table";
  bool no_color = false;
  std::size_t timeout_seconds = 60;
};

// Every flag of `logpipe query`: the server's, the filters', and its own (--from, --to,
// --order, --limit, --output, --no-color, --timeout).
void add_flags(CLI::App& command, CommandLine& line);
// --url, --api-key, --cacert, --insecure: how to reach the server (query, tail).
void add_server_flags(CLI::App& command, CommandLine& line);
// The filters that search and tail share, in the API's names (--device-id, --service, --app,
// --host, --level, --min-level, --attr, the words); search_params() turns them into parameters.
void add_filter_flags(CLI::App& command, CommandLine& line);

// A checked query, ready to run.
struct Query {
  std::string url;  // as given, for messages
  http::Url server;
  http::TlsOptions tls;   // for an https:// server
  http::Headers headers;  // X-API-Key when a key was given
  Params search;          // the filters in the API's names, without limit and cursor
  std::size_t limit = 100;
  Output output = Output::table;
  bool no_color = false;
  std::chrono::milliseconds timeout{60'000};
};

// Errc::invalid_argument for a usage error: a bad --url or --output, an --attr without "key=".
core::Result<Query> finish_flags(const CommandLine& line);

// The search's parameters in the API's names, in this order: device_id, service, app, host,
// level…, min_level, from, to, attrs.<path>…, q, order. Values go as given: the server checks
// them and names the one it refuses.
core::Result<Params> search_params(const CommandLine& line);

// The `q` parameter from the positional arguments, joined by spaces. An argument with a space or
// tab in it is a phrase and goes in double quotes, as the API matches a quoted phrase whole,
// unless it has double quotes of its own: then it is already written in the API's syntax
// ('"card declined" refund') and goes as it is.
std::string search_text(const std::vector<std::string>& words);

// The largest page the API serves.
inline constexpr std::size_t kMaxPageSize = 1000;

// "/api/v1/logs?<search>&limit=<page_size>[&cursor=<cursor>]", every name and value
// percent-encoded.
std::string page_target(const Params& search, std::size_t page_size, std::string_view cursor);

// `text` to `out`, flushed (a pager or a pipe sees each page as it comes); Errc::io naming the
// reason when it cannot be written.
core::Status write_output(std::FILE* out, std::string_view text);

// GET of one page: the answer when it is a 200; else the server unreachable (with a hint at
// --url), its certificate refused (with a hint at --cacert), or its refusal as describe_error()
// words it.
core::Result<http::ClientResponse> fetch_page(http::SyncClient& client, const Query& query,
                                              std::string_view target);

// Whether text for `out` may carry colours: `out` is a terminal and NO_COLOR
// (https://no-color.org) is unset or empty.
bool terminal_wants_color(std::FILE* out);

// Runs the query and prints to `out`. Colour (table only) when `out` is a terminal, unless
// --no-color or NO_COLOR is set. Errors: the server unreachable (with a hint at --url), its
// refusal as describe_error() words it, an answer that is not a page, or `out` failing.
core::Status run(const Query& query, std::FILE* out);

}  // namespace logpipe::client
