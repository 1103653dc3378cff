// `logpipe query` as a user runs it: the real binary against a real server holding known logs
// (filter combinations, pages past 1000, each output format, a refused search), against no server
// at all, and against a stand-in server that shows what goes over the wire.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "core/time.hpp"
#include "harness.hpp"

namespace logpipe::test {
namespace {

constexpr core::Micros kMinute = 60'000'000;
constexpr int kBulk = 2600;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = text.find('\n', start);
    lines.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return lines;
}

std::string joined(const std::vector<std::string>& parts, const std::string& separator) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i)
    out += (i ? separator : "") + parts[i];
  return out;
}

class QueryCli : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    lp.emplace(LogpipeOptions{.database_url = db.url(), .stream = unique_tag("querycli")});
    url = "http://127.0.0.1:" + std::to_string(lp->port());
    const auto at = [&](core::Micros ago) { return core::format_rfc3339(now - ago); };
    // Each a filter's answer somewhere below; messages hold what must survive percent-encoding.
    const std::vector<std::string> named{
        R"({"ts":")" + at(10 * kMinute) +
            R"(","device_id":"dev-a","service":"payments","app":"shop","host":"h1","level":"ERROR","message":"card declined: insufficient funds","attrs":{"http":{"status":402},"user":"ana"}})",
        R"({"ts":")" + at(20 * kMinute) +
            R"(","device_id":"dev-a","service":"payments","app":"shop","host":"h2","level":"WARNING","message":"card declined: retry later","attrs":{"http":{"status":429}}})",
        R"({"ts":")" + at(30 * kMinute) +
            R"(","device_id":"dev-b","service":"payments","app":"crm","host":"h1","level":"INFO","message":"card accepted","attrs":{"http":{"status":200}}})",
        R"({"ts":")" + at(60 * kMinute) +
            R"(","device_id":"dev-b","service":"auth","app":"web","host":"h2","level":"ERROR","message":"login failed for Zoë & co = 1+1","attrs":{"tag":"a b&c=d+e"}})",
        R"({"ts":")" + at(180 * kMinute) +
            R"(","device_id":"dev-c","service":"auth","app":"web","host":"h3","level":"FATAL","message":"disk full on /var"})",
        R"({"ts":")" + at(8 * 24 * 60 * kMinute) +
            R"(","device_id":"dev-c","service":"db","host":"h3","level":"DEBUG","message":"query took 5 ms"})",
        R"({"ts":")" + at(5 * kMinute) +
            R"(","device_id":"dev-d","service":"tty","level":"NOTICE","message":"line one\nline two \u001b[31mred"})",
    };
    ingest(named);
    std::vector<std::string> bulk;
    for (int n = 0; n < kBulk; ++n)
      bulk.push_back(
          R"({"ts":")" + core::format_rfc3339(bulk_ts(n)) +
          R"(","device_id":"bulk-dev","service":"bulk","level":"INFO","message":"bulk )" +
          std::to_string(n) + R"(","attrs":{"n":)" + std::to_string(n) + "}}");
    for (std::size_t i = 0; i < bulk.size(); i += 500)
      ingest({bulk.begin() + static_cast<long>(i),
              bulk.begin() + static_cast<long>(std::min(bulk.size(), i + 500))});
    const long long total = static_cast<long long>(named.size()) + kBulk;
    ASSERT_TRUE(eventually([&] { return db.count("SELECT count(*) FROM logs") == total; }, 60s));
  }

  core::Micros bulk_ts(int n) const { return now - 2 * 24 * 60 * kMinute + n * 1'000'000LL; }

  void ingest(const std::vector<std::string>& records) {
    HttpRequest r;
    r.method = "POST";
    r.target = "/api/v1/ingest";
    r.content_type = "application/x-ndjson";
    r.body = joined(records, "\n") + "\n";
    const auto response = http(lp->port(), r);
    ASSERT_EQ(response.status, 202) << response.body;
  }

  std::pair<int, std::string> query(std::vector<std::string> args) {
    args.insert(args.begin(), {"query", "--url", url});
    return run_logpipe(args);
  }

  // The messages `logpipe query … --output ndjson` prints, in order; each line must be a log.
  std::vector<std::string> messages(std::vector<std::string> args) {
    args.insert(args.end(), {"--output", "ndjson"});
    const auto [code, out] = query(args);
    EXPECT_EQ(code, 0) << joined(args, " ") << "\n" << out;
    std::vector<std::string> found;
    simdjson::dom::parser parser;
    for (const auto& line : lines_of(out)) {
      std::string_view message;
      if (parse_json(parser, line)["message"].get_string().get(message) != simdjson::SUCCESS) {
        ADD_FAILURE() << "not a log: " << line;
        continue;
      }
      found.emplace_back(message);
    }
    return found;
  }

  const core::Micros now = core::now_micros();
  TestDatabase db{"querycli"};
  std::optional<Logpipe> lp;
  std::string url;
};

using Messages = std::vector<std::string>;
const std::string kDeclined = "card declined: insufficient funds";
const std::string kRetry = "card declined: retry later";
const std::string kAccepted = "card accepted";
const std::string kLogin = "login failed for Zoë & co = 1+1";
const std::string kDisk = "disk full on /var";
const std::string kOld = "query took 5 ms";

TEST_F(QueryCli, FlagsFilterLikeTheApi) {
  EXPECT_EQ(messages({"--service", "payments"}), (Messages{kDeclined, kRetry, kAccepted}));
  EXPECT_EQ(messages({"--service", "payments", "--min-level", "warning"}),
            (Messages{kDeclined, kRetry}));
  EXPECT_EQ(messages({"--level", "error", "--level", "FATAL"}),
            (Messages{kDeclined, kLogin, kDisk}));
  EXPECT_EQ(messages({"--level", "ERROR,fatal"}), (Messages{kDeclined, kLogin, kDisk}));
  EXPECT_EQ(messages({"--device-id", "dev-a", "--host", "h2"}), (Messages{kRetry}));
  EXPECT_EQ(messages({"--app", "shop", "--order", "asc"}), (Messages{kRetry, kDeclined}));
  EXPECT_EQ(messages({"--attr", "http.status=402"}), (Messages{kDeclined}));
  EXPECT_EQ(messages({"--attr", "tag=a b&c=d+e"}), (Messages{kLogin}));
  EXPECT_EQ(
      messages({"--device-id", "dev-b", "--service", "payments", "--attr", "http.status=200"}),
      (Messages{kAccepted}));
  EXPECT_EQ(messages({"--from", "2h", "--to", "15m"}), (Messages{kRetry, kAccepted, kLogin}));
  EXPECT_EQ(messages({"--device-id", "dev-c"}), (Messages{kDisk, kOld}));
  EXPECT_EQ(messages({"--device-id", "dev-c", "--from", "7d"}), (Messages{kDisk}));
  EXPECT_EQ(messages({"--service", "auth", "--min-level", "error", "--from", "2h"}),
            (Messages{kLogin}));
  EXPECT_EQ(messages({"--device-id", "bulk-dev", "--from", core::format_rfc3339(bulk_ts(10)),
                      "--to", core::format_rfc3339(bulk_ts(13))}),
            (Messages{"bulk 12", "bulk 11", "bulk 10"}));
}

TEST_F(QueryCli, WordsAndPhrasesReachTheServerIntact) {
  EXPECT_EQ(messages({"card", "declined"}), (Messages{kDeclined, kRetry}));
  EXPECT_EQ(messages({"declined", "card"}), (Messages{kDeclined, kRetry}));
  EXPECT_EQ(messages({"card declined"}), (Messages{kDeclined, kRetry}));
  EXPECT_EQ(messages({"declined card"}), Messages{}) << "a phrase is matched whole, in order";
  EXPECT_EQ(messages({"\"card declined\" retry"}), (Messages{kRetry}));
  EXPECT_EQ(messages({"zoë"}), (Messages{kLogin}));
  EXPECT_EQ(messages({"1+1"}), (Messages{kLogin}));
  EXPECT_EQ(messages({"&", "="}), (Messages{kLogin}));
  EXPECT_EQ(messages({"Zoë & co = 1+1"}), (Messages{kLogin}));
  EXPECT_EQ(messages({"--service", "payments", "CARD", "--min-level", "warning", "declined"}),
            (Messages{kDeclined, kRetry}));
}

TEST_F(QueryCli, LimitFollowsCursorsPastAThousand) {
  const auto [code, out] =
      query({"--device-id", "bulk-dev", "--limit", "2500", "--output", "ndjson"});
  ASSERT_EQ(code, 0) << out.substr(0, 2000);
  const auto lines = lines_of(out);
  ASSERT_EQ(lines.size(), 2500u);
  simdjson::dom::parser parser;
  std::set<std::int64_t> ids;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto log = parse_json(parser, lines[i]);
    ids.insert(std::int64_t(log["id"]));
    // Newest first: bulk 2599 down to bulk 100, none twice, none skipped.
    ASSERT_EQ(std::string_view(log["message"]), "bulk " + std::to_string(kBulk - 1 - i)) << i;
    ASSERT_EQ(std::string_view(log["device_id"]), "bulk-dev");
  }
  EXPECT_EQ(ids.size(), 2500u);

  auto everything = messages({"--device-id", "bulk-dev", "--limit", "5000"});
  EXPECT_EQ(everything.size(), static_cast<std::size_t>(kBulk)) << "the end comes before 5000";
  EXPECT_EQ(std::set<std::string>(everything.begin(), everything.end()).size(),
            static_cast<std::size_t>(kBulk));

  const auto [json_code, json_out] =
      query({"--device-id", "bulk-dev", "--order", "asc", "--limit", "1500", "--output", "json"});
  ASSERT_EQ(json_code, 0) << json_out.substr(0, 2000);
  simdjson::dom::array array;
  ASSERT_EQ(parse_json(parser, json_out).get_array().get(array), simdjson::SUCCESS);
  ASSERT_EQ(array.size(), 1500u);
  EXPECT_EQ(std::string_view(array.at(0)["message"]), "bulk 0");
  EXPECT_EQ(std::string_view(array.at(1499)["message"]), "bulk 1499");

  const auto [table_code, table] = query({"--device-id", "bulk-dev"});
  EXPECT_EQ(table_code, 0);
  EXPECT_EQ(lines_of(table).size(), 100u) << "the default --limit";
}

TEST_F(QueryCli, EachOutputFormat) {
  const auto api = get(lp->port(), "/api/v1/logs?service=payments");
  ASSERT_EQ(api.status, 200) << api.body;

  const auto [ndjson_code, ndjson] = query({"--service", "payments", "--output", "ndjson"});
  ASSERT_EQ(ndjson_code, 0) << ndjson;
  const auto objects = lines_of(ndjson);
  ASSERT_EQ(objects.size(), 3u) << ndjson;
  EXPECT_EQ(api.body, "{\"logs\":[" + joined(objects, ",") + "],\"count\":3,\"next_cursor\":null}")
      << "ndjson lines are the API's log objects, byte for byte";

  const auto [json_code, json] = query({"--service", "payments", "--output", "json"});
  ASSERT_EQ(json_code, 0) << json;
  EXPECT_EQ(json, "[\n" + joined(objects, ",\n") + "\n]\n");

  const auto [table_code, table] = query({"--service", "payments", "--no-color"});
  ASSERT_EQ(table_code, 0) << table;
  EXPECT_EQ(table, core::format_rfc3339(now - 10 * kMinute) + " ERROR    dev-a/payments " +
                       kDeclined + "\n" + core::format_rfc3339(now - 20 * kMinute) +
                       " WARNING  dev-a/payments " + kRetry + "\n" +
                       core::format_rfc3339(now - 30 * kMinute) + " INFO     dev-b/payments " +
                       kAccepted + "\n");
  const auto [plain_code, plain] = query({"--service", "payments"});
  EXPECT_EQ(plain, table) << "no colours when stdout is not a terminal";

  const auto [tty_code, tty] = query({"--service", "tty", "--no-color"});
  EXPECT_EQ(tty, core::format_rfc3339(now - 5 * kMinute) +
                     " NOTICE   dev-d/tty line one\\nline two \\x1b[31mred\n")
      << "a log's control characters are shown, not obeyed";
  const auto [none_code, none] = query({"--service", "nobody", "--output", "json"});
  EXPECT_EQ(none_code, 0);
  EXPECT_EQ(none, "[]\n");
}

TEST_F(QueryCli, ARefusedSearchIsTheServersMessageOnStderr) {
  const auto [code, out] = query({"--level", "x", "--output", "json"});
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out,
            "logpipe query: 422 invalid_field: level must be a level (TRACE, DEBUG, INFO, NOTICE, "
            "WARNING, ERROR, CRITICAL, FATAL)\n");
  const auto [from_code, from_out] = query({"--from", "yesterday"});
  EXPECT_EQ(from_code, 1);
  EXPECT_NE(from_out.find("logpipe query: 422 invalid_field: from must be an RFC 3339 time"),
            std::string::npos)
      << from_out;
  // stdout stays empty: only stderr says it.
  const std::string command = std::string(LOGPIPE_BINARY) + " query --url " + url + " --level x";
  Process stdout_only({"/bin/sh", "-c", command + " 2>/dev/null"}, {});
  EXPECT_EQ(stdout_only.wait(30s), 1);
  EXPECT_EQ(stdout_only.output(), "");
  Process stderr_only({"/bin/sh", "-c", command + " >/dev/null"}, {});
  EXPECT_EQ(stderr_only.wait(30s), 1);
  EXPECT_NE(stderr_only.output().find("422 invalid_field"), std::string::npos);
}

TEST(QueryCliAlone, ARefusedConnectionIsOneClearLine) {
  const auto port = std::to_string(free_port());
  const auto [code, out] = run_logpipe({"query", "--url", "http://127.0.0.1:" + port});
  EXPECT_EQ(code, 1);
  EXPECT_EQ(out, "logpipe query: cannot connect to 127.0.0.1:" + port +
                     ": Connection refused (is logpipe serving at http://127.0.0.1:" + port +
                     "? see --url, LOGPIPE_URL)\n");
}

TEST(QueryCliAlone, UsageErrorsExit2) {
  for (const auto& args : std::vector<std::vector<std::string>>{{"--output", "xml"},
                                                                {"--order", "sideways"},
                                                                {"--limit", "0"},
                                                                {"--attr", "novalue"},
                                                                {"--url", "ftp://127.0.0.1"},
                                                                {"--bogus"}}) {
    std::vector<std::string> full{"query"};
    full.insert(full.end(), args.begin(), args.end());
    const auto [code, out] = run_logpipe(full);
    EXPECT_EQ(code, 2) << args[0] << "\n" << out;
    EXPECT_NE(out.find(args[0] == "--bogus" ? "--bogus" : args[1]), std::string::npos) << out;
  }
  const auto [help_code, help] = run_logpipe({"query", "--help"});
  EXPECT_EQ(help_code, 0);
  for (const char* flag : {"--url", "LOGPIPE_URL", "--api-key", "LOGPIPE_API_KEY", "--device-id",
                           "--service", "--app", "--host", "--level", "--min-level", "--from",
                           "--to", "--attr", "--order", "--limit", "--output", "--no-color"})
    EXPECT_NE(help.find(flag), std::string::npos) << flag;
}

// A stand-in server on loopback: answers each connection with `response` and keeps what the
// client sent.
class StandInServer {
 public:
  explicit StandInServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0)
      throw std::runtime_error("stand-in server cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~StandInServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept() when nobody came
    if (thread_.joinable()) thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // The head of the request it answered (after the client is done).
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  void serve() {
    const int client = ::accept(fd_, nullptr, nullptr);
    if (client < 0) return;
    timeval tv{10, 0};
    setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buffer[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      request_.append(buffer, static_cast<std::size_t>(n));
    }
    (void)::send(client, response_.data(), response_.size(), MSG_NOSIGNAL);
    ::close(client);
  }

  std::string response_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::string request_;
  std::thread thread_;
};

std::string response(const std::string& status_line, const std::string& body) {
  return "HTTP/1.1 " + status_line +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

TEST(QueryCliWire, UrlAndKeyFromTheEnvironmentAndEveryValueEncoded) {
  StandInServer server(response("200 OK", R"({"logs":[],"count":0,"next_cursor":null})"));
  const auto [code, out] =
      run_logpipe({"query", "--service", "a b&c=d+e", "--attr", "user.name=Zoë", "--level",
                   "ERROR,FATAL", "--limit", "7", "card declined", "1+1"},
                  {{"LOGPIPE_URL", server.url() + "/prefix/"}, {"LOGPIPE_API_KEY", "k-123"}});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "");
  const std::string request = server.request();
  EXPECT_EQ(request.substr(0, request.find("\r\n")),
            "GET /prefix/api/v1/logs?service=a%20b%26c%3Dd%2Be&level=ERROR%2CFATAL"
            "&attrs.user.name=Zo%C3%AB&q=%22card%20declined%22%201%2B1&limit=7 HTTP/1.1");
  EXPECT_NE(request.find("\r\nX-API-Key: k-123\r\n"), std::string::npos) << request;
}

TEST(QueryCliWire, NoKeyNoHeader) {
  StandInServer server(response("200 OK", R"({"logs":[],"count":0,"next_cursor":null})"));
  const auto [code, out] = run_logpipe({"query", "--url", server.url()});
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(server.request().find("X-API-Key"), std::string::npos);
}

TEST(QueryCliWire, ServerFailuresAreReportedAsTheServerSaysThem) {
  {
    StandInServer server(response(
        "503 Service Unavailable",
        R"({"error":{"code":"unavailable","message":"the database is unavailable","details":[]}})"));
    const auto [code, out] = run_logpipe({"query", "--url", server.url()});
    EXPECT_EQ(code, 1);
    EXPECT_EQ(out, "logpipe query: 503 unavailable: the database is unavailable\n");
  }
  {
    StandInServer server(response("502 Bad Gateway", "<html>bad gateway</html>"));
    const auto [code, out] = run_logpipe({"query", "--url", server.url()});
    EXPECT_EQ(code, 1);
    EXPECT_EQ(out, "logpipe query: 502 Bad Gateway: <html>bad gateway</html>\n");
  }
  {
    StandInServer server(response("200 OK", R"({"hello":"world"})"));
    const auto [code, out] = run_logpipe({"query", "--url", server.url()});
    EXPECT_EQ(code, 1);
    EXPECT_EQ(out, "logpipe query: the server's answer is not a page of logs: no \"logs\" array\n");
  }
}

}  // namespace
}  // namespace logpipe::test
