// The test server of the http unit tests: a Server on a free port with a few routes, io threads,
// and a blocking-style client whose every operation has a timeout, so that a server bug fails a
// test instead of hanging it. Shared by http_test.cpp and http_hardening_test.cpp.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
// GCC with -fsanitize reports a false maybe-uninitialized inside Beast's response parser (a
// boost::optional in content_length_unchecked); the server itself only parses requests.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "http/message.hpp"
#include "http/router.hpp"
#include "http/server.hpp"

namespace logpipe::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;
using bhttp::status;
using bhttp::verb;
using namespace std::chrono_literals;

inline bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

// ---- Server ----

using RawResponse = bhttp::response<bhttp::string_body>;

// A blocking-style test client whose every operation is bounded by a timeout, so a server bug
// fails the test instead of hanging it.
class Client {
 public:
  // `source`: the client's address (any of 127.0.0.0/8 works on Linux), for per-address limits.
  explicit Client(unsigned short port, const char* source = nullptr) {
    error_code ec;
    if (source != nullptr) {
      socket_.open(tcp::v4(), ec);
      if (!ec) socket_.bind({asio::ip::make_address(source), 0}, ec);
    }
    if (!ec) socket_.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    connected_ = !ec;
  }

  bool connected() const { return connected_; }

  bool send(std::string_view data, std::chrono::milliseconds timeout = 2s) {
    return !run(
        [&](auto handler) {
          asio::async_write(socket_, asio::buffer(data.data(), data.size()), handler);
        },
        timeout);
  }

  // `head`: the response answers a HEAD request, so it has no body whatever its headers say.
  std::optional<RawResponse> read_response(std::chrono::milliseconds timeout = 3s,
                                           bool head = false) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.skip(head);
    const auto ec =
        run([&](auto handler) { bhttp::async_read(socket_, buffer_, parser, handler); }, timeout);
    if (ec) return std::nullopt;
    return parser.release();
  }

  // True if the server closes the connection within `timeout` (any data before is dropped).
  bool closed_by_server(std::chrono::milliseconds timeout = 2s) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left <= 0ms) return false;
      char data[4096];
      const auto ec =
          run([&](auto handler) { socket_.async_read_some(asio::buffer(data), handler); }, left);
      if (ec == asio::error::timed_out) return false;
      if (ec) return true;  // eof or reset
    }
  }

  void close() {
    error_code ignored;
    socket_.close(ignored);
  }

 private:
  template <class Start>
  error_code run(Start start, std::chrono::milliseconds timeout) {
    std::optional<error_code> result;
    io_.restart();
    start([&result](error_code ec, std::size_t) { result = ec; });
    io_.run_for(timeout);
    if (result) return *result;
    error_code ignored;
    socket_.cancel(ignored);
    io_.restart();
    io_.run();
    return asio::error::timed_out;
  }

  asio::io_context io_;
  tcp::socket socket_{io_};
  beast::flat_buffer buffer_;
  bool connected_ = false;
};

inline std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n" + std::string(extra) + "\r\n";
}

struct Outcome {
  verb method;
  std::string route;
  unsigned status;
  double seconds;
  std::size_t request_bytes;
  std::size_t response_bytes;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() {
    router_.add(verb::get, "/hello", [](Request& req, RequestContext&, Reply reply) {
      reply(json_response(req, status::ok, R"({"hello":"world"})"));
    });
    router_.add(verb::get, "/api/logs/{device_id}",
                [](Request& req, RequestContext& rc, Reply reply) {
                  reply(json_response(req, status::ok, rc.params.at(0).second));
                });
    router_.add(verb::post, "/echo", [](Request& req, RequestContext&, Reply reply) {
      reply(json_response(req, status::ok, std::to_string(req.body().size())));
    });
    router_.add(verb::get, "/throw",
                [](Request&, RequestContext&, Reply) { throw std::runtime_error("boom"); });
    // Replies from another thread after the given delay, reading the request meanwhile.
    router_.add(verb::get, "/delay/{ms}", [this](Request& req, RequestContext& rc, Reply reply) {
      const int ms = std::stoi(rc.params.at(0).second);
      ++delayed_started_;
      spawn([&req, ms, reply = std::move(reply)] {
        std::this_thread::sleep_for(std::chrono::milliseconds(ms));
        reply(json_response(req, status::ok, std::string(req.target())));
      });
    });
  }

  ~ServerTest() override {
    join_helpers();
    stop_server();
  }

  void start_server(ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<Server>(
        io_, options, router_,
        [this](const RequestOutcome& o) {
          std::lock_guard lock(mutex_);
          outcomes_.push_back({o.method, std::string(o.route), o.status, o.seconds, o.request_bytes,
                               o.response_bytes});
        },
        [this](std::string_view event) {
          std::lock_guard lock(mutex_);
          events_.emplace_back(event);
        });
    const auto listening = server_->listen();
    ASSERT_TRUE(listening.ok()) << listening.error().message;
    ASSERT_NE(server_->port(), 0);
    server_->start();
    for (int i = 0; i < 2; ++i)
      io_threads_.emplace_back([this] {
        io_.run();
        std::lock_guard lock(mutex_);
        ++io_threads_done_;
        cv_.notify_all();
      });
  }

  // Shuts the server down and reports whether io_context::run() returned by itself in time.
  bool stop_server(std::chrono::milliseconds timeout = 5s) {
    if (!server_ || io_threads_.empty()) return true;
    server_->shutdown();
    bool returned;
    {
      std::unique_lock lock(mutex_);
      returned =
          cv_.wait_for(lock, timeout, [&] { return io_threads_done_ == io_threads_.size(); });
    }
    if (!returned) io_.stop();
    for (auto& t : io_threads_)
      t.join();
    io_threads_.clear();
    return returned;
  }

  void spawn(std::function<void()> work) {
    std::lock_guard lock(mutex_);
    helpers_.emplace_back(std::move(work));
  }

  void join_helpers() {
    std::vector<std::thread> helpers;
    {
      std::lock_guard lock(mutex_);
      helpers.swap(helpers_);
    }
    for (auto& t : helpers)
      t.join();
  }

  // The observer runs after the write completes, possibly after the client read the response.
  std::vector<Outcome> wait_for_outcomes(std::size_t n) {
    const auto deadline = Clock::now() + 2s;
    for (;;) {
      {
        std::lock_guard lock(mutex_);
        if (outcomes_.size() >= n || Clock::now() > deadline) return outcomes_;
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  // How many times the server reported `event` (ConnectionObserver), waiting up to 2 s for `n`.
  std::size_t events(std::string_view event, std::size_t n = 1) {
    const auto deadline = Clock::now() + 2s;
    for (;;) {
      std::size_t seen = 0;
      {
        std::lock_guard lock(mutex_);
        for (const auto& e : events_)
          seen += e == event ? 1 : 0;
      }
      if (seen >= n || Clock::now() > deadline) return seen;
      std::this_thread::sleep_for(5ms);
    }
  }

  bool wait_for_delayed_handlers(int n) {
    const auto deadline = Clock::now() + 2s;
    while (delayed_started_ < n) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  }

  unsigned short port() const { return server_->port(); }

  asio::io_context io_;
  Router router_;
  std::unique_ptr<Server> server_;
  std::vector<std::thread> io_threads_;
  std::size_t io_threads_done_ = 0;
  std::vector<std::thread> helpers_;
  std::vector<Outcome> outcomes_;
  std::vector<std::string> events_;
  std::atomic<int> delayed_started_{0};
  std::mutex mutex_;
  std::condition_variable cv_;
};

}  // namespace
}  // namespace logpipe::http
