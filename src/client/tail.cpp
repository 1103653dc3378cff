#include "client/tail.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "http/query_string.hpp"
#include "http/sse_parser.hpp"

namespace logpipe::client {
namespace {

using core::Errc;

// SGR parameters of a line's colour; empty: the terminal's own.
std::string_view line_color(std::string_view level) {
  if (level == "ERROR" || level == "CRITICAL" || level == "FATAL") return "31";  // red
  if (level == "WARNING" || level == "WARN") return "33";                        // yellow
  if (level == "DEBUG" || level == "TRACE") return "2";                          // dim
  return {};
}

std::string seconds_text(std::chrono::milliseconds delay) {
  if (delay < std::chrono::seconds(1)) return fmt::format("{} ms", delay.count());
  if (delay.count() % 1000 == 0) return fmt::format("{} s", delay.count() / 1000);
  return fmt::format("{:.1f} s", static_cast<double>(delay.count()) / 1000);
}

// A media type without its parameters, in lower case ("text/event-stream; charset=utf-8").
bool is_event_stream(std::string_view content_type) {
  content_type = content_type.substr(0, content_type.find(';'));
  while (!content_type.empty() && content_type.back() == ' ')
    content_type.remove_suffix(1);
  constexpr std::string_view kType = "text/event-stream";
  return content_type.size() == kType.size() &&
         std::equal(kType.begin(), kType.end(), content_type.begin(), [](char a, char b) {
           return a == std::tolower(static_cast<unsigned char>(b));
         });
}

enum class Written { ok, closed };

// `text` to `out`, flushed: a pipe's reader sees each record as it comes. A reader that left
// (EPIPE; SIGPIPE is ignored by the command) is `closed`, the normal end of `tail | head`.
core::Result<Written> write_text(std::FILE* out, std::string_view text) {
  if (text.empty()) return Written::ok;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), out) == text.size() && std::fflush(out) == 0)
    return Written::ok;
  if (errno == EPIPE) return Written::closed;
  return core::make_error(Errc::io,
                          fmt::format("cannot write the output: {}", std::strerror(errno)));
}

// Statuses not worth asking again: the request itself is wrong (a filter, the key, its scope,
// an endpoint this server does not have). 408 and 429 are worth waiting for.
bool refused_for_good(unsigned status) {
  return status >= 400 && status < 500 && status != 408 && status != 429;
}

// The stream's events turned into output: records to `out` (one write per network read),
// drop notices to `err`.
class Printer {
 public:
  Printer(const Tail& tail, std::FILE* out, std::FILE* err, bool color)
      : tail_(tail), out_(out), err_(err), color_(color) {}

  // False when the tail is over: `out` closed or failing (see status()), or max_records.
  bool print(std::vector<http::SseEvent>& events) {
    std::string text;
    for (auto& event : events) {
      if (event.type == "message") {
        if (tail_.max_records != 0 && printed_ == tail_.max_records) break;
        ++printed_;
        record(event.data, text);
      } else if (event.type == "dropped") {
        // The records before it were printed before the server dropped any.
        if (!flush(text)) return false;
        std::fputs(dropped_notice(event.data).c_str(), err_);
      }
      // Other event types are for newer clients.
    }
    return flush(text) && (tail_.max_records == 0 || printed_ < tail_.max_records);
  }

  const core::Status& status() const { return status_; }

 private:
  void record(std::string_view data, std::string& text) {
    if (tail_.output == TailOutput::json) {
      text.append(data);  // the API's JSON as the server wrote it
      text.push_back('\n');
      return;
    }
    auto log = parse_log(data);
    if (!log) {
      std::string shown;
      append_printable(shown, data.substr(0, 200));
      fmt::print(err_, "logpipe tail: skipped an event that is not a log: {}\n", shown);
      return;
    }
    text += tail_line(*log, color_);
  }

  bool flush(std::string& text) {
    auto written = write_text(out_, text);
    text.clear();
    if (!written) status_ = written.error();
    return written && *written == Written::ok;
  }

  const Tail& tail_;
  std::FILE* out_;
  std::FILE* err_;
  bool color_;
  std::size_t printed_ = 0;
  core::Status status_;
};

}  // namespace

void add_tail_flags(CLI::App& c, TailCommandLine& line) {
  add_server_flags(c, line.filters);
  add_filter_flags(c, line.filters);
  c.add_option("--output", line.output,
               "text (time, level, [service/host/device], message) or json (each record as the "
               "API's JSON object, one per line)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  c.add_option("--color", line.color,
               "auto (when the output is a terminal and NO_COLOR is not set), always or never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  c.add_option("--timeout", line.timeout_seconds,
               "seconds to wait for connecting and the server's answer (the stream itself runs "
               "until interrupted)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

core::Result<Tail> finish_tail_flags(const TailCommandLine& line) {
  Tail tail;
  auto server = http::parse_url(line.filters.url);
  if (!server) return server.error();
  auto filters = search_params(line.filters);
  if (!filters) return filters.error();
  tail.url = line.filters.url;
  tail.server = std::move(server).value();
  tail.tls = {line.filters.tls.cacert, line.filters.tls.insecure};
  tail.filters = std::move(filters).value();
  tail.headers = {{"Accept", "text/event-stream"}, {"User-Agent", "logpipe-tail"}};
  if (!line.filters.api_key.empty()) tail.headers.emplace_back("X-API-Key", line.filters.api_key);
  if (line.output == "text") {
    tail.output = TailOutput::text;
  } else if (line.output == "json") {
    tail.output = TailOutput::json;
  } else {
    return core::make_error(Errc::invalid_argument,
                            fmt::format("invalid --output \"{}\": text or json", line.output));
  }
  if (line.color == "auto") {
    tail.color = ColorMode::automatic;
  } else if (line.color == "always") {
    tail.color = ColorMode::always;
  } else if (line.color == "never") {
    tail.color = ColorMode::never;
  } else {
    return core::make_error(
        Errc::invalid_argument,
        fmt::format("invalid --color \"{}\": auto, always or never", line.color));
  }
  tail.timeout = std::chrono::seconds(line.timeout_seconds);
  return tail;
}

std::string tail_target(const Params& filters) {
  if (filters.empty()) return "/api/v1/tail";
  return "/api/v1/tail?" + http::query_string(filters);
}

std::string tail_line(const LogEntry& log, bool color) {
  std::string line;
  const auto sgr = color ? line_color(log.level) : std::string_view();
  if (!sgr.empty()) fmt::format_to(std::back_inserter(line), "\x1b[{}m", sgr);
  append_printable(line, log.ts);
  line.push_back(' ');
  std::string level;
  append_printable(level, log.level);
  fmt::format_to(std::back_inserter(line), "{:<8} [", level);
  append_printable(line, log.service.value_or("-"));
  line.push_back('/');
  append_printable(line, log.host.value_or("-"));
  line.push_back('/');
  append_printable(line, log.device_id.value_or("-"));
  line += "] ";
  append_printable(line, log.message);
  if (!sgr.empty()) line += "\x1b[0m";
  line.push_back('\n');
  return line;
}

std::string dropped_notice(std::string_view data) {
  simdjson::dom::parser parser;
  simdjson::dom::object notice;
  std::uint64_t dropped = 0;
  if (parser.parse(data.data(), data.size()).get(notice) == simdjson::SUCCESS &&
      notice["dropped"].get(dropped) == simdjson::SUCCESS) {
    std::string line;
    if (dropped != 0)
      line = fmt::format(
          "logpipe tail: the server dropped {} record{} (this client read too slowly)\n", dropped,
          dropped == 1 ? "" : "s");
    std::uint64_t missed = 0;
    if (notice["missed_batches"].get(missed) == simdjson::SUCCESS && missed != 0)
      line += fmt::format(
          "logpipe tail: the server's tail missed {} batch{} of logs (it fell behind storage); "
          "records may be missing here\n",
          missed, missed == 1 ? "" : "es");
    if (!line.empty()) return line;
  }
  std::string shown;
  append_printable(shown, data.substr(0, 200));
  return fmt::format("logpipe tail: the server dropped records (this client read too slowly): {}\n",
                     shown);
}

core::Status run_tail(const Tail& tail, std::FILE* out, std::FILE* err) {
  const bool color = tail.output == TailOutput::text &&
                     (tail.color == ColorMode::always ||
                      (tail.color == ColorMode::automatic && terminal_wants_color(out)));
  http::SyncClient client(tail.server, tail.timeout, tail.tls);
  http::SseParser parser;
  Printer printer(tail, out, err, color);
  const std::string target = tail_target(tail.filters);
  unsigned failures = 0;  // in a row, without a stream between
  for (;;) {
    parser.restart();
    http::Headers headers = tail.headers;
    // The standard's resumption; this server sends no ids today, so it is never set.
    if (!parser.last_event_id().empty())
      headers.emplace_back("Last-Event-ID", parser.last_event_id());
    bool streaming = false, over = false;
    std::optional<core::Error> broken;  // the stream's framing, not the network
    std::vector<http::SseEvent> events;
    const auto on_head = [&](const http::ClientResponse& head) {
      streaming = is_event_stream(head.content_type);
      return streaming;
    };
    const auto on_body = [&](std::string_view piece) {
      events.clear();
      auto fed = parser.feed(piece, events);
      if (!printer.print(events)) {
        over = true;
        return false;
      }
      if (!fed) broken = fed.error();
      return fed.ok();
    };
    auto answer = client.get_stream(target, headers, tail.idle_timeout, on_head, on_body);
    if (over) return printer.status();
    std::string trouble;
    if (!answer) {
      // A certificate refused, or a CA file that cannot be read: the same again next time.
      if (answer.error().code == Errc::forbidden || answer.error().code == Errc::invalid_argument)
        return answer.error();
      trouble = answer.error().message;
      if (!streaming && answer.error().code == Errc::unavailable)
        trouble += fmt::format(" (is logpipe serving at {}? see --url, LOGPIPE_URL)", tail.url);
    } else if (answer->status != 200) {
      auto why = describe_error(answer->status, answer->reason, answer->body);
      if (refused_for_good(answer->status))
        return core::make_error(answer->status == 401   ? Errc::unauthenticated
                                : answer->status == 403 ? Errc::forbidden
                                                        : Errc::invalid_argument,
                                std::move(why));
      trouble = std::move(why);
    } else if (!streaming) {
      return core::make_error(
          Errc::malformed,
          fmt::format("the answer of {} to {} is not an event stream (Content-Type: {}); does "
                      "this server have the live tail?",
                      tail.url, target,
                      answer->content_type.empty() ? "none" : answer->content_type));
    } else if (broken) {
      trouble = broken->message;
    }
    if (streaming) failures = 0;
    // The server's delay (capped: a server cannot park the client for hours), doubled for each
    // failure in a row.
    // A failure waits at least first_retry, whatever the server's delay for its clean ends.
    const auto base = std::min(parser.retry().value_or(tail.first_retry), tail.max_backoff);
    auto delay = trouble.empty() ? base : std::max(base, tail.first_retry);
    for (unsigned i = 0; i < failures && delay < tail.max_backoff; ++i)
      delay = std::min(delay * 2, tail.max_backoff);
    if (!trouble.empty()) {
      ++failures;
      fmt::print(err, "logpipe tail: {}; reconnecting in {}\n", trouble, seconds_text(delay));
      std::fflush(err);
    }
    // Else the server ended the stream (its connections' lifetime): reconnect quietly.
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace logpipe::client
