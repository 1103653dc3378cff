// `logpipe loadtest`: drives a logpipe server over keep-alive HTTP/1.1 (or HTTPS) and then checks,
// in PostgreSQL, that every record it got a 2xx for was stored exactly once.
//
// Closed loop (the classic stress test): devices × logs_per_device records in requests of
// batch_size, `concurrency` requests in flight at a time.
// Open loop (rate > 0): requests are due at a fixed rate for `duration`; each one's latency is
// measured from the moment it was due, not from when a connection got free to send it, so an
// overloaded server shows as latency instead of as a lower offered rate (no coordinated
// omission).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "http/client.hpp"
#include "loadtest/generator.hpp"

namespace CLI {
class App;
}

namespace logpipe::loadtest {

struct Options {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
  bool https = false;    // TLS to host:port (serve with tls_cert)
  http::TlsOptions tls;  // how its certificate is checked
  Api api = Api::batch;
  // Api::syslog_tcp: the syslog TCP listener (syslog_tcp_addr) the frames go to.
  std::string syslog_host = "127.0.0.1";
  unsigned short syslog_port = 5514;
  std::size_t devices = 100;
  std::size_t logs_per_device = 100;
  std::size_t concurrency = 200;  // connections (each with one request in flight)
  std::size_t batch_size = 5;     // records per request (1 for Api::single)
  double rate = 0;                // requests per second; 0: closed loop
  std::chrono::milliseconds duration{0};
  std::size_t threads = 1;
  std::chrono::milliseconds request_timeout{10'000};
  // Verification in PostgreSQL after the load; run() skips it when database_url is empty.
  bool verify = true;
  std::string database_url;
  std::chrono::milliseconds verify_timeout{120'000};
  std::string run_id;  // empty: a new random id
  bool json = false;
  // Sent as X-API-Key (auth = keys); verification then looks for the logs in the key's tenant.
  std::string api_key;
};

struct Latency {
  double p50 = 0, p95 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;  // milliseconds
};

struct Verification {
  bool done = false;                    // false when skipped
  std::uint64_t found = 0;              // rows of this run in PostgreSQL
  std::uint64_t duplicates = 0;         // rows beyond the first of a seq
  std::uint64_t missing = 0;            // acknowledged seqs not stored
  std::uint64_t rejected_stored = 0;    // seqs stored although the server answered an error
  std::uint64_t unanswered_stored = 0;  // seqs of requests that got no answer, stored (allowed)
  double seconds = 0;                   // first send → the last acknowledged record seen stored
  bool timed_out = false;
  std::string error;  // PostgreSQL unreachable, etc.
};

struct Report {
  std::string run_id;
  Api api = Api::batch;
  std::string mode;  // "closed" or "open"
  bool https = false;
  double offered_rate = 0;
  std::size_t concurrency = 0;
  std::size_t batch_size = 0;
  std::uint64_t requests_sent = 0;
  std::uint64_t requests_ok = 0;  // 2xx
  std::uint64_t records_sent = 0;
  std::uint64_t records_acked = 0;
  std::uint64_t records_rejected = 0;           // answered with a non-2xx status
  std::map<int, std::uint64_t> statuses;        // HTTP status → count
  std::map<std::string, std::uint64_t> errors;  // connect / timeout / closed … → count
  double seconds = 0;                           // first send → last response
  Latency latency;
  Verification verify;

  double logs_per_second() const { return seconds > 0 ? records_acked / seconds : 0; }
  double requests_per_second() const { return seconds > 0 ? requests_ok / seconds : 0; }
  double end_to_end_logs_per_second() const {
    return verify.seconds > 0 ? static_cast<double>(verify.found) / verify.seconds : 0;
  }
  // Verification ran and found every acknowledged record exactly once, none that the server
  // answered with an error, and no duplicates.
  bool verified() const {
    return verify.done && verify.error.empty() && !verify.timed_out && verify.missing == 0 &&
           verify.duplicates == 0 && verify.rejected_stored == 0;
  }
};

// Sends the load, then (with a database URL) verifies. Errors only for what stops a run from
// starting: an invalid option, or a server that does not answer at all.
core::Result<Report> run(Options options);

std::string format_table(const Report& report);
std::string format_json(const Report& report);

// The percentile (0..100) of sorted latencies in microseconds, in milliseconds.
double percentile_ms(const std::vector<std::uint32_t>& sorted_micros, double percentile);

// The loadtest's own flags, as given on the command line; the shared ones (--http-addr,
// --database-url) come from config::Options.
struct CommandLine {
  Options options;
  std::string api = "batch";
  std::string protocol = "http";  // or "syslog-tcp"
  std::string syslog_addr = "127.0.0.1:5514";
  std::string rate;      // "5000" or "5000/s"
  std::string duration;  // "60s", "500ms", "2m"
  bool no_verify = false;
};
void add_flags(CLI::App& command, CommandLine& line);
// Checks and converts what add_flags collected (one clear error for a bad value).
core::Result<Options> finish_flags(const CommandLine& line);

}  // namespace logpipe::loadtest
