// The line formats (apache, logfmt, plain, json per line) and format=auto, on real-world lines.
#include <gtest/gtest.h>
#include <simdjson.h>

#include "core/time.hpp"
#include "ingest/auto_detect.hpp"
#include "ingest/format.hpp"

namespace logpipe::ingest {
namespace {

using model::Level;
using model::Record;

constexpr core::Micros kReceived = 1'731'580'200'000'000;  // 2024-11-14T10:30:00Z

DecodeOptions options() {
  DecodeOptions o;
  o.received_at = kReceived;
  return o;
}

const Format& format(std::string_view name) {
  const Format* f = builtin_formats().find(name);
  EXPECT_NE(f, nullptr) << name;
  return *f;
}

// Parses one line with `name`; fails the test when the line is rejected.
Record parsed(std::string_view name, std::string_view line, DecodeOptions o = options()) {
  Record r;
  std::string why;
  EXPECT_TRUE(format(name).parse_line(line, o, r, why)) << line << ": " << why;
  return r;
}

std::string rejected(std::string_view name, std::string_view line) {
  Record r;
  std::string why;
  EXPECT_FALSE(format(name).parse_line(line, options(), r, why)) << line;
  EXPECT_FALSE(why.empty()) << line;
  return why;
}

core::Micros at(std::string_view rfc3339) {
  return core::parse_rfc3339(rfc3339).value();
}

// attrs as a map of key → its JSON text, to compare without caring about order.
std::map<std::string, std::string> attrs(const Record& r) {
  simdjson::dom::parser parser;
  std::map<std::string, std::string> out;
  simdjson::dom::object o;
  EXPECT_EQ(parser.parse(r.attrs_json).get(o), simdjson::SUCCESS) << r.attrs_json;
  for (auto [k, v] : o)
    out[std::string(k)] = simdjson::minify(v);
  return out;
}

// ---- apache ----

TEST(Apache, CombinedFromTheApacheDocs) {
  const std::string_view line =
      R"(127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 )"
      R"x("http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)")x";
  const Record r = parsed("apache", line);
  EXPECT_EQ(r.ts, at("2000-10-10T20:55:36Z"));
  EXPECT_EQ(r.level, Level::info);
  EXPECT_EQ(r.message, line) << "the message is the line as written";
  EXPECT_EQ(r.host, "");
  const std::map<std::string, std::string> expected{
      {"client_ip", R"("127.0.0.1")"},
      {"user", R"("frank")"},
      {"method", R"("GET")"},
      {"path", R"("/apache_pb.gif")"},
      {"protocol", R"("HTTP/1.0")"},
      {"status", "200"},
      {"bytes", "2326"},
      {"referer", R"("http://www.example.com/start.html")"},
      {"user_agent", R"x("Mozilla/4.08 [en] (Win98; I ;Nav)")x"}};
  EXPECT_EQ(attrs(r), expected);
  EXPECT_EQ(format("apache").sniff_line(line), 80);
}

TEST(Apache, CommonLogFormatAndMissingFields) {
  const Record r = parsed(
      "apache", R"(192.0.2.10 - - [01/Jan/2024:00:00:00 +0000] "DELETE /items/7 HTTP/1.1" 404 -)");
  EXPECT_EQ(r.ts, at("2024-01-01T00:00:00Z"));
  EXPECT_EQ(r.level, Level::warning);
  const std::map<std::string, std::string> expected{{"client_ip", R"("192.0.2.10")"},
                                                    {"method", R"("DELETE")"},
                                                    {"path", R"("/items/7")"},
                                                    {"protocol", R"("HTTP/1.1")"},
                                                    {"status", "404"}};
  EXPECT_EQ(attrs(r), expected);
}

TEST(Apache, NginxCombinedWithIpv6LeapDayAndServerError) {
  const Record r =
      parsed("apache", R"(2001:db8::1 - - [29/Feb/2024:23:59:59 +0530] "POST /api?x=1 HTTP/2.0" )"
                       R"(503 0 "-" "curl/8.5.0")");
  EXPECT_EQ(r.ts, at("2024-02-29T18:29:59Z"));
  EXPECT_EQ(r.level, Level::error);
  const auto a = attrs(r);
  EXPECT_EQ(a.at("client_ip"), R"("2001:db8::1")");
  EXPECT_EQ(a.at("status"), "503");
  EXPECT_EQ(a.at("bytes"), "0");
  EXPECT_EQ(a.count("referer"), 0u) << "- is left out";
  EXPECT_EQ(a.at("user_agent"), R"("curl/8.5.0")");
  // 29 February of a year that has none is no date.
  EXPECT_NE(rejected("apache", R"(::1 - - [29/Feb/2023:10:00:00 +0000] "GET / HTTP/1.1" 200 1)")
                .find("time"),
            std::string::npos);
}

TEST(Apache, VhostCombinedNamesTheHost) {
  const Record r =
      parsed("apache", R"(www.example.com:443 203.0.113.7 - alice [10/Oct/2000:13:55:36 -0700] )"
                       R"("GET / HTTP/1.1" 301 178 "-" "Mozilla/5.0")");
  EXPECT_EQ(r.host, "www.example.com");
  const auto a = attrs(r);
  EXPECT_EQ(a.at("server_port"), R"("443")");
  EXPECT_EQ(a.at("client_ip"), R"("203.0.113.7")");
  EXPECT_EQ(a.at("user"), R"("alice")");
}

TEST(Apache, OddRequestLinesAndEscapedQuotes) {
  // nginx logs "-" for a connection closed before a request, and escapes what a scanner sent.
  Record r = parsed("apache", R"(198.51.100.4 - - [10/Oct/2000:13:55:36 -0700] "-" 400 0 "-" "-")");
  auto a = attrs(r);
  EXPECT_EQ(a.count("request"), 0u);
  EXPECT_EQ(a.count("method"), 0u);
  r = parsed("apache",
             R"(198.51.100.4 - - [10/Oct/2000:13:55:36 -0700] "\x16\x03\x01\x00\xF5\x01" 400 157)");
  EXPECT_EQ(attrs(r).at("request"), R"("\\x16\\x03\\x01\\x00\\xF5\\x01")");
  r = parsed("apache", R"(198.51.100.4 - - [10/Oct/2000:13:55:36 -0700] "GET /" 200 5)");
  EXPECT_EQ(attrs(r).at("path"), R"("/")");
  r = parsed("apache",
             R"(10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET /q?a=\"b\" HTTP/1.1" 200 5 "-" )"
             R"("Agent \"quoted\" \\ done" "10.0.0.2" 0.003)");
  a = attrs(r);
  EXPECT_EQ(a.at("path"), R"("/q?a=\"b\"")");
  EXPECT_EQ(a.at("user_agent"), R"("Agent \"quoted\" \\ done")");
}

TEST(Apache, RejectsWhatIsNotAnAccessLine) {
  rejected("apache", "hello world");
  rejected("apache", R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" abc 5)");
  rejected("apache", R"(1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1 200 5)");
  rejected("apache", R"(1.2.3.4 - - [10/Foo/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 5)");
  rejected("apache", R"(1.2.3.4 - - [10/Oct/2000:13:55:36] "GET / HTTP/1.1" 200 5)");
  EXPECT_EQ(format("apache").sniff_line(
                "2024/02/29 13:55:36 [error] 12#12: *5 open() \"/x\" failed, client: 1.2.3.4"),
            0);
}

// ---- logfmt ----

TEST(Logfmt, GoKitLineWithQuotesAndFlags) {
  const std::string_view line =
      R"(ts=2024-02-29T13:55:36.123+01:00 level=warn msg="disk \"/data\" 91% full" )"
      R"(component=tsdb caller=head.go:42 retry empty=)";
  const Record r = parsed("logfmt", line);
  EXPECT_EQ(r.ts, at("2024-02-29T12:55:36.123Z"));
  EXPECT_EQ(r.level, Level::warning);
  EXPECT_EQ(r.message, R"(disk "/data" 91% full)");
  const std::map<std::string, std::string> expected{{"component", R"("tsdb")"},
                                                    {"caller", R"("head.go:42")"},
                                                    {"retry", R"("true")"},
                                                    {"empty", R"("")"}};
  EXPECT_EQ(attrs(r), expected);
  EXPECT_EQ(format("logfmt").sniff_line(line), 60);
}

TEST(Logfmt, FieldsAliasesAndEpochTimes) {
  Record r = parsed("logfmt",
                    "t=1709214936 lvl=eror msg=boom service=api app=shop host=web-1 device_id=d7 "
                    "tenant_id=9 latency=5ms");
  EXPECT_EQ(r.ts, 1'709'214'936'000'000);
  EXPECT_EQ(r.level, Level::error);
  EXPECT_EQ(r.service, "api");
  EXPECT_EQ(r.app, "shop");
  EXPECT_EQ(r.host, "web-1");
  EXPECT_EQ(r.device_id, "d7");
  EXPECT_EQ(r.attrs_json, R"({"latency":"5ms"})");
  r = parsed("logfmt", "time=1709214936123 severity=3 message=x source=billing application=a");
  EXPECT_EQ(r.ts, 1'709'214'936'123'000);
  EXPECT_EQ(r.level, Level::error);
  EXPECT_EQ(r.service, "billing");
  EXPECT_EQ(r.app, "a");
  r = parsed("logfmt", "timestamp=1709214936.5 level=INFO msg=y");
  EXPECT_EQ(r.ts, 1'709'214'936'500'000);
}

TEST(Logfmt, WithoutMsgTheMessageIsTheLine) {
  // Heroku's router.
  const std::string_view line =
      R"(at=info method=GET path="/" host=myapp.herokuapp.com fwd="204.204.204.204" )"
      R"(dyno=web.1 connect=1ms status=200 bytes=13)";
  const Record r = parsed("logfmt", line);
  EXPECT_EQ(r.message, line);
  EXPECT_EQ(r.host, "myapp.herokuapp.com");
  EXPECT_EQ(r.ts, kReceived);
  const auto a = attrs(r);
  EXPECT_EQ(a.at("status"), R"("200")") << "values stay strings";
  EXPECT_EQ(a.at("path"), R"("/")");
}

TEST(Logfmt, EscapesTabsAndUtf8) {
  const Record r = parsed(
      "logfmt", "level=info\tmsg=\"caf\\u00e9 \\ud83d\\ude00 a\\tb\\\\c\" note=\"é ü 警告\"");
  EXPECT_EQ(r.message, "café 😀 a\tb\\c");
  EXPECT_EQ(attrs(r).at("note"), "\"é ü 警告\"");
}

TEST(Logfmt, RejectsBrokenLinesWithAReason) {
  EXPECT_NE(rejected("logfmt", R"(level=info msg="never closed)").find("not closed"),
            std::string::npos);
  EXPECT_NE(rejected("logfmt", "level=loud msg=x").find("level"), std::string::npos);
  EXPECT_NE(rejected("logfmt", "ts=yesterday msg=x").find("ts"), std::string::npos);
  rejected("logfmt", "=value msg=x");
}

TEST(Logfmt, SniffWantsPairsNotProse) {
  const auto& f = format("logfmt");
  EXPECT_EQ(f.sniff_line("level=info msg=hi"), 60);
  EXPECT_EQ(f.sniff_line("msg=hi"), 0) << "one pair";
  EXPECT_EQ(f.sniff_line("user=bob logged in with role=admin from home"), 0);
  EXPECT_EQ(f.sniff_line("Connection reset: retries=3 timeout=5s"), 0);
  EXPECT_EQ(f.sniff_line(R"(a=1 b="open)"), 0);
}

// ---- plain ----

TEST(Plain, TimestampsAndLevelsAtTheStart) {
  Record r = parsed("plain", "2024-02-29 13:55:36,123 ERROR [main] c.e.App - boom  \t");
  EXPECT_EQ(r.ts, at("2024-02-29T13:55:36.123Z"));
  EXPECT_EQ(r.level, Level::error);
  EXPECT_EQ(r.message, "2024-02-29 13:55:36,123 ERROR [main] c.e.App - boom")
      << "the line whole, trailing spaces trimmed";
  r = parsed("plain", "[2024-02-29T13:55:36.5+02:00] warn: disk almost full");
  EXPECT_EQ(r.ts, at("2024-02-29T11:55:36.5Z"));
  EXPECT_EQ(r.level, Level::warning);
  r = parsed("plain", "2024-01-01 10:00:00,123 - myapp - CRITICAL - out of memory");
  EXPECT_EQ(r.level, Level::critical);
  r = parsed("plain", "E1126 10:00:00.123456    1234 main.cc:42] failed to open");
  EXPECT_EQ(r.level, Level::error);
  EXPECT_EQ(r.ts, kReceived);
  r = parsed("plain", "Information only: the service started");
  EXPECT_EQ(r.level, Level::info);
  r = parsed("plain", "\tat com.example.Main.run(Main.java:42)");
  EXPECT_EQ(r.message, "\tat com.example.Main.run(Main.java:42)");
  EXPECT_EQ(r.ts, kReceived);
}

TEST(Plain, NginxErrorLogIsPlainWithItsLevelAndTime) {
  const std::string_view line =
      R"(2024/02/29 13:55:36 [error] 1234#1234: *5 open() "/var/www/x" failed (2: No such )"
      R"(file or directory), client: 2001:db8::1, server: example.com, request: "GET /x )"
      R"(HTTP/1.1", host: "example.com")";
  const Record r = parsed("plain", line);
  EXPECT_EQ(r.level, Level::error);
  EXPECT_EQ(r.ts, at("2024-02-29T13:55:36Z"));
  AutoDetect detect(builtin_formats());
  EXPECT_EQ(detect.pick(line)->name, "plain");
}

TEST(Plain, NotATimestampAfterAll) {
  Record r = parsed("plain", "2024-02-30 10:00:00 impossible date");
  EXPECT_EQ(r.ts, kReceived);
  r = parsed("plain", "2024-02-28 10:00:00abc glued");
  EXPECT_EQ(r.ts, kReceived);
}

TEST(Plain, LongLinesAreCutAtACharacterBoundaryAndInvalidUtf8Rejected) {
  DecodeOptions o = options();
  o.max_message_bytes = 10;
  const Record r = parsed("plain", "ééééééééééé", o);  // 22 bytes
  EXPECT_EQ(r.message, "ééééé");
  EXPECT_EQ(r.attrs_json, R"({"truncated_from":22})");
  EXPECT_NE(rejected("plain", "bad \xff\xfe byte").find("UTF-8"), std::string::npos);
}

// ---- json per line ----

TEST(JsonLine, OneObjectPerLineWithTheJsonMapping) {
  const Record r = parsed("json", R"(  {"msg":"hi","log_level":"warn","source":"svc","x":1}  )");
  EXPECT_EQ(r.message, "hi");
  EXPECT_EQ(r.level, Level::warning);
  EXPECT_EQ(r.service, "svc");
  EXPECT_EQ(r.attrs_json, R"({"x":1})");
  EXPECT_EQ(format("json").sniff_line(R"({"message":"x"})"), 95);
  EXPECT_EQ(format("json").sniff_line("{not closed"), 0);
  EXPECT_EQ(rejected("json", R"({"level":"x"})"),
            "level must be a level (TRACE, DEBUG, INFO, "
            "NOTICE, WARNING, ERROR, CRITICAL, FATAL) or a "
            "syslog severity 0-7 (and 1 more)");
  EXPECT_NE(rejected("json", "{oops}").find("malformed JSON"), std::string::npos);
}

// ---- decode_lines and auto ----

TEST(Auto, MixedBodyNamesEachRecordsFormat) {
  const std::string body =
      "\xEF\xBB\xBF{\"message\":\"json one\",\"level\":\"error\"}\r\n"
      "127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 5 \"-\" \"curl\"\r\n"
      "\n"
      "level=debug msg=\"logfmt one\" k=v\n"
      "2024/02/29 13:55:36 [warn] 1#1: upstream slow, client: 1.2.3.4\n"
      "   \t\n"
      "{\"message\":42}\n"
      "just text\n";
  AutoDetect detect(builtin_formats());
  auto decoded = detect.decode(body, options());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_EQ(decoded->records.size(), 5u);
  ASSERT_EQ(decoded->record_formats.size(), 5u);
  const std::vector<std::string_view> names(decoded->record_formats.begin(),
                                            decoded->record_formats.end());
  EXPECT_EQ(names, (std::vector<std::string_view>{"json", "apache", "logfmt", "plain", "plain"}));
  EXPECT_EQ(decoded->records[0].level, Level::error);
  EXPECT_EQ(decoded->records[2].message, "logfmt one");
  EXPECT_EQ(decoded->records[3].level, Level::warning);
  EXPECT_EQ(decoded->records[4].message, "just text");
  ASSERT_EQ(decoded->problems.size(), 1u);
  EXPECT_EQ(decoded->problems[0].index, 7) << "the line number";
  EXPECT_EQ(decoded->problems[0].message, "json: message must be a string");

  auto batches = into_batches(std::move(decoded).value(), "auto", kReceived);
  ASSERT_EQ(batches.size(), 4u);
  EXPECT_EQ(batches[0].source_format, "json");
  EXPECT_EQ(batches[3].source_format, "plain");
  EXPECT_EQ(batches[3].records.size(), 2u);
}

TEST(Auto, PicksUpAnyRegisteredLineFormat) {
  // A format registered later (a user's pattern, any new line format) takes part without a change
  // to auto.
  FormatRegistry registry;
  register_builtin_formats(registry);
  Format angle;
  angle.name = "angle";
  angle.sniff_line = [](std::string_view l) { return l.starts_with("~~") ? 99 : 0; };
  angle.parse_line = [](std::string_view l, const DecodeOptions& o, Record& out, std::string&) {
    out.message = std::string(l.substr(1));
    out.ts = o.received_at;
    return true;
  };
  registry.add(angle);
  AutoDetect detect(registry);
  auto decoded = detect.decode("~~ hello\nplain\n", options());
  ASSERT_TRUE(decoded.ok());
  ASSERT_EQ(decoded->record_formats.size(), 2u);
  EXPECT_EQ(decoded->record_formats[0], "angle");
  EXPECT_EQ(decoded->record_formats[1], "plain");
}

TEST(Auto, SyslogLinesGoToTheSyslogFormat) {
  AutoDetect detect(builtin_formats());
  auto decoded = detect.decode(
      "<34>1 2024-02-29T13:55:36.5Z web-1 su 77 ID47 - 'su root' failed\n"
      "<13>Feb 29 13:55:36 web-1 sshd[12]: accepted\n"
      "2024-02-29 13:55:36 ERROR text stays plain\n",
      options());
  ASSERT_TRUE(decoded.ok());
  const std::vector<std::string_view> names(decoded->record_formats.begin(),
                                            decoded->record_formats.end());
  EXPECT_EQ(names, (std::vector<std::string_view>{"syslog", "syslog", "plain"}));
}

TEST(Auto, EveryLineFormatIsListed) {
  std::vector<std::string> names;
  for (const auto* f : builtin_formats().line_formats())
    names.push_back(f->name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"json", "gelf", "syslog", "apache", "logfmt", "plain"}));
}

}  // namespace
}  // namespace logpipe::ingest
