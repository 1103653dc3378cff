// `logpipe tail`: the terminal client of the live tail (GET /api/v1/tail, Server-Sent Events),
// like Loki's `logcli query --tail`. Its filters are `logpipe query`'s flags (the API's filter
// names, through the same search_params). It prints each record as it comes, as a line coloured
// by level or as the API's JSON (NDJSON, for jq), and runs until interrupted: when the server
// ends the stream (its maximum lifetime) it reconnects after the server's `retry:` delay; when
// the network fails, or no byte came for the idle timeout (the server pings every 15 s), it says
// so on stderr and reconnects, backing off while the failures go on. A refusal of the request
// (401, 403, 422: a wrong key or filter) or of the server's certificate ends it with the reason.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <string>
#include <string_view>

#include "client/query.hpp"
#include "client/render.hpp"
#include "core/result.hpp"
#include "http/client.hpp"

namespace CLI {
class App;
}

namespace logpipe::client {

enum class TailOutput { text, json };
enum class ColorMode { automatic, always, never };

struct TailCommandLine {
  CommandLine
      filters;  // --url, --api-key, TLS and the filters, bound as `logpipe query` binds them
  std::string output = "text";
  std::string color = "auto";
  std::size_t timeout_seconds = 10;
};

void add_tail_flags(CLI::App& command, TailCommandLine& line);

struct Tail {
  std::string url;  // as given, for messages
  http::Url server;
  http::TlsOptions tls;
  http::Headers headers;
  Params filters;  // in the API's names
  TailOutput output = TailOutput::text;
  ColorMode color = ColorMode::automatic;
  // Connecting and the answer's head.
  std::chrono::milliseconds timeout{10'000};
  // No byte for this long (three of the server's 15 s pings missed): the connection is taken
  // for dead and made again.
  std::chrono::milliseconds idle_timeout{45'000};
  // The wait before reconnecting until the server's `retry:` says otherwise; it doubles with each
  // failure in a row, up to max_backoff.
  std::chrono::milliseconds first_retry{1'000};
  std::chrono::milliseconds max_backoff{30'000};
  // Stop after this many records (0: never). For tests, which cannot press Ctrl-C.
  std::size_t max_records = 0;
};

// Errc::invalid_argument for a usage error: a bad --url, --output or --color, an --attr without
// "key=".
core::Result<Tail> finish_tail_flags(const TailCommandLine& line);

// "/api/v1/tail?<filters>", percent-encoded as page_target() does.
std::string tail_target(const Params& filters);

// "<ts> <LEVEL, padded> [<service>/<host>/<device_id>] <message>\n" ("-" for what the log does
// not have), control characters escaped as table_row() escapes them. `color` colours the whole
// line by level: ERROR, CRITICAL and FATAL red, WARNING yellow, DEBUG and TRACE dim, the rest
// (INFO, NOTICE) as the terminal's text.
std::string tail_line(const LogEntry& log, bool color);

// The stderr lines for an `event: dropped` whose data is {"dropped":N} or
// {"dropped":N,"missed_batches":K}.
std::string dropped_notice(std::string_view data);

// Runs the tail, records to `out`, notices (drops, reconnections) to `err`, until interrupted
// (the process's signal), `out` is closed (a pipe whose reader left: success, as for `head`),
// max_records, or an error that reconnecting cannot mend.
core::Status run_tail(const Tail& tail, std::FILE* out, std::FILE* err);

}  // namespace logpipe::client
