#include "queue/async_client.hpp"

#include <fmt/format.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <deque>

#include "core/log.hpp"

namespace logpipe::queue {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct AsyncClient::Impl : std::enable_shared_from_this<AsyncClient::Impl> {
  enum class State { disconnected, connecting, connected };

  struct Command {
    std::string bytes;
    Callback callback;  // empty for internal handshake commands whose error closes the link
  };

  Impl(asio::io_context& io, RedisEndpoint ep, AsyncClientOptions opts)
      : strand(asio::make_strand(io)),
        resolver(strand),
        socket(strand),
        timer(strand),
        retry_timer(strand),
        endpoint(std::move(ep)),
        options(opts) {}

  ~Impl() {
    if (reader) redisReaderFree(reader);
  }

  asio::strand<asio::io_context::executor_type> strand;
  tcp::resolver resolver;
  tcp::socket socket;
  asio::steady_timer timer;        // connect and reply deadlines
  asio::steady_timer retry_timer;  // the next reconnect attempt after a lost connection
  RedisEndpoint endpoint;
  AsyncClientOptions options;

  State state = State::disconnected;
  std::atomic<bool> is_connected{false};
  // Set from an unexpected failure until a connection succeeds: commands fail at once meanwhile,
  // and the retry timer reconnects.
  bool outage = false;
  std::chrono::milliseconds retry_delay{0};
  std::uint64_t generation = 0;  // bumps on each connection; stale handlers compare it

  std::deque<Command> pending;    // not yet written
  std::deque<Callback> inflight;  // written, awaiting replies in order
  std::string write_buffer;
  bool writing = false;
  redisReader* reader = nullptr;
  std::array<char, 65536> read_buffer{};

  void submit(Command command) {
    if (outage) {
      complete(command.callback,
               core::make_error(core::Errc::unavailable, "redis: unavailable (reconnecting)"));
      return;
    }
    if (state == State::disconnected) {
      pending.push_back(std::move(command));
      connect();
      return;
    }
    pending.push_back(std::move(command));
    if (state == State::connected) flush();
  }

  static void complete(const Callback& cb, core::Result<ReplyPtr> result) {
    if (cb) cb(std::move(result));
  }

  void connect() {
    state = State::connecting;
    const auto gen = ++generation;
    timer.expires_after(options.connect_timeout);
    timer.async_wait([self = shared_from_this(), gen](boost::system::error_code ec) {
      if (!ec && self->generation == gen && self->state == State::connecting)
        self->fail(fmt::format("connect to {} timed out", self->endpoint.display()));
    });
    resolver.async_resolve(
        endpoint.host, std::to_string(endpoint.port),
        [self = shared_from_this(), gen](boost::system::error_code ec,
                                         const tcp::resolver::results_type& results) {
          if (self->generation != gen) return;
          if (ec) return self->fail("resolve " + self->endpoint.host + ": " + ec.message());
          asio::async_connect(self->socket, results,
                              [self, gen](boost::system::error_code ec2, const tcp::endpoint&) {
                                if (self->generation != gen) return;
                                if (ec2) return self->fail("connect: " + ec2.message());
                                self->on_connected();
                              });
        });
  }

  void on_connected() {
    timer.cancel();
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (reader) redisReaderFree(reader);
    reader = redisReaderCreate();
    state = State::connected;
    is_connected = true;
    if (outage) core::log::info("redis connection re-established", {{"redis", endpoint.display()}});
    outage = false;
    retry_delay = std::chrono::milliseconds(0);
    // Handshake commands go first; their replies are consumed here.
    std::deque<Command> handshake;
    if (!endpoint.password.empty()) {
      std::vector<std::string_view> auth{"AUTH"};
      if (!endpoint.username.empty()) auth.push_back(endpoint.username);
      auth.push_back(endpoint.password);
      handshake.push_back({format_command(auth), {}});
    }
    if (endpoint.db != 0) {
      const std::string db = std::to_string(endpoint.db);
      handshake.push_back({format_command({"SELECT", db}), {}});
    }
    pending.insert(pending.begin(), std::make_move_iterator(handshake.begin()),
                   std::make_move_iterator(handshake.end()));
    read();
    flush();
  }

  void flush() {
    if (writing || pending.empty() || state != State::connected) return;
    write_buffer.clear();
    while (!pending.empty() &&
           (write_buffer.empty() ||
            write_buffer.size() + pending.front().bytes.size() <= options.max_write_bytes)) {
      write_buffer += pending.front().bytes;
      inflight.push_back(std::move(pending.front().callback));
      pending.pop_front();
    }
    writing = true;
    arm_reply_deadline();
    asio::async_write(
        socket, asio::buffer(write_buffer),
        [self = shared_from_this(), gen = generation](boost::system::error_code ec, std::size_t) {
          if (self->generation != gen) return;
          self->writing = false;
          if (ec) return self->fail("write: " + ec.message());
          self->flush();
        });
  }

  void arm_reply_deadline() {
    timer.expires_after(options.reply_timeout);
    timer.async_wait([self = shared_from_this(), gen = generation](boost::system::error_code ec) {
      if (ec || self->generation != gen || self->inflight.empty()) return;
      self->fail("no reply within " + std::to_string(self->options.reply_timeout.count()) + " ms");
    });
  }

  void read() {
    socket.async_read_some(
        asio::buffer(read_buffer),
        [self = shared_from_this(), gen = generation](boost::system::error_code ec, std::size_t n) {
          if (self->generation != gen) return;
          if (ec)
            return self->fail(ec == asio::error::eof ? "connection closed by server"
                                                     : "read: " + ec.message());
          self->on_data(n);
        });
  }

  void on_data(std::size_t n) {
    if (redisReaderFeed(reader, read_buffer.data(), n) != REDIS_OK) return fail("protocol error");
    for (;;) {
      void* raw = nullptr;
      if (redisReaderGetReply(reader, &raw) != REDIS_OK) return fail("protocol error");
      if (raw == nullptr) break;
      ReplyPtr reply(static_cast<redisReply*>(raw));
      if (inflight.empty()) return fail("unexpected reply");
      Callback cb = std::move(inflight.front());
      inflight.pop_front();
      if (!cb) {  // handshake
        if (reply->type == REDIS_REPLY_ERROR) return fail("handshake: " + reply_error(*reply));
        continue;
      }
      if (reply->type == REDIS_REPLY_ERROR) {
        cb(core::make_error(core::Errc::invalid_argument, "redis: " + reply_error(*reply)));
      } else {
        cb(std::move(reply));
      }
    }
    if (inflight.empty()) {
      timer.cancel();
    } else {
      arm_reply_deadline();
    }
    read();
  }

  // `expected`: close() asked for it; no reconnect follows until the next command.
  void fail(const std::string& why, bool expected = false) {
    if (expected) {
      outage = false;
      retry_timer.cancel();
    }
    if (state == State::disconnected) return;
    // Warned once per outage: the retries that follow fail the same way every reconnect_max.
    if (!expected && !outage)
      core::log::warn("redis connection lost", {{"redis", endpoint.display()}, {"error", why}});
    else if (!expected)
      core::log::debug("redis reconnect failed", {{"redis", endpoint.display()}, {"error", why}});
    ++generation;
    state = State::disconnected;
    is_connected = false;
    writing = false;
    boost::system::error_code ignored;
    resolver.cancel();
    socket.close(ignored);
    timer.cancel();
    // Commands never written were certainly not applied; commands written but not answered may
    // have been (Redis can apply a command and close before its reply arrives): their outcome is
    // unknown, and callers must not treat them as failed-and-not-stored.
    const auto not_sent = core::make_error(core::Errc::unavailable, "redis: " + why);
    const auto unknown =
        core::make_error(core::Errc::timeout,
                         "redis: " + why + " before the reply; the command may have been applied");
    auto callbacks = std::move(inflight);
    inflight.clear();
    auto waiting = std::move(pending);
    pending.clear();
    for (auto& cb : callbacks)
      complete(cb, unknown);
    for (auto& c : waiting)
      complete(c.callback, not_sent);
    if (!expected) schedule_reconnect();
  }

  void schedule_reconnect() {
    outage = true;
    retry_delay = std::clamp(retry_delay * 2, options.reconnect_min, options.reconnect_max);
    retry_timer.expires_after(retry_delay);
    retry_timer.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec && self->outage && self->state == State::disconnected) self->connect();
    });
  }
};

AsyncClient::AsyncClient(asio::io_context& io, RedisEndpoint endpoint, AsyncClientOptions options)
    : impl_(std::make_shared<Impl>(io, std::move(endpoint), options)) {}

AsyncClient::~AsyncClient() {
  close();
}

void AsyncClient::send(const std::vector<std::string_view>& args, Callback callback) {
  Impl::Command command{format_command(args), std::move(callback)};
  asio::post(impl_->strand, [impl = impl_, command = std::move(command)]() mutable {
    impl->submit(std::move(command));
  });
}

void AsyncClient::close() {
  asio::post(impl_->strand, [impl = impl_] { impl->fail("closed", true); });
}

bool AsyncClient::connected() const {
  return impl_->is_connected;
}

}  // namespace logpipe::queue
