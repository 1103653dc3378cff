// `logpipe query` without a server: its flags as the query string the API reads back (through the
// server's own parser), and its renderings of a page.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>

#include "client/query.hpp"
#include "client/render.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"
#include "query/logs.hpp"

namespace logpipe::client {
namespace {

// The command line as main() parses it: argv after "logpipe query".
core::Result<Query> parse(std::vector<std::string> args) {
  CLI::App app;
  CommandLine line;
  add_flags(app, line);
  std::vector<const char*> argv{"query"};
  for (const auto& a : args)
    argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return finish_flags(line);
}

std::string first_target(const std::vector<std::string>& args) {
  auto query = parse(args);
  if (!query) return "error: " + query.error().message;
  return page_target(query->search, std::min(query->limit, kMaxPageSize), "");
}

TEST(QueryFlags, NoneAskForTheNewestHundred) {
  EXPECT_EQ(first_target({}), "/api/v1/logs?limit=100");
  const auto query = parse({});
  ASSERT_TRUE(query);
  EXPECT_EQ(query->limit, 100u);
  EXPECT_EQ(query->output, Output::table);
  EXPECT_EQ(query->server.host, "127.0.0.1");
  EXPECT_EQ(query->server.port, 8080);
}

TEST(QueryFlags, EveryFilterInTheApisNamesAndPercentEncoded) {
  EXPECT_EQ(first_target({"--device-id", "dev-1",
                          "--service",   "pay ments",
                          "--app",       "shop",
                          "--host",      "h1",
                          "--level",     "ERROR",
                          "--level",     "warning,fatal",
                          "--min-level", "info",
                          "--from",      "15m",
                          "--to",        "2026-01-02T00:00:00+01:00",
                          "--attr",      "http.status=500",
                          "--attr",      "user.name=Zo\xC3\xAB & co",
                          "--order",     "asc",
                          "--limit",     "20",
                          "card",        "declined funds"}),
            "/api/v1/logs?device_id=dev-1&service=pay%20ments&app=shop&host=h1&level=ERROR"
            "&level=warning%2Cfatal&min_level=info&from=15m&to=2026-01-02T00%3A00%3A00%2B01%3A00"
            "&attrs.http.status=500&attrs.user.name=Zo%C3%AB%20%26%20co"
            "&q=card%20%22declined%20funds%22&order=asc&limit=20");
}

TEST(QueryFlags, RepeatableFlagsTakeOneValueEachAndLeaveTheWordsAlone) {
  EXPECT_EQ(
      first_target({"--level", "error", "timeout", "--attr", "k=v", "disk", "--level", "fatal"}),
      "/api/v1/logs?level=error&level=fatal&attrs.k=v&q=timeout%20disk&limit=100");
}

TEST(QueryFlags, ThePagesOfALargeLimitAreAtMostAThousandAndCarryTheCursor) {
  const auto query = parse({"--limit", "2500", "--service", "api"});
  ASSERT_TRUE(query);
  EXPECT_EQ(query->limit, 2500u);
  EXPECT_EQ(page_target(query->search, kMaxPageSize, "MTc5NTY3NDA5ODE0OTc0Ni4z"),
            "/api/v1/logs?service=api&limit=1000&cursor=MTc5NTY3NDA5ODE0OTc0Ni4z");
}

// Whatever the values hold, the server reads back exactly what was given.
TEST(QueryFlags, TheServersParserReadsBackEveryValue) {
  const auto query = parse({"--service",
                            "a+b=c&d e",
                            "--device-id",
                            "caf\xC3\xA9/%20",
                            "--level",
                            "ERROR,fatal",
                            "--min-level",
                            "warning",
                            "--from",
                            "15m",
                            "--to",
                            "2030-01-02T00:00:00Z",
                            "--attr",
                            "k=x=y&z",
                            "--attr",
                            "deep.er.key=1+1",
                            "--order",
                            "asc",
                            "--limit",
                            "7",
                            "Zo\xC3\xAB",
                            "1+1",
                            "&",
                            "disk full",
                            "\"card declined\" refund"});
  ASSERT_TRUE(query) << query.error().message;
  const core::Micros now = 1'800'000'000'000'000;
  auto read = query::parse_log_query(
      http::query_params(page_target(query->search, query->limit, "")), 3, now);
  ASSERT_TRUE(read) << read.error().message;
  const query::LogFilter& f = read->filter;
  EXPECT_EQ(f.tenant, 3);
  EXPECT_EQ(f.service, "a+b=c&d e");
  EXPECT_EQ(f.device_id, "caf\xC3\xA9/%20");
  EXPECT_EQ(f.levels, (std::vector<model::Level>{model::Level::error, model::Level::fatal}));
  EXPECT_EQ(f.from, now - 15 * 60'000'000LL);
  EXPECT_EQ(f.to, core::parse_rfc3339("2030-01-02T00:00:00Z").value());
  using Path = std::vector<std::string>;
  ASSERT_EQ(f.attrs.size(), 2u);
  EXPECT_EQ(f.attrs[0], std::pair(Path{"k"}, std::string("x=y&z")));
  EXPECT_EQ(f.attrs[1], std::pair(Path{"deep", "er", "key"}, std::string("1+1")));
  EXPECT_EQ(f.terms, (std::vector<std::string>{"Zo\xC3\xAB", "1+1", "&", "disk full",
                                               "card declined", "refund"}));
  EXPECT_TRUE(read->ascending);
  EXPECT_EQ(read->limit, 7);
}

TEST(QueryFlags, SearchTextQuotesArgumentsWithSpacesAndKeepsTheApisOwnSyntax) {
  EXPECT_EQ(search_text({}), "");
  EXPECT_EQ(search_text({"disk", "full"}), "disk full");
  EXPECT_EQ(search_text({"disk full"}), "\"disk full\"");
  EXPECT_EQ(search_text({"", "a\tb", "c"}), "\"a\tb\" c");
  EXPECT_EQ(search_text({"\"card declined\" refund"}), "\"card declined\" refund");
  EXPECT_EQ(search_text({"\"exact\""}), "\"exact\"");
}

TEST(QueryFlags, ApiKeyIsSentAsAHeaderOnlyWhenGiven) {
  const auto without = parse({});
  ASSERT_TRUE(without);
  for (const auto& [name, value] : without->headers)
    EXPECT_NE(name, "X-API-Key");
  const auto with = parse({"--api-key", "k-123"});
  ASSERT_TRUE(with);
  EXPECT_NE(std::find(with->headers.begin(), with->headers.end(),
                      std::pair<std::string, std::string>("X-API-Key", "k-123")),
            with->headers.end());
}

TEST(QueryFlags, UrlAndKeyFromTheEnvironmentUnlessFlagsSayOtherwise) {
  ::setenv("LOGPIPE_URL", "http://logs.example:9000/lp", 1);
  ::setenv("LOGPIPE_API_KEY", "env-key", 1);
  const auto from_env = parse({});
  const auto from_flags = parse({"--url", "http://127.0.0.1:1"});
  ::unsetenv("LOGPIPE_URL");
  ::unsetenv("LOGPIPE_API_KEY");
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->server.host, "logs.example");
  EXPECT_EQ(from_env->server.port, 9000);
  EXPECT_EQ(from_env->server.base_path, "/lp");
  EXPECT_EQ(from_env->headers.back(),
            (std::pair<std::string, std::string>("X-API-Key", "env-key")));
  ASSERT_TRUE(from_flags);
  EXPECT_EQ(from_flags->server.port, 1);
}

TEST(QueryFlags, HttpsWithACaFileFromTheFlagOrTheEnvironment) {
  const auto system_store = parse({"--url", "https://logs.example"});
  ASSERT_TRUE(system_store) << system_store.error().message;
  EXPECT_TRUE(system_store->server.tls);
  EXPECT_EQ(system_store->server.port, 443);
  EXPECT_EQ(system_store->tls.ca_file, "");
  EXPECT_FALSE(system_store->tls.insecure);
  ::setenv("LOGPIPE_CACERT", "/etc/logpipe/ca.pem", 1);
  const auto from_env = parse({"--url", "https://logs.example:8443"});
  const auto from_flag = parse({"--url", "https://logs.example", "--cacert", "ca.pem", "-k"});
  ::unsetenv("LOGPIPE_CACERT");
  ASSERT_TRUE(from_env);
  EXPECT_EQ(from_env->tls.ca_file, "/etc/logpipe/ca.pem");
  ASSERT_TRUE(from_flag);
  EXPECT_EQ(from_flag->tls.ca_file, "ca.pem");
  EXPECT_TRUE(from_flag->tls.insecure);
}

TEST(QueryFlags, OutputFormatsAndUsageErrors) {
  EXPECT_EQ(parse({"--output", "json"})->output, Output::json);
  EXPECT_EQ(parse({"--output", "ndjson", "--no-color"})->output, Output::ndjson);
  EXPECT_TRUE(parse({"--no-color"})->no_color);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"--attr", "novalue"}, {"--attr", "=v"}, {"--url", "ftp://x"}, {"--url", "https//x"}}) {
    const auto query = parse(args);
    ASSERT_FALSE(query) << args[1];
    EXPECT_EQ(query.error().code, core::Errc::invalid_argument);
    EXPECT_NE(query.error().message.find(args[1]), std::string::npos) << query.error().message;
  }
  // CLI11 refuses these itself (main exits 2).
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"--output", "xml"},
                                             {"--order", "sideways"},
                                             {"--limit", "0"},
                                             {"--limit", "-5"},
                                             {"--timeout", "0"},
                                             {"--service", "a", "--service", "b"},
                                             {"--bogus"}}) {
    EXPECT_THROW((void)parse(args), CLI::ParseError) << args[0];
  }
}

// ---- Pages and rows ----

constexpr std::string_view kPage =
    R"({"logs":[{"id":2,"ts":"2026-11-26T06:21:38.149746Z","received_at":"2026-11-26T06:21:38.2Z","level":"ERROR","message":"card declined","device_id":"device_001","service":"payments","app":null,"host":null,"attrs":{"http": {"status": 402}, "price": 1.50}},)"
    R"({"id":1,"ts":"2026-11-26T06:20:00.000000Z","received_at":"2026-11-26T06:20:00.000000Z","level":"INFO","message":"boot","device_id":null,"service":null,"app":"a","host":"h","attrs":{}}],"count":2,"next_cursor":"MTc5NTY3NDA5ODE0OTc0Ni4y"})";

TEST(LogPage, KeepsEachLogObjectAsTheServerWroteIt) {
  const auto page = parse_log_page(kPage);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->logs.size(), 2u);
  EXPECT_EQ(
      page->logs[0].json,
      R"({"id":2,"ts":"2026-11-26T06:21:38.149746Z","received_at":"2026-11-26T06:21:38.2Z","level":"ERROR","message":"card declined","device_id":"device_001","service":"payments","app":null,"host":null,"attrs":{"http": {"status": 402}, "price": 1.50}})");
  EXPECT_EQ(page->logs[0].ts, "2026-11-26T06:21:38.149746Z");
  EXPECT_EQ(page->logs[0].level, "ERROR");
  EXPECT_EQ(page->logs[0].message, "card declined");
  EXPECT_EQ(page->logs[0].device_id, "device_001");
  EXPECT_EQ(page->logs[0].service, "payments");
  EXPECT_EQ(page->logs[1].device_id, std::nullopt);
  EXPECT_EQ(page->logs[1].service, std::nullopt);
  EXPECT_EQ(page->next_cursor, "MTc5NTY3NDA5ODE0OTc0Ni4y");
}

TEST(LogPage, WhitespaceAroundObjectsIsNotPartOfThem) {
  const auto page = parse_log_page(
      "{ \"logs\" : [ {\"ts\":\"t\",\"level\":\"INFO\",\"message\":\"m\"} ,\n"
      "{\"ts\":\"u\",\"level\":\"INFO\",\"message\":\"n\"}\n ], \"next_cursor\" : null }");
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->logs.size(), 2u);
  EXPECT_EQ(page->logs[0].json, R"({"ts":"t","level":"INFO","message":"m"})");
  EXPECT_EQ(page->logs[1].json, R"({"ts":"u","level":"INFO","message":"n"})");
  EXPECT_EQ(page->next_cursor, std::nullopt);
  const auto empty = parse_log_page(R"({"logs":[],"count":0,"next_cursor":null})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->logs.empty());
}

TEST(LogPage, AnythingElseIsMalformed) {
  for (const char* body :
       {"", "<html>", "[]", R"({"logs":{}})", R"({"logs":[1],"next_cursor":null})",
        R"({"logs":[{"level":"INFO","message":"m"}],"next_cursor":null})",
        R"({"logs":[{"ts":"t","level":"INFO","message":"m","device_id":5}],"next_cursor":null})",
        R"({"logs":[]})", R"({"logs":[],"next_cursor":7})"}) {
    const auto page = parse_log_page(body);
    ASSERT_FALSE(page) << body;
    EXPECT_EQ(page.error().code, core::Errc::malformed) << body;
  }
}

LogEntry entry(std::string level, std::string message, std::optional<std::string> device,
               std::optional<std::string> service) {
  LogEntry e;
  e.json = R"({"id":1})";
  e.ts = "2026-11-26T06:21:38.149746Z";
  e.level = std::move(level);
  e.message = std::move(message);
  e.device_id = std::move(device);
  e.service = std::move(service);
  return e;
}

TEST(TableRow, TimeLevelSourceAndMessageOnOneLine) {
  EXPECT_EQ(table_row(entry("ERROR", "card declined", "device_001", "payments"), false),
            "2026-11-26T06:21:38.149746Z ERROR    device_001/payments card declined\n");
  EXPECT_EQ(table_row(entry("CRITICAL", "x", std::nullopt, "api"), false),
            "2026-11-26T06:21:38.149746Z CRITICAL -/api x\n");
  EXPECT_EQ(table_row(entry("INFO", "Zo\xC3\xAB \xE2\x9C\x93", "d", std::nullopt), false),
            "2026-11-26T06:21:38.149746Z INFO     d/- Zo\xC3\xAB \xE2\x9C\x93\n");
}

TEST(TableRow, ControlCharactersCannotBreakTheRowOrDriveTheTerminal) {
  EXPECT_EQ(
      table_row(entry("WARNING",
                      "one\ntwo\r\tthree \x1b[31mred\x07 \xC2\x9B"
                      "2J",
                      "d\n", "s\x1b"),
                false),
      "2026-11-26T06:21:38.149746Z WARNING  d\\n/s\\x1b one\\ntwo\\r\\tthree \\x1b[31mred\\x07 "
      "\\u009b2J\n");
}

TEST(TableRow, ColourWrapsTheLevelOnly) {
  EXPECT_EQ(table_row(entry("ERROR", "m", "d", "s"), true),
            "2026-11-26T06:21:38.149746Z \x1b[31mERROR   \x1b[0m d/s m\n");
  EXPECT_EQ(table_row(entry("FATAL", "m", "d", "s"), true),
            "2026-11-26T06:21:38.149746Z \x1b[1;35mFATAL   \x1b[0m d/s m\n");
  EXPECT_EQ(table_row(entry("LOUD", "m", "d", "s"), true),
            "2026-11-26T06:21:38.149746Z LOUD     d/s m\n");
  for (const char* level : {"TRACE", "DEBUG", "INFO", "NOTICE", "WARNING", "CRITICAL"})
    EXPECT_NE(table_row(entry(level, "m", "d", "s"), true).find("\x1b["), std::string::npos)
        << level;
}

TEST(JsonRows, NdjsonIsALineEachAndJsonOneArray) {
  const auto page = parse_log_page(kPage);
  ASSERT_TRUE(page);
  EXPECT_EQ(ndjson_row(page->logs[1]), page->logs[1].json + "\n");
  EXPECT_EQ(json_array(page->logs),
            "[\n" + page->logs[0].json + ",\n" + page->logs[1].json + "\n]\n");
  EXPECT_EQ(json_array({}), "[]\n");
}

TEST(ServerError, TheApisErrorInOneLine) {
  const std::string_view refused =
      R"json({"error":{"code":"invalid_field","message":"level must be a level (TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, FATAL)","details":[{"field":"level","message":"must be a level (TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, CRITICAL, FATAL)"}]}})json";
  EXPECT_EQ(describe_error(422, "Unprocessable Entity", refused),
            "422 invalid_field: level must be a level (TRACE, DEBUG, INFO, NOTICE, WARNING, ERROR, "
            "CRITICAL, FATAL)");
  EXPECT_EQ(
      describe_error(
          422, "Unprocessable Entity",
          R"({"error":{"code":"invalid_field","message":"2 problems in the request","details":[{"field":"a","message":"x"},{"field":"b","message":"y"}]}})"),
      "422 invalid_field: 2 problems in the request\n  a: x\n  b: y");
  EXPECT_EQ(describe_error(502, "Bad Gateway", "<html>bad\x1b gateway</html>\n"),
            "502 Bad Gateway: <html>bad\\x1b gateway</html>");
  EXPECT_EQ(describe_error(503, "Service Unavailable", ""), "503 Service Unavailable");
}

}  // namespace
}  // namespace logpipe::client
