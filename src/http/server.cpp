#include "http/server.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "core/log.hpp"

namespace logpipe::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadChunk = 4096;
// Accept errors such as EMFILE persist for a while; retrying at once would spin a core.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// After an error response the client may still be sending a body we will never read. Closing
// with unread input makes the kernel send RST, which can destroy the response before the
// client has read it, so such connections are drained (bounded) until the client closes.
constexpr std::chrono::milliseconds kLingerTimeout{2000};
constexpr std::size_t kLingerBytes = std::size_t{1} << 20;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

std::string display_address(std::string_view host, unsigned short port) {
  const bool ipv6 = host.find(':') != std::string_view::npos && host.front() != '[';
  std::string out = ipv6 ? "[" + std::string(host) + "]" : std::string(host);
  return out + ":" + std::to_string(port);
}

// Numeric addresses (IPv6 optionally in brackets) and "localhost" need no DNS; anything else
// goes through the system resolver, which is acceptable once at start-up.
core::Result<tcp::endpoint> resolve(asio::io_context& io, std::string_view host,
                                    unsigned short port) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return core::Error(core::Errc::invalid_argument, "the host is empty");
  error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  if (host == "localhost") return tcp::endpoint(asio::ip::address_v4::loopback(), port);
  tcp::resolver resolver(io);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty())
    return core::Error(core::Errc::invalid_argument, "cannot resolve host: " + ec.message());
  return results.begin()->endpoint();
}

bool expects_continue(const Request& request) {
  return request.version() >= 11 &&
         beast::iequals(request[bhttp::field::expect], std::string_view("100-continue"));
}

// Errors that mean the client sent something that is not HTTP, as opposed to the connection
// ending (nobody left to answer) or a limit (answered with its own status).
bool is_protocol_error(const error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
         ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message &&
         ec != bhttp::error::body_limit && ec != bhttp::error::header_limit;
}

// Handlers usually call prepare_payload (json_response does); a forgotten one must not
// produce a response the client cannot frame.
void ensure_framing(Response& response) {
  if (response.has_content_length() || response.chunked()) return;
  try {
    response.prepare_payload();
  } catch (const std::exception&) {
    // 1xx/204/304 must not have a body.
    response.body().clear();
    response.prepare_payload();
  }
}

// A response to HEAD carries the headers of the full response but no body; sending one would
// break the framing of the next response on the connection.
void strip_body(Response& response) {
  if (response.chunked()) return;
  const auto length = response.body().size();
  response.body().clear();
  response.content_length(length);
}

class Session;

// The acceptor and the registry of live sessions (for shutdown). Sessions keep it alive.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, ServerOptions options, const Router& router,
           RequestObserver observer)
      : io_(io),
        options_(std::move(options)),
        router_(router),
        observer_(std::move(observer)),
        acceptor_(asio::make_strand(io)),
        retry_timer_(acceptor_.get_executor()) {}

  core::Status listen();
  void start();
  void shutdown();
  unsigned short port() const { return port_.load(); }

  asio::io_context& io() { return io_; }
  const ServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  void observe(const RequestOutcome& outcome) const;
  // False once shutting down: the new connection is then dropped.
  bool add(const std::shared_ptr<Session>& session);
  void remove(const Session* session);
  std::size_t connections() {
    std::lock_guard lock(mutex_);
    return sessions_.size();
  }

 private:
  void accept();
  void on_accept(error_code ec, tcp::socket socket);
  void retry_accept_later();

  asio::io_context& io_;
  const ServerOptions options_;
  const Router& router_;
  const RequestObserver observer_;
  tcp::acceptor acceptor_;  // used on its strand once started
  asio::steady_timer retry_timer_;
  std::atomic<unsigned short> port_{0};
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // guards sessions_ and the transition of stopping_
  std::unordered_map<const Session*, std::weak_ptr<Session>> sessions_;
};

// One connection: reads a request, hands it to the router's handler, writes the reply, and
// repeats while keep-alive lasts. Everything runs on the connection's strand; only the Reply
// is called from other threads, and it posts back onto the strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<Listener> listener)
      : listener_(std::move(listener)),
        executor_(socket.get_executor()),
        stream_(std::move(socket)) {}
  ~Session() { listener_->remove(this); }

  void start() {
    asio::dispatch(executor_, [self = shared_from_this()] { self->read_request(); });
  }
  void shutdown() {
    asio::post(executor_, [self = shared_from_this()] { self->on_shutdown(); });
  }

 private:
  // idle: waiting for a request's first byte; reading: a request is arriving; handling: the
  // handler owns the request; writing: the response is going out; closing: lingering.
  enum class State { idle, reading, handling, writing, closing, closed };

  const ServerOptions& options() const { return listener_->options(); }

  void read_request();
  void on_data(error_code ec, std::size_t bytes);
  void read_header();
  void on_header(error_code ec, std::size_t bytes);
  void on_continue(error_code ec, std::size_t bytes);
  void read_body();
  void on_body(error_code ec, std::size_t bytes);
  void on_read_error(error_code ec);
  void on_request_read();

  void dispatch();
  void run_handler(const Handler& handler);
  Reply make_reply();
  void on_reply(std::uint64_t id, Response response);

  void reject(bhttp::status status, std::string_view code, std::string_view message);
  void write(Response response, bool close_after);
  void on_write(error_code ec, std::size_t bytes);
  void report() const;

  void finish();
  void linger();
  void on_linger(error_code ec, std::size_t bytes);
  void close();
  void on_shutdown();

  const std::shared_ptr<Listener> listener_;
  const asio::any_io_executor executor_;  // the strand; immutable, so safe to read anywhere
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  // Handlers get references to these and may use them until they reply.
  Request request_;
  PathParams params_;
  std::optional<Response> response_;  // must outlive async_write

  State state_ = State::idle;
  bool first_request_ = true;
  bool stopping_ = false;
  bool close_after_write_ = false;
  bool unread_input_ = false;  // the request was rejected before its end
  std::uint64_t request_id_ = 0;
  std::size_t lingered_ = 0;
  // Keeps io_context::run() from returning while a handler (maybe on another thread) holds
  // the request and no socket operation is pending.
  asio::any_io_executor work_;

  // For the observer.
  bhttp::verb method_ = bhttp::verb::unknown;
  std::string route_;
  std::size_t request_bytes_ = 0;
  Clock::time_point read_done_;
};

// ---- reading ----

void Session::read_request() {
  if (stopping_ || state_ == State::closed) return close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
      options().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  // Content-Length is checked by hand once the header is in, so the 413 can name the route;
  // the limit is set after that to catch chunked bodies.
  parser_->body_limit(boost::none);
  if (buffer_.size() > 0) return read_header();  // pipelined bytes already here

  // Between requests the connection is idle, and only the idle timeout applies; a new
  // connection gets no more time for its first byte than for a whole request.
  state_ = State::idle;
  stream_.expires_after(first_request_ ? options().request_timeout : options().idle_timeout);
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&Session::on_data, shared_from_this()));
}

void Session::on_data(error_code ec, std::size_t bytes) {
  if (ec || state_ == State::closed) return close();  // idle timeout, client gone or shutdown
  buffer_.commit(bytes);
  read_header();
}

void Session::read_header() {
  state_ = State::reading;
  // One deadline for the whole request (header, 100-continue and body): a client trickling
  // bytes cannot hold the connection longer than this.
  stream_.expires_after(options().request_timeout);
  bhttp::async_read_header(stream_, buffer_, *parser_,
                           beast::bind_front_handler(&Session::on_header, shared_from_this()));
}

void Session::on_header(error_code ec, std::size_t) {
  if (state_ == State::closed) return;  // see on_request_read
  if (ec) return on_read_error(ec);
  const std::size_t limit = options().max_body_bytes;
  if (const auto length = parser_->content_length(); length && *length > limit)
    return reject(bhttp::status::payload_too_large, "too_large",
                  "the request body exceeds the limit of " + std::to_string(limit) + " bytes");
  parser_->body_limit(limit);
  if (parser_->is_done()) return on_request_read();
  if (expects_continue(parser_->get())) {
    asio::async_write(stream_, asio::buffer(kContinue.data(), kContinue.size()),
                      beast::bind_front_handler(&Session::on_continue, shared_from_this()));
    return;
  }
  read_body();
}

void Session::on_continue(error_code ec, std::size_t) {
  if (ec) return close();
  read_body();
}

void Session::read_body() {
  bhttp::async_read(stream_, buffer_, *parser_,
                    beast::bind_front_handler(&Session::on_body, shared_from_this()));
}

void Session::on_body(error_code ec, std::size_t) {
  if (state_ == State::closed) return;  // see on_request_read
  if (ec) return on_read_error(ec);
  on_request_read();
}

void Session::on_read_error(error_code ec) {
  if (ec == bhttp::error::body_limit)
    return reject(bhttp::status::payload_too_large, "too_large",
                  "the request body exceeds the limit of " +
                      std::to_string(options().max_body_bytes) + " bytes");
  if (ec == bhttp::error::header_limit)
    return reject(bhttp::status::request_header_fields_too_large, "header_too_large",
                  "the request header exceeds the limit of " +
                      std::to_string(options().max_header_bytes) + " bytes");
  if (is_protocol_error(ec))
    return reject(bhttp::status::bad_request, "bad_request",
                  "malformed HTTP request: " + ec.message());
  close();  // timeout, client gone or shutdown: nobody to answer
}

void Session::on_request_read() {
  // A read that completed just before shutdown closed the session still delivers its handler
  // with success; the request must not run then: nobody can be told that it was accepted.
  if (state_ == State::closed) return;
  read_done_ = Clock::now();
  request_ = parser_->release();
  parser_.reset();
  first_request_ = false;
  method_ = request_.method();
  request_bytes_ = request_.body().size();
  dispatch();
}

// ---- handling ----

void Session::dispatch() {
  state_ = State::handling;
  stream_.expires_never();
  ++request_id_;
  work_ = asio::prefer(listener_->io().get_executor(), asio::execution::outstanding_work.tracked);

  auto match = listener_->router().match(method_, request_.target());
  route_ = std::move(match.route);
  if (match.handler) {
    params_ = std::move(match.params);
    return run_handler(*match.handler);
  }
  const std::string path(request_.target().substr(0, request_.target().find('?')));
  if (match.method_not_allowed) {
    auto response = error_response(
        request_, bhttp::status::method_not_allowed, "method_not_allowed",
        "method " + std::string(request_.method_string()) + " is not allowed for " + path);
    response.set(bhttp::field::allow, match.allow);
    return on_reply(request_id_, std::move(response));
  }
  on_reply(request_id_,
           error_response(request_, bhttp::status::not_found, "not_found", "no route for " + path));
}

void Session::run_handler(const Handler& handler) {
  try {
    handler(request_, params_, make_reply());
    return;
  } catch (const std::exception& e) {
    core::log::error("request handler failed", {{"route", route_}, {"error", e.what()}});
  } catch (...) {
    core::log::error("request handler failed", {{"route", route_}, {"error", "unknown exception"}});
  }
  // Posted like any reply, so one the handler sent before throwing still wins.
  make_reply()(error_response(request_, bhttp::status::internal_server_error, "internal",
                              "internal server error"));
}

Reply Session::make_reply() {
  return [self = shared_from_this(), id = request_id_](Response&& response) {
    asio::post(self->executor_, [self, id, response = std::move(response)]() mutable {
      self->on_reply(id, std::move(response));
    });
  };
}

void Session::on_reply(std::uint64_t id, Response response) {
  // A second reply for the same request, or one after the connection was closed, is dropped.
  if (id != request_id_ || state_ != State::handling) return;
  work_ = {};
  write(std::move(response), stopping_ || !request_.keep_alive());
}

// ---- writing ----

void Session::reject(bhttp::status status, std::string_view code, std::string_view message) {
  // The header may be incomplete; answer with what is known.
  Request head;
  head.version(11);
  method_ = bhttp::verb::unknown;
  route_ = "unmatched";
  if (parser_ && parser_->is_header_done()) {
    const auto& h = parser_->get();
    head.version(h.version());
    method_ = h.method();
    route_ = listener_->router().match(method_, h.target()).route;
  }
  head.keep_alive(false);
  parser_.reset();
  request_bytes_ = 0;
  read_done_ = Clock::now();
  unread_input_ = true;
  write(error_response(head, status, code, message), true);
}

void Session::write(Response response, bool close_after) {
  state_ = State::writing;
  close_after_write_ = close_after || !response.keep_alive();
  if (close_after_write_) response.keep_alive(false);
  ensure_framing(response);
  if (method_ == bhttp::verb::head) strip_body(response);
  response_.emplace(std::move(response));
  // A client that does not read its response must not hold the connection forever.
  stream_.expires_after(options().request_timeout);
  bhttp::async_write(stream_, *response_,
                     beast::bind_front_handler(&Session::on_write, shared_from_this()));
}

void Session::on_write(error_code ec, std::size_t) {
  // Reported even if the client went away: the server's answer is what metrics should count.
  report();
  response_.reset();
  if (ec) return close();
  if (close_after_write_ || stopping_) return finish();
  read_request();
}

void Session::report() const {
  const double seconds = std::chrono::duration<double>(Clock::now() - read_done_).count();
  listener_->observe(RequestOutcome{method_, route_, response_->result_int(), seconds,
                                    request_bytes_, response_->body().size()});
}

// ---- closing ----

void Session::finish() {
  error_code ec;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec || !unread_input_ || stopping_) return close();
  linger();
}

void Session::linger() {
  state_ = State::closing;
  stream_.expires_after(
      std::min<std::chrono::milliseconds>(kLingerTimeout, options().request_timeout));
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&Session::on_linger, shared_from_this()));
}

void Session::on_linger(error_code ec, std::size_t bytes) {
  lingered_ += bytes;
  if (ec || lingered_ > kLingerBytes) return close();
  // The bytes stay uncommitted, so the buffer is reused.
  stream_.async_read_some(buffer_.prepare(kReadChunk),
                          beast::bind_front_handler(&Session::on_linger, shared_from_this()));
}

void Session::close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  work_ = {};
  stream_.close();  // pending operations complete with operation_aborted
}

void Session::on_shutdown() {
  stopping_ = true;
  switch (state_) {
    case State::idle:
    case State::reading:
    case State::closing:
      close();
      break;
    case State::handling:
    case State::writing:  // the response goes out with Connection: close, then on_write closes
    case State::closed:
      break;
  }
}

// ---- Listener ----

core::Status Listener::listen() {
  const std::string where = display_address(options_.host, options_.port);
  auto fail = [&](core::Errc code, const std::string& why) {
    error_code ignored;
    acceptor_.close(ignored);
    return core::Error(code, "cannot listen on " + where + ": " + why);
  };
  auto endpoint = resolve(io_, options_.host, options_.port);
  if (!endpoint) return fail(endpoint.error().code, endpoint.error().message);

  error_code ec;
  if (acceptor_.open(endpoint->protocol(), ec); ec)
    return fail(core::Errc::unavailable, ec.message());
  if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec); ec)
    return fail(core::Errc::unavailable, ec.message());
  if (acceptor_.bind(*endpoint, ec); ec) return fail(core::Errc::unavailable, ec.message());
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec); ec)
    return fail(core::Errc::unavailable, ec.message());
  const auto local = acceptor_.local_endpoint(ec);
  if (ec) return fail(core::Errc::unavailable, ec.message());
  port_ = local.port();
  return {};
}

void Listener::start() {
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->accept(); });
}

void Listener::shutdown() {
  std::vector<std::weak_ptr<Session>> sessions;
  {
    std::lock_guard lock(mutex_);
    if (stopping_.exchange(true)) return;
    sessions.reserve(sessions_.size());
    for (const auto& entry : sessions_)
      sessions.push_back(entry.second);
  }
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] {
    error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
  for (const auto& weak : sessions)
    if (auto session = weak.lock()) session->shutdown();
}

void Listener::accept() {
  if (stopping_ || !acceptor_.is_open()) return;
  acceptor_.async_accept(asio::make_strand(io_),
                         beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void Listener::on_accept(error_code ec, tcp::socket socket) {
  if (stopping_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    core::log::error("accept failed", {{"error", ec.message()}});
    return retry_accept_later();
  }
  auto session = std::make_shared<Session>(std::move(socket), shared_from_this());
  if (add(session)) session->start();
  accept();
}

void Listener::retry_accept_later() {
  retry_timer_.expires_after(kAcceptRetryDelay);
  retry_timer_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->accept();
  });
}

void Listener::observe(const RequestOutcome& outcome) const {
  if (!observer_) return;
  try {
    observer_(outcome);
  } catch (const std::exception& e) {
    core::log::error("request observer failed", {{"error", e.what()}});
  }
}

bool Listener::add(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mutex_);
  if (stopping_) return false;
  sessions_.emplace(session.get(), session);
  return true;
}

void Listener::remove(const Session* session) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
}

}  // namespace

struct Server::Impl : Listener {
  using Listener::Listener;
};

Server::Server(boost::asio::io_context& io, ServerOptions options, const Router& router,
               RequestObserver observer)
    : impl_(std::make_shared<Impl>(io, std::move(options), router, std::move(observer))) {}

// Pending operations hold the Impl, so it outlives the Server; shutting down makes them end.
Server::~Server() {
  impl_->shutdown();
}

core::Status Server::listen() {
  return impl_->listen();
}

void Server::start() {
  impl_->start();
}

void Server::shutdown() {
  impl_->shutdown();
}

std::size_t Server::connections() const {
  return impl_->connections();
}

unsigned short Server::port() const {
  return impl_->port();
}

}  // namespace logpipe::http
