// `logpipe tail` without a logpipe server: its flags as the query string, its lines, and its
// reading of a live tail served by an in-process http::Server route that plays the wire contract
// of GET /api/v1/tail (records, a drop notice, pings, `retry:`, a stream that ends, one that
// stalls, a 503, a 422).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>

#include "client/tail.hpp"
#include "http_server.hpp"

namespace logpipe::client {
namespace {

using namespace std::chrono_literals;
using http::bhttp::status;

// The command line as main() parses it: argv after "logpipe tail".
core::Result<Tail> parse(const std::vector<std::string>& args) {
  CLI::App app;
  TailCommandLine line;
  add_tail_flags(app, line);
  std::vector<const char*> argv{"tail"};
  for (const auto& a : args)
    argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return finish_tail_flags(line);
}

TEST(TailFlags, TheFiltersOfQueryInTheApisNames) {
  const auto tail = parse({"--service", "pay ments", "--level", "ERROR", "--level", "fatal",
                           "--min-level", "warning", "--device-id", "dev-1", "--app", "shop",
                           "--host", "h1", "--attr", "http.status=500", "card", "declined funds"});
  ASSERT_TRUE(tail) << tail.error().message;
  EXPECT_EQ(tail_target(tail->filters),
            "/api/v1/tail?device_id=dev-1&service=pay%20ments&app=shop&host=h1&level=ERROR"
            "&level=fatal&min_level=warning&attrs.http.status=500"
            "&q=card%20%22declined%20funds%22");
  EXPECT_EQ(tail->output, TailOutput::text);
  EXPECT_EQ(tail->color, ColorMode::automatic);
  EXPECT_EQ(tail_target(parse({})->filters), "/api/v1/tail");
}

TEST(TailFlags, OutputColorAndNoTimeRange) {
  EXPECT_EQ(parse({"--output", "json"})->output, TailOutput::json);
  EXPECT_EQ(parse({"--color", "always"})->color, ColorMode::always);
  EXPECT_EQ(parse({"--color", "never"})->color, ColorMode::never);
  EXPECT_THROW((void)parse({"--color", "sometimes"}), CLI::ValidationError);
  EXPECT_THROW((void)parse({"--output", "table"}), CLI::ValidationError);
  // A tail starts now and has no end: the search's range, order and limit are not its flags.
  EXPECT_THROW((void)parse({"--from", "15m"}), CLI::ParseError);
  EXPECT_THROW((void)parse({"--limit", "5"}), CLI::ParseError);
  const auto bad_attr = parse({"--attr", "novalue"});
  ASSERT_FALSE(bad_attr);
  EXPECT_NE(bad_attr.error().message.find("--attr"), std::string::npos);
  const auto keyed = parse({"--api-key", "lp_secret", "--url", "https://logs.example/base"});
  ASSERT_TRUE(keyed);
  EXPECT_TRUE(keyed->server.tls);
  EXPECT_EQ(keyed->server.base_path, "/base");
  EXPECT_NE(std::find(keyed->headers.begin(), keyed->headers.end(),
                      std::pair<std::string, std::string>{"X-API-Key", "lp_secret"}),
            keyed->headers.end());
}

LogEntry entry(std::string level, std::string message) {
  LogEntry log;
  log.ts = "2026-11-26T19:30:00.123456Z";
  log.level = std::move(level);
  log.message = std::move(message);
  log.service = "payments";
  log.host = "h1";
  log.device_id = "dev-1";
  return log;
}

TEST(TailLine, TimeLevelSourceAndMessage) {
  EXPECT_EQ(tail_line(entry("ERROR", "card declined"), false),
            "2026-11-26T19:30:00.123456Z ERROR    [payments/h1/dev-1] card declined\n");
  LogEntry bare = entry("INFO", "line one\nline two \x1b[31m");
  bare.service.reset();
  bare.host.reset();
  bare.device_id.reset();
  EXPECT_EQ(tail_line(bare, false),
            "2026-11-26T19:30:00.123456Z INFO     [-/-/-] line one\\nline two \\x1b[31m\n");
}

TEST(TailLine, ColouredByLevelOnlyWhenAsked) {
  EXPECT_EQ(tail_line(entry("ERROR", "x"), true),
            "\x1b[31m2026-11-26T19:30:00.123456Z ERROR    [payments/h1/dev-1] x\x1b[0m\n");
  for (const char* red : {"CRITICAL", "FATAL"})
    EXPECT_TRUE(tail_line(entry(red, "x"), true).starts_with("\x1b[31m")) << red;
  EXPECT_TRUE(tail_line(entry("WARNING", "x"), true).starts_with("\x1b[33m"));
  EXPECT_TRUE(tail_line(entry("DEBUG", "x"), true).starts_with("\x1b[2m"));
  EXPECT_TRUE(tail_line(entry("TRACE", "x"), true).starts_with("\x1b[2m"));
  // INFO and NOTICE keep the terminal's colour.
  EXPECT_EQ(tail_line(entry("INFO", "x"), true), tail_line(entry("INFO", "x"), false));
  EXPECT_EQ(tail_line(entry("NOTICE", "x"), true), tail_line(entry("NOTICE", "x"), false));
}

TEST(TailLine, DropNotice) {
  EXPECT_EQ(dropped_notice(R"({"dropped":12})"),
            "logpipe tail: the server dropped 12 records (this client read too slowly)\n");
  EXPECT_EQ(dropped_notice(R"({"dropped":1})"),
            "logpipe tail: the server dropped 1 record (this client read too slowly)\n");
  EXPECT_EQ(dropped_notice(R"({"dropped":0,"missed_batches":2})"),
            "logpipe tail: the server's tail missed 2 batches of logs (it fell behind storage); "
            "records may be missing here\n");
  EXPECT_EQ(dropped_notice(R"({"dropped":3,"missed_batches":1})"),
            "logpipe tail: the server dropped 3 records (this client read too slowly)\n"
            "logpipe tail: the server's tail missed 1 batch of logs (it fell behind storage); "
            "records may be missing here\n");
  EXPECT_EQ(dropped_notice("many"),
            "logpipe tail: the server dropped records (this client read too slowly): many\n");
}

// ---- Against a server ----

std::string record(int n, std::string_view level = "ERROR") {
  return fmt::format(
      R"({{"ts":"2026-11-26T19:30:0{}.000000Z","received_at":"2026-11-26T19:30:0{}.000100Z",)"
      R"("device_id":"dev-{}","service":"api","app":"shop","host":"h1","level":"{}",)"
      R"("message":"record {}","attrs":{{"n":{}}},"source_format":"json"}})",
      n, n, n, level, n, n);
}

std::string event(const std::string& json) {
  return "data: " + json + "\n\n";
}

std::string read_all(std::FILE* file) {
  std::rewind(file);
  std::string text;
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, file))
    text.append(buffer, n);
  return text;
}

std::size_t count(std::string_view text, std::string_view part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

// What each connection of the tail route does, in order; the last one repeats.
enum class Act { stream_and_end, stream_and_stall, unavailable, invalid, json_page, last_record };

class TailAgainstServer : public http::ServerTest {
 protected:
  ~TailAgainstServer() override { stop_ = true; }

  void serve(std::vector<Act> acts) {
    acts_ = std::move(acts);
    router_.add(http::verb::get, "/api/v1/tail",
                [this](http::Request& req, http::RequestContext&, http::Reply reply) {
                  const std::size_t n = connections_++;
                  {
                    std::lock_guard lock(mutex_);
                    targets_.emplace_back(req.target());
                  }
                  answer(acts_[std::min(n, acts_.size() - 1)], req, reply);
                });
    start_server();
  }

  void answer(Act act, http::Request& req, const http::Reply& reply) {
    if (act == Act::unavailable)
      return reply(http::error_response(
          req, core::make_error(core::Errc::unavailable, "the live tail is starting")));
    if (act == Act::invalid)
      return reply(http::error_response(
          req, core::make_error(core::Errc::invalid_field,
                                "from is not a parameter of the live tail (it starts now)")));
    if (act == Act::json_page) return reply(http::json_response(req, status::ok, R"({"logs":[]})"));
    http::Response head{status::ok, req.version()};
    head.set(http::bhttp::field::content_type, "text/event-stream");
    head.set(http::bhttp::field::cache_control, "no-store");
    auto stream = reply.stream(std::move(head));
    spawn([this, act, stream] {
      const auto send = [&stream](std::string chunk) {
        stream->write(std::move(chunk));
        std::this_thread::sleep_for(10ms);
      };
      if (act == Act::stream_and_end) {
        // A ping, a record split mid-line and across a CRLF, a drop notice, a record, the delay
        // for the next connection, then the end of the stream (the server's maximum lifetime).
        send(": ping\n\n");
        const std::string first = "data: " + record(1) + "\r\n\r\n";
        send(first.substr(0, 20));
        send(first.substr(20, first.size() - 21));
        send(first.substr(first.size() - 1));
        send("event: dropped\ndata: {\"dropped\":7}\n\n");
        send(event(record(2, "INFO")) + "retry: 30\n\n");
        stream->finish();
      } else if (act == Act::stream_and_stall) {
        send(event(record(3, "WARNING")));
        // Nothing more, not even a ping: the client's idle timeout must end the connection.
        while (!stop_ && stream->open())
          std::this_thread::sleep_for(10ms);
        stream->abort();
      } else {
        send(event(record(4, "DEBUG")));
        while (!stop_ && stream->open())
          std::this_thread::sleep_for(10ms);
        stream->abort();
      }
    });
  }

  Tail tail(std::vector<std::string> args = {"--service", "api"}) {
    args.insert(args.end(), {"--url", "http://127.0.0.1:" + std::to_string(port())});
    auto made = parse(args);
    EXPECT_TRUE(made);
    made->timeout = 2s;
    made->idle_timeout = 300ms;
    made->first_retry = 20ms;
    made->max_backoff = 200ms;
    return *made;
  }

  std::vector<Act> acts_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<bool> stop_{false};
  std::vector<std::string> targets_;
};

struct Run {
  core::Status status;
  std::string out, err;
  std::chrono::milliseconds took{};
};

Run run(const Tail& tail) {
  std::FILE* out = std::tmpfile();
  std::FILE* err = std::tmpfile();
  const auto start = std::chrono::steady_clock::now();
  Run result{run_tail(tail, out, err), read_all(out), read_all(err)};
  result.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::fclose(out);
  std::fclose(err);
  return result;
}

TEST_F(TailAgainstServer, FollowsThroughTheStreamsEndAndAStallAndReconnects) {
  serve({Act::stream_and_end, Act::stream_and_stall, Act::last_record});
  auto options = tail();
  options.max_records = 4;
  const auto done = run(options);
  ASSERT_TRUE(done.status.ok()) << done.status.error().message;
  EXPECT_EQ(done.out,
            "2026-11-26T19:30:01.000000Z ERROR    [api/h1/dev-1] record 1\n"
            "2026-11-26T19:30:02.000000Z INFO     [api/h1/dev-2] record 2\n"
            "2026-11-26T19:30:03.000000Z WARNING  [api/h1/dev-3] record 3\n"
            "2026-11-26T19:30:04.000000Z DEBUG    [api/h1/dev-4] record 4\n");
  EXPECT_EQ(connections_, 3u);
  // The drop notice; the stall, said; the stream's end, a routine reconnection, said nothing.
  EXPECT_EQ(count(done.err, "the server dropped 7 records (this client read too slowly)"), 1u)
      << done.err;
  EXPECT_EQ(count(done.err, "no data from 127.0.0.1:"), 1u) << done.err;
  EXPECT_EQ(count(done.err, "reconnecting in"), 1u) << done.err;
  std::lock_guard lock(mutex_);
  for (const auto& target : targets_)
    EXPECT_EQ(target, "/api/v1/tail?service=api");
}

TEST_F(TailAgainstServer, JsonOutputIsEachRecordAsReceived) {
  serve({Act::stream_and_end, Act::last_record});
  auto options = tail({"--output", "json", "--color", "always"});
  options.max_records = 3;
  const auto done = run(options);
  ASSERT_TRUE(done.status.ok()) << done.status.error().message;
  EXPECT_EQ(done.out, record(1) + "\n" + record(2, "INFO") + "\n" + record(4, "DEBUG") + "\n");
}

TEST_F(TailAgainstServer, ServerErrorsAreRetriedWithBackoff) {
  serve({Act::unavailable, Act::unavailable, Act::last_record});
  auto options = tail();
  options.max_records = 1;
  const auto done = run(options);
  ASSERT_TRUE(done.status.ok()) << done.status.error().message;
  EXPECT_EQ(done.out, "2026-11-26T19:30:04.000000Z DEBUG    [api/h1/dev-4] record 4\n");
  EXPECT_EQ(count(done.err, "503 unavailable: the live tail is starting; reconnecting in"), 2u)
      << done.err;
  // first_retry, then twice that.
  EXPECT_NE(done.err.find("reconnecting in 20 ms\n"), std::string::npos) << done.err;
  EXPECT_NE(done.err.find("reconnecting in 40 ms\n"), std::string::npos) << done.err;
}

TEST_F(TailAgainstServer, ARefusedRequestEndsTheTailAtOnce) {
  serve({Act::invalid});
  const auto done = run(tail());
  ASSERT_FALSE(done.status.ok());
  EXPECT_EQ(done.status.error().message,
            "422 invalid_field: from is not a parameter of the live tail (it starts now)");
  EXPECT_EQ(connections_, 1u);
  EXPECT_EQ(done.out, "");
}

TEST_F(TailAgainstServer, AnAnswerThatIsNoEventStreamEndsIt) {
  serve({Act::json_page});
  const auto done = run(tail());
  ASSERT_FALSE(done.status.ok());
  EXPECT_NE(done.status.error().message.find("is not an event stream (Content-Type: "
                                             "application/json)"),
            std::string::npos)
      << done.status.error().message;
  EXPECT_EQ(connections_, 1u);
}

// `logpipe tail | head -3`: the reader left, the tail ends with success.
TEST_F(TailAgainstServer, AClosedOutputEndsItCleanly) {
  serve({Act::last_record});
  std::signal(SIGPIPE, SIG_IGN);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  ::close(pipe_fds[0]);
  std::FILE* out = ::fdopen(pipe_fds[1], "w");
  std::FILE* err = std::tmpfile();
  const auto status = run_tail(tail(), out, err);
  EXPECT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(read_all(err), "");
  std::fclose(out);
  std::fclose(err);
}

}  // namespace
}  // namespace logpipe::client
