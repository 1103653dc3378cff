// `logpipe tail` as a user runs it: the real binary, against a stand-in event stream server (how
// it ends: Ctrl-C, `| head`, a refusal) and against a real serve with its live tail (a filter,
// records ingested while it runs).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <thread>

#include "harness.hpp"

namespace logpipe::test {
namespace {

std::size_t count(std::string_view text, std::string_view part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string_view::npos; at = text.find(part, at + 1))
    ++n;
  return n;
}

std::string record(int n) {
  return R"({"ts":"2026-11-26T19:30:00.000000Z","received_at":"2026-11-26T19:30:00.000100Z",)"
         R"("device_id":"dev-1","service":"api","app":null,"host":"h1","level":"ERROR",)"
         R"("message":"record )" +
         std::to_string(n) + R"(","attrs":{},"source_format":"json"})";
}

// A stand-in for GET /api/v1/tail on loopback: each connection gets `head`, then, for a 200, a
// record every 20 ms (and a ping between) until the client leaves or the server is destroyed.
class EventStreamServer {
 public:
  explicit EventStreamServer(std::string head) : head_(std::move(head)) {
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
  ~EventStreamServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }

 private:
  void serve() {
    while (!stop_) {
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      ++connections_;
      timeval tv{10, 0};
      setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      bool open = ::send(client, head_.data(), head_.size(), MSG_NOSIGNAL) > 0;
      // The body of a 200 without a length runs until the connection closes.
      for (int n = 1; open && !stop_ && head_.starts_with("HTTP/1.1 200"); ++n) {
        const std::string chunk = ": ping\n\ndata: " + record(n) + "\n\n";
        open = ::send(client, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0;
        std::this_thread::sleep_for(20ms);
      }
      ::close(client);
    }
  }

  std::string head_;
  int fd_ = -1;
  unsigned short port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

const std::string kStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-store\r\nConnection: close\r\n\r\n";

TEST(TailCli, HeadTakesWhatItWantsAndTailEndsWithSuccess) {
  EventStreamServer server(kStreamHead);
  // The tail's own exit status, written after the pipeline's stdout closed.
  Process pipeline({"/bin/sh", "-c",
                    "{ '" LOGPIPE_BINARY "' tail --output json --url " + server.url() +
                        "; echo \"tail exit $?\" >&2; } | head -n 3"},
                   {});
  ASSERT_TRUE(pipeline.wait(30s).has_value()) << pipeline.output();
  const auto output = pipeline.output();
  EXPECT_EQ(count(output, "tail exit 0"), 1u) << output;
  EXPECT_EQ(count(output, "\"message\":\"record "), 3u) << output;
  EXPECT_NE(output.find(record(1) + "\n" + record(2) + "\n" + record(3) + "\n"), std::string::npos)
      << output;
}

TEST(TailCli, CtrlCEndsItWithSuccess) {
  EventStreamServer server(kStreamHead);
  Process tail({LOGPIPE_BINARY, "tail", "--color", "always", "--url", server.url()}, {});
  ASSERT_TRUE(eventually([&] { return count(tail.output(), "record 2") > 0; }, 20s))
      << tail.output();
  ASSERT_EQ(::kill(tail.pid(), SIGINT), 0);
  EXPECT_EQ(tail.wait(10s), 0) << tail.output();
  EXPECT_NE(tail.output().find("\x1b[31m2026-11-26T19:30:00.000000Z ERROR    [api/h1/dev-1] "
                               "record 1\x1b[0m\n"),
            std::string::npos)
      << tail.output();
}

TEST(TailCli, ARefusalEndsItWithTheServersMessage) {
  const std::string body =
      R"json({"error":{"code":"unauthenticated","message":"an API key is required"}})json";
  EventStreamServer server(
      "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body);
  const auto [code, output] = run_logpipe({"tail", "--url", server.url()}, {}, 20s);
  EXPECT_EQ(code, 1) << output;
  EXPECT_EQ(output, "logpipe tail: 401 unauthenticated: an API key is required\n");
  EXPECT_EQ(server.connections(), 1);
}

// ---- Against a real serve ----

class TailCliServe : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(run_logpipe({"migrate"}, {{"LOGPIPE_DATABASE_URL", db.url()}}).first, 0);
    lp.emplace(LogpipeOptions{.database_url = db.url(), .stream = unique_tag("tailcli")});
    url = "http://127.0.0.1:" + std::to_string(lp->port());
  }

  void ingest(const std::string& ndjson) {
    const auto response = ingest_ndjson(lp->port(), ndjson);
    ASSERT_EQ(response.status, 202) << response.body;
  }

  TestDatabase db{"tailcli"};
  std::optional<Logpipe> lp;
  std::string url;
};

// The lines of `text` that are JSON objects whose message starts with `prefix`.
std::vector<std::string> messages(const std::string& text, const std::string& prefix) {
  std::vector<std::string> found;
  simdjson::dom::parser parser;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    const std::string line = text.substr(start, end - start);
    start = end + 1;
    simdjson::dom::object object;
    std::string_view message;
    if (parser.parse(line).get(object) != simdjson::SUCCESS ||
        object["message"].get_string().get(message) != simdjson::SUCCESS ||
        !message.starts_with(prefix))
      continue;
    found.emplace_back(message);
    EXPECT_TRUE(object["id"].error() == simdjson::NO_SUCH_FIELD) << line;
  }
  return found;
}

TEST_F(TailCliServe, PrintsWhatItsFilterMatchesAsItArrives) {
  const std::string service = unique_tag("tailsvc");
  Process tail({LOGPIPE_BINARY, "tail", "--output", "json", "--url", url, "--service", service,
                "--min-level", "warning"},
               {});
  // Subscribed once a warm-up record comes through: what was ingested before is not the tail's.
  int tries = 0;
  ASSERT_TRUE(eventually(
      [&] {
        if (tries++ % 10 == 0)
          ingest(R"({"service":")" + service + R"(","level":"ERROR","message":"warm-up"})");
        return !messages(tail.output(), "warm-up").empty();
      },
      30s))
      << tail.output();
  ingest(R"({"service":")" + service + R"(","level":"ERROR","message":"match 1","host":"h1"})" +
         "\n" + R"({"service":")" + service + R"(","level":"INFO","message":"match no: level"})" +
         "\n" + R"({"service":"other","level":"ERROR","message":"match no: service"})" + "\n" +
         R"({"service":")" + service +
         R"(","level":"WARNING","message":"match 2","attrs":{"k":[1,"two"]}})" + "\n");
  ASSERT_TRUE(eventually([&] { return messages(tail.output(), "match").size() >= 2; }, 20s))
      << tail.output();
  // A little longer for what must not come.
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(messages(tail.output(), "match"), (std::vector<std::string>{"match 1", "match 2"}))
      << tail.output();
  ASSERT_EQ(::kill(tail.pid(), SIGINT), 0);
  EXPECT_EQ(tail.wait(10s), 0) << tail.output();
}

TEST_F(TailCliServe, AFilterTheServerRefusesEndsIt) {
  const auto [code, output] = run_logpipe({"tail", "--url", url, "--min-level", "LOUD"}, {}, 20s);
  EXPECT_EQ(code, 1) << output;
  EXPECT_NE(output.find("logpipe tail: 422 invalid_field: min_level must be a level"),
            std::string::npos)
      << output;
}

}  // namespace
}  // namespace logpipe::test
