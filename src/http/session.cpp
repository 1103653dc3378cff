// One HTTP connection: reads a request's head, decides on it (route, body limit, transfer coding,
// middleware), reads the body, hands the request to its handler, writes the reply (whole or
// streamed), and repeats while keep-alive lasts. Everything runs on the connection's strand;
// only the Reply and a ResponseStream are used from other threads, and they post onto it.
//
// The stream is plain TCP or TLS over it (a variant: the state machine is the same, only the
// I/O calls and the end of the connection differ), as in Beast's advanced_server_flex.
//
// Deadlines: waiting for a later request is bounded by the stream's own expiry (idle_timeout,
// closed without a word). Reading a request is bounded by a timer of the session (deadline_):
// when it fires the read is cancelled and the client is told 408 before the close, which the
// stream's expiry (it closes the socket) could not do.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <cstdint>
#include <deque>
#include <limits>
#include <optional>
#include <variant>

#include "core/log.hpp"
#include "http/listener.hpp"
#include "tls/server_context.hpp"

namespace logpipe::http::detail {
namespace {

namespace beast = boost::beast;
namespace ssl = asio::ssl;

constexpr std::size_t kReadChunk = 4096;
// After an error response the client may still be sending a body we will never read. Closing
// with unread input makes the kernel send RST, which can destroy the response before the
// client has read it, so such connections are drained (bounded) until the client closes.
constexpr std::chrono::milliseconds kLingerTimeout{2000};
constexpr std::size_t kLingerBytes = std::size_t{1} << 20;
constexpr std::chrono::milliseconds kRecutInterval{20};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::size_t kMaxRequestIdBytes = 128;
constexpr std::string_view kForwardedForHeader = "X-Forwarded-For";

// Beast's request parser bounds the header's bytes; this one also bounds its fields, as they
// are parsed, so that a flood of tiny fields is refused before it is stored.
class RequestParser : public bhttp::request_parser<bhttp::string_body> {
 public:
  explicit RequestParser(std::size_t max_fields) : max_fields_(max_fields) {}
  bool too_many_fields() const { return fields_ > max_fields_; }

 private:
  void on_field_impl(bhttp::field name, beast::string_view name_string, beast::string_view value,
                     error_code& ec) override {
    if (++fields_ > max_fields_) {
      ec = bhttp::error::header_limit;
      return;
    }
    get().insert(name, name_string, value);
  }

  std::size_t fields_ = 0;
  const std::size_t max_fields_;
};

bool expects_continue(const RequestHead& request) {
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

// RFC 9112 §6.1: a server that receives a transfer coding it does not understand answers 501.
// Only "chunked" is understood; "gzip, chunked" would otherwise be read as if it were plain.
bool has_unsupported_transfer_coding(const RequestHead& head) {
  const auto it = head.find(bhttp::field::transfer_encoding);
  if (it == head.end()) return false;
  bool unsupported = false;
  for (auto coding : bhttp::token_list(it->value())) {
    if (!beast::iequals(coding, std::string_view("chunked"))) unsupported = true;
  }
  return unsupported;
}

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxRequestIdBytes) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// Handlers usually call prepare_payload (json_response does); a forgotten one must not
// produce a response the client cannot frame. A 204 has no body, and RFC 9110 §8.6 forbids it a
// Content-Length (Beast's prepare_payload would write 0).
void ensure_framing(Response& response) {
  if (response.result() == bhttp::status::no_content) {
    response.body().clear();
    response.erase(bhttp::field::content_length);
    response.erase(bhttp::field::transfer_encoding);
    return;
  }
  if (response.has_content_length() || response.chunked()) return;
  try {
    response.prepare_payload();
  } catch (const std::exception&) {
    // 1xx/304 must not have a body.
    response.body().clear();
    response.prepare_payload();
  }
}

// A response to HEAD carries the headers of the full response but no body; sending one would
// break the framing of the next response on the connection.
void strip_body(Response& response) {
  if (response.chunked() || response.result() == bhttp::status::no_content) return;
  const auto length = response.body().size();
  response.body().clear();
  response.content_length(length);
}

class Session : public Connection, public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, std::shared_ptr<ssl::context> tls_context,
          const asio::ip::address& address, std::shared_ptr<Listener> listener)
      : listener_(std::move(listener)),
        executor_(socket.get_executor()),
        tls_context_(std::move(tls_context)),
        address_(address),
        stream_(make_stream(std::move(socket), tls_context_.get())),
        deadline_(executor_) {}
  ~Session() override { listener_->remove(this); }

  void start() {
    peer_ = address_.to_string();
    peer_is_proxy_ = options().trusted_proxies.contains(address_);
    asio::dispatch(executor_, [self = shared_from_this()] {
      if (self->tls()) return self->handshake();
      self->read_request();
    });
  }
  void shutdown() override {
    asio::post(executor_, [self = shared_from_this()] { self->on_shutdown(); });
  }
  void evict() override {
    asio::post(executor_, [self = shared_from_this()] {
      if (self->state_ == State::idle) self->close();
    });
  }

  // Called through the Reply and the ResponseStream (any thread).
  void post_reply(std::uint64_t id, Response&& response);
  std::shared_ptr<ResponseStream> open_stream(std::uint64_t id, Response&& head);
  void post_chunk(std::uint64_t id, std::string chunk, std::function<void(bool)> written);
  void post_finish(std::uint64_t id);
  void post_abort(std::uint64_t id);
  bool stream_open(std::uint64_t id) const {
    return streaming_id_.load() == id && !stream_broken_.load();
  }

 private:
  // idle: waiting for a request's first byte (or a TLS handshake); reading: a request is
  // arriving; handling: the handler owns the request; writing: the response is going out;
  // streaming: a chunked body is going out; closing: lingering, or TLS's close_notify;
  // upgraded: the socket went to a WebSocket session.
  enum class State { idle, reading, handling, writing, streaming, closing, closed, upgraded };
  // What the session's own timer bounds while a request is read.
  enum class Phase { none, header, body };

  const ServerOptions& options() const { return listener_->options(); }
  bool tls() const { return std::holds_alternative<TlsStream>(stream_); }
  beast::tcp_stream& lowest() {
    return std::visit([](auto& s) -> beast::tcp_stream& { return beast::get_lowest_layer(s); },
                      stream_);
  }

  void handshake();
  void on_handshake(error_code ec);
  void read_request();
  void on_data(error_code ec, std::size_t bytes);
  void read_header();
  void on_header(error_code ec, std::size_t bytes);
  std::optional<Response> check_head();
  void decide_client(const RequestHead& head);
  void on_continue(error_code ec, std::size_t bytes);
  void read_body();
  void on_body(error_code ec, std::size_t bytes);
  void on_read_error(error_code ec);
  void on_request_read();

  void arm(Phase phase);
  void disarm();
  Clock::time_point due() const;
  void wait_for_deadline();
  void on_deadline();
  void cut_read();

  void dispatch();
  void upgrade();
  void run_handler(const Handler& handler);
  Reply make_reply();
  void on_reply(std::uint64_t id, Response response);

  void refuse(Response response);
  void reject(bhttp::status status, std::string_view code, std::string_view message);
  void write(Response response, bool close_after);
  void on_write(error_code ec, std::size_t bytes);
  void report(unsigned status, std::size_t response_bytes) const;

  void start_stream(std::uint64_t id, const Response& head);
  void write_next_chunk();
  void on_chunk_written(error_code ec, std::size_t bytes);
  void end_stream(bool ok);

  void finish();
  void linger();
  void on_linger(error_code ec, std::size_t bytes);
  void close_notify();
  void close();
  void on_shutdown();

  const std::shared_ptr<Listener> listener_;
  const asio::any_io_executor executor_;  // the strand; immutable, so safe to read anywhere
  // The certificate this connection began with (a reload changes only new connections'); the
  // TLS stream refers to it, so it is declared first.
  const std::shared_ptr<ssl::context> tls_context_;
  const asio::ip::address address_;
  using Stream = std::variant<beast::tcp_stream, TlsStream>;
  static Stream make_stream(tcp::socket&& socket, ssl::context* tls_context) {
    if (tls_context) return Stream(std::in_place_index<1>, std::move(socket), *tls_context);
    return Stream(std::in_place_index<0>, std::move(socket));
  }
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  Router::Match match_;
  std::string path_;    // of the request being answered, for the router's response headers
  std::string origin_;  // its Origin header, for CORS
  // Handlers get references to these and may use them until they reply.
  Request request_;
  RequestContext context_;
  std::optional<Response> response_;  // must outlive async_write
  std::string peer_;
  bool peer_is_proxy_ = false;  // a trusted proxy: X-Forwarded-For names the client

  State state_ = State::idle;
  bool first_request_ = true;
  bool stopping_ = false;
  bool close_after_write_ = false;
  bool unread_input_ = false;  // the request was refused before its end
  std::uint64_t request_id_ = 0;
  std::size_t lingered_ = 0;
  // Keeps io_context::run() from returning while a handler (maybe on another thread) holds
  // the request and no socket operation is pending.
  asio::any_io_executor work_;

  // Reading deadlines: the phase and when it began; the timer waits for due(), and a body that
  // arrived meanwhile moves due() on, so the timer is re-armed only when it fires.
  asio::steady_timer deadline_;
  Phase phase_ = Phase::none;
  Clock::time_point phase_start_{};
  std::string_view timed_out_;  // set when the deadline cut a read: the event to report
  bool cutting_read_ = false;   // until the cut read's handler has run

  // Streaming: the head, then chunks one write at a time; each chunk's callback runs once the
  // socket has taken it.
  struct Chunk {
    std::string data;  // empty: the last chunk
    std::function<void(bool)> written;
    bool last = false;
  };
  std::optional<bhttp::response<bhttp::empty_body>> stream_head_;
  std::optional<bhttp::response_serializer<bhttp::empty_body>> stream_serializer_;
  std::deque<Chunk> chunks_;
  bool chunk_in_flight_ = false;
  std::size_t streamed_bytes_ = 0;
  unsigned stream_status_ = 0;
  std::atomic<std::uint64_t> streaming_id_{0};
  std::atomic<bool> stream_broken_{false};

  // For the observer.
  bhttp::verb method_ = bhttp::verb::unknown;
  std::string route_;
  std::size_t request_bytes_ = 0;
  Clock::time_point read_done_;
};

class SessionReply : public Reply::Target {
 public:
  SessionReply(std::shared_ptr<Session> session, std::uint64_t id)
      : session_(std::move(session)), id_(id) {}
  void send(Response&& response) override { session_->post_reply(id_, std::move(response)); }
  std::shared_ptr<ResponseStream> stream(Response&& head) override {
    return session_->open_stream(id_, std::move(head));
  }

 private:
  std::shared_ptr<Session> session_;
  std::uint64_t id_;
};

class SessionStream : public ResponseStream {
 public:
  SessionStream(std::shared_ptr<Session> session, std::uint64_t id)
      : session_(std::move(session)), id_(id) {}
  ~SessionStream() override { finish(); }  // a producer that forgets to finish still ends it

  void write(std::string chunk, std::function<void(bool)> written) override {
    if (chunk.empty()) {  // an empty chunk would end the body
      if (written) written(open());
      return;
    }
    session_->post_chunk(id_, std::move(chunk), std::move(written));
  }
  void finish() override {
    if (!finished_.exchange(true)) session_->post_finish(id_);
  }
  void abort() override {
    if (!finished_.exchange(true)) session_->post_abort(id_);
  }
  bool open() const override { return !finished_ && session_->stream_open(id_); }

 private:
  std::shared_ptr<Session> session_;
  std::uint64_t id_;
  std::atomic<bool> finished_{false};
};

// ---- reading ----

void Session::handshake() {
  // Like a connection waiting for its first request: idle, so evictable at the cap.
  mark_idle();
  lowest().expires_after(options().header_timeout);
  std::get<TlsStream>(stream_).async_handshake(
      ssl::stream_base::server,
      beast::bind_front_handler(&Session::on_handshake, shared_from_this()));
}

void Session::on_handshake(error_code ec) {
  mark_busy();
  if (state_ == State::closed) return;
  if (ec) {
    // Not TLS (plain HTTP on an HTTPS port), an old protocol version, a client that refused the
    // certificate, or too slow: nothing to answer in.
    listener_->count("tls_failed");
    core::log::debug("TLS handshake failed", {{"peer", peer_}, {"error", ec.message()}});
    return close();
  }
  lowest().expires_never();
  read_request();
}

void Session::read_request() {
  if (stopping_ || state_ == State::closed) return close();
  parser_.emplace(options().max_header_count);
  parser_->header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(
      options().max_header_bytes, std::numeric_limits<std::uint32_t>::max())));
  // The body limit is the route's: set once the head is in and the route is known.
  parser_->body_limit(boost::none);
  if (buffer_.size() > 0) return read_header();  // pipelined bytes already here

  state_ = State::idle;
  mark_idle();
  if (first_request_) {
    // A new connection's wait for its first byte is part of its header's time: a client that
    // connects and says nothing holds the connection no longer than one that trickles.
    arm(Phase::header);
  } else {
    // Between requests only the idle timeout applies.
    lowest().expires_after(options().idle_timeout);
  }
  std::visit(
      [&](auto& stream) {
        stream.async_read_some(buffer_.prepare(kReadChunk),
                               beast::bind_front_handler(&Session::on_data, shared_from_this()));
      },
      stream_);
}

void Session::on_data(error_code ec, std::size_t bytes) {
  mark_busy();
  if (state_ == State::closed) return;
  if (ec || !timed_out_.empty()) {
    cutting_read_ = false;
    // Nothing of a request arrived: closed without an answer.
    if (!timed_out_.empty()) {
      listener_->count(timed_out_);
    } else if (ec == beast::error::timeout) {
      listener_->count("idle_timeout");
    }
    return close();  // timeout, client gone or shutdown
  }
  buffer_.commit(bytes);
  read_header();
}

void Session::read_header() {
  state_ = State::reading;
  lowest().expires_never();
  if (phase_ != Phase::header) arm(Phase::header);  // from this request's first byte
  std::visit(
      [&](auto& stream) {
        bhttp::async_read_header(
            stream, buffer_, *parser_,
            beast::bind_front_handler(&Session::on_header, shared_from_this()));
      },
      stream_);
}

void Session::on_header(error_code ec, std::size_t) {
  if (state_ == State::closed) return;  // see on_request_read
  if (ec || !timed_out_.empty()) return on_read_error(ec);
  if (auto refusal = check_head()) return refuse(std::move(*refusal));
  if (parser_->is_done()) return on_request_read();
  arm(Phase::body);
  if (expects_continue(parser_->get())) {
    std::visit(
        [&](auto& stream) {
          asio::async_write(stream, asio::buffer(kContinue.data(), kContinue.size()),
                            beast::bind_front_handler(&Session::on_continue, shared_from_this()));
        },
        stream_);
    return;
  }
  read_body();
}

// Everything decided on the head, before a byte of the body is read.
std::optional<Response> Session::check_head() {
  const RequestHead& head = parser_->get();
  ++request_id_;
  method_ = head.method();
  match_ = listener_->router().match(method_, head.target());
  route_ = match_.route;
  path_ = head.target().substr(0, head.target().find_first_of("?#"));
  origin_ = head[bhttp::field::origin];

  context_ = RequestContext{};
  context_.peer = peer_;
  if (peer_is_proxy_) decide_client(head);
  const auto client_id = head[kRequestIdHeader];
  context_.request_id =
      sane_request_id(client_id) ? std::string(client_id) : listener_->next_request_id();

  if (has_unsupported_transfer_coding(head)) {
    listener_->count("unsupported_transfer_coding");
    return error_response(head, bhttp::status::not_implemented, "not_implemented",
                          "only the chunked transfer coding is supported; send Content-Encoding "
                          "for a compressed body");
  }
  const std::size_t limit = match_.spec && match_.spec->max_body_bytes > 0
                                ? match_.spec->max_body_bytes
                                : options().max_body_bytes;
  if (const auto length = parser_->content_length(); length && *length > limit) {
    listener_->count("body_too_large");
    return error_response(
        head, bhttp::status::payload_too_large, "too_large",
        "the request body exceeds the limit of " + std::to_string(limit) + " bytes");
  }
  parser_->body_limit(limit);
  // Unknown routes and wrong methods are answered after the body, as before: the connection
  // stays usable. Middleware only sees requests that have a route.
  if (match_.spec) {
    context_.route = match_.spec;
    context_.params = match_.params;
    if (auto refusal = listener_->router().admit(head, context_)) return refusal;
  }
  return std::nullopt;
}

// Behind a trusted proxy the client is named by X-Forwarded-For (every occurrence, in order):
// RequestContext::peer becomes that address, so per-address limits and the audit log see the
// client rather than the proxy.
void Session::decide_client(const RequestHead& head) {
  std::string forwarded_for;
  for (auto [it, end] = head.equal_range(kForwardedForHeader); it != end; ++it) {
    if (!forwarded_for.empty()) forwarded_for += ',';
    forwarded_for.append(it->value().data(), it->value().size());
  }
  const auto client = client_address(address_, forwarded_for, options().trusted_proxies);
  if (client.rejected) listener_->count("forwarded_for_rejected");
  if (client.hops > 0) context_.peer = client.address.to_string();
}

void Session::on_continue(error_code ec, std::size_t) {
  if (state_ == State::closed) return;
  if (ec || !timed_out_.empty()) return on_read_error(ec);
  read_body();
}

// A piece at a time, rather than beast's async_read of the whole body, so that the deadline
// sees the body's progress.
void Session::read_body() {
  std::visit(
      [&](auto& stream) {
        bhttp::async_read_some(stream, buffer_, *parser_,
                               beast::bind_front_handler(&Session::on_body, shared_from_this()));
      },
      stream_);
}

void Session::on_body(error_code ec, std::size_t) {
  if (state_ == State::closed) return;  // see on_request_read
  // A read that completed as the deadline cancelled it still ends here.
  if (ec || !timed_out_.empty()) return on_read_error(ec);
  if (!parser_->is_done()) return read_body();
  on_request_read();
}

void Session::on_read_error(error_code ec) {
  cutting_read_ = false;
  disarm();
  if (!timed_out_.empty()) {
    // Cut by the deadline: the client still hears why.
    listener_->count(timed_out_);
    const bool header = timed_out_ == "header_timeout";
    return reject(bhttp::status::request_timeout, timed_out_,
                  header ? "the request header did not arrive within " +
                               std::to_string(options().header_timeout.count()) + " ms"
                  : timed_out_ == "body_timeout"
                      ? "the request body did not arrive within " +
                            std::to_string(options().body_timeout.count()) + " ms"
                      : "the request body arrived slower than " +
                            std::to_string(options().min_body_rate) + " bytes per second");
  }
  if (ec == bhttp::error::body_limit) {
    listener_->count("body_too_large");
    return reject(bhttp::status::payload_too_large, "too_large",
                  "the request body exceeds the limit of " +
                      std::to_string(parser_->is_header_done() && match_.spec &&
                                             match_.spec->max_body_bytes > 0
                                         ? match_.spec->max_body_bytes
                                         : options().max_body_bytes) +
                      " bytes");
  }
  if (ec == bhttp::error::header_limit && parser_->too_many_fields()) {
    listener_->count("too_many_headers");
    return reject(bhttp::status::request_header_fields_too_large, "too_many_headers",
                  "the request header has more than " + std::to_string(options().max_header_count) +
                      " fields");
  }
  if (ec == bhttp::error::header_limit) {
    listener_->count("header_too_large");
    return reject(bhttp::status::request_header_fields_too_large, "header_too_large",
                  "the request header exceeds the limit of " +
                      std::to_string(options().max_header_bytes) + " bytes");
  }
  if (is_protocol_error(ec)) {
    listener_->count("malformed");
    return reject(bhttp::status::bad_request, "bad_request",
                  "malformed HTTP request: " + ec.message());
  }
  close();  // client gone or shutdown: nobody to answer
}

void Session::on_request_read() {
  // A read that completed just before shutdown closed the session still delivers its handler
  // with success; the request must not run then: nobody can be told that it was accepted.
  if (state_ == State::closed) return;
  disarm();
  read_done_ = Clock::now();
  request_ = parser_->release();
  parser_.reset();
  first_request_ = false;
  request_bytes_ = request_.body().size();
  dispatch();
}

// ---- deadlines ----

void Session::arm(Phase phase) {
  phase_ = phase;
  phase_start_ = Clock::now();
  timed_out_ = {};
  wait_for_deadline();
}

void Session::disarm() {
  phase_ = Phase::none;
  // A wait in progress ends with operation_aborted, or finds the phase over.
  deadline_.cancel();
}

// When the current phase's time is up. A body's: body_timeout after the header, and sooner if it
// falls below min_body_rate on average once the grace has passed. The average, not each read:
// a client may pause, as long as it catches up.
Clock::time_point Session::due() const {
  if (phase_ == Phase::header) return phase_start_ + options().header_timeout;
  const auto limit = phase_start_ + options().body_timeout;
  if (options().min_body_rate == 0) return limit;
  const std::size_t received = parser_ ? parser_->get().body().size() : 0;
  const auto earned = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
      static_cast<double>(received) / static_cast<double>(options().min_body_rate)));
  return std::min(limit,
                  phase_start_ + std::max<Clock::duration>(options().min_body_rate_grace, earned));
}

void Session::wait_for_deadline() {
  deadline_.expires_at(due());
  deadline_.async_wait([self = shared_from_this(), phase = phase_](error_code ec) {
    // Cancelled, or another phase by now. A wait of an earlier request's phase of the same kind
    // that fired as it was cancelled finds due() moved on and waits again: harmless.
    if (ec || self->phase_ != phase) return;
    self->on_deadline();
  });
}

void Session::on_deadline() {
  if (phase_ == Phase::none || state_ == State::closed) return;
  const auto now = Clock::now();
  if (now < due()) return wait_for_deadline();  // the body came on meanwhile
  timed_out_ = phase_ == Phase::header                        ? "header_timeout"
               : now >= phase_start_ + options().body_timeout ? "body_timeout"
                                                              : "body_too_slow";
  phase_ = Phase::none;
  cutting_read_ = true;
  cut_read();
}

// The pending read (or 100 Continue) completes with operation_aborted; on_read_error then answers
// 408 and closes. A read that had just completed inside one of Beast's composed reads (its
// completion queued behind the deadline's) is past cancelling, and the composed read goes on with
// another: so the cancel is repeated until the cut read's handler has run. A new expiry on the
// stream would not reach that read: Beast applies one only while no read is pending, and the
// completed read counts as pending until its handler runs.
void Session::cut_read() {
  error_code ignored;
  lowest().socket().cancel(ignored);
  deadline_.expires_after(kRecutInterval);
  deadline_.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec && self->cutting_read_ && self->state_ != State::closed) self->cut_read();
  });
}

// ---- handling ----

void Session::dispatch() {
  state_ = State::handling;
  lowest().expires_never();
  work_ = asio::prefer(listener_->io().get_executor(), asio::execution::outstanding_work.tracked);

  if (match_.websocket) return upgrade();
  if (match_.handler) return run_handler(*match_.handler);
  const std::string path(request_.target().substr(0, request_.target().find('?')));
  // OPTIONS is answered from the table for any path it has (Allow, CORS preflight), without
  // middleware: a browser's preflight carries no credentials.
  if (match_.method_not_allowed && method_ == bhttp::verb::options)
    return on_reply(request_id_, listener_->router().options(request_, match_));
  if (match_.method_not_allowed) {
    auto response = error_response(
        request_, bhttp::status::method_not_allowed, "method_not_allowed",
        "method " + std::string(request_.method_string()) + " is not allowed for " + path);
    response.set(bhttp::field::allow, match_.allow);
    return on_reply(request_id_, std::move(response));
  }
  on_reply(request_id_,
           error_response(request_, bhttp::status::not_found, "not_found", "no route for " + path));
}

void Session::upgrade() {
  if (!beast::websocket::is_upgrade(request_)) {
    auto response = error_response(request_, bhttp::status::upgrade_required, "upgrade_required",
                                   "this endpoint is a WebSocket; send an Upgrade request");
    response.set(bhttp::field::upgrade, "websocket");
    return on_reply(request_id_, std::move(response));
  }
  // The WebSocket session takes the socket; this session ends without closing it.
  state_ = State::upgraded;
  work_ = {};
  report(101, 0);
  if (auto* tls_stream = std::get_if<TlsStream>(&stream_)) {
    start_websocket(std::move(*tls_stream), tls_context_, std::move(buffer_), std::move(request_),
                    std::move(context_), *match_.websocket, address_, listener_);
  } else {
    start_websocket(std::move(std::get<beast::tcp_stream>(stream_)), std::move(buffer_),
                    std::move(request_), std::move(context_), *match_.websocket, address_,
                    listener_);
  }
}

void Session::run_handler(const Handler& handler) {
  try {
    handler(request_, context_, make_reply());
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
  return Reply(std::make_shared<SessionReply>(shared_from_this(), request_id_));
}

void Session::post_reply(std::uint64_t id, Response&& response) {
  asio::post(executor_, [self = shared_from_this(), id, response = std::move(response)]() mutable {
    self->on_reply(id, std::move(response));
  });
}

void Session::on_reply(std::uint64_t id, Response response) {
  // A second reply for the same request, or one after the connection was closed, is dropped.
  if (id != request_id_ || state_ != State::handling) return;
  work_ = {};
  response.set(kRequestIdHeader, context_.request_id);
  write(std::move(response), stopping_ || !request_.keep_alive());
}

// ---- writing ----

// A refusal on the head: the body was not read, so the connection cannot serve another request.
void Session::refuse(Response response) {
  disarm();
  response.keep_alive(false);
  response.set(kRequestIdHeader, context_.request_id);
  parser_.reset();
  request_bytes_ = 0;
  read_done_ = Clock::now();
  unread_input_ = true;
  write(std::move(response), true);
}

void Session::reject(bhttp::status status, std::string_view code, std::string_view message) {
  // The header may be incomplete; answer with what is known.
  Request head;
  head.version(11);
  method_ = bhttp::verb::unknown;
  route_ = "unmatched";
  path_.clear();
  origin_.clear();
  if (parser_ && parser_->is_header_done()) {
    const auto& h = parser_->get();
    head.version(h.version());
    method_ = h.method();
    route_ = listener_->router().match(method_, h.target()).route;
    path_ = h.target().substr(0, h.target().find_first_of("?#"));
    origin_ = h[bhttp::field::origin];
  }
  refuse(error_response(head, status, code, message));
}

void Session::write(Response response, bool close_after) {
  state_ = State::writing;
  close_after_write_ = close_after || !response.keep_alive();
  if (close_after_write_) response.keep_alive(false);
  ensure_framing(response);
  listener_->router().decorate(path_, origin_, response);
  if (method_ == bhttp::verb::head) strip_body(response);
  response_.emplace(std::move(response));
  // A client that does not read its response must not hold the connection forever.
  lowest().expires_after(options().write_timeout);
  std::visit(
      [&](auto& stream) {
        bhttp::async_write(stream, *response_,
                           beast::bind_front_handler(&Session::on_write, shared_from_this()));
      },
      stream_);
}

void Session::on_write(error_code ec, std::size_t) {
  // Reported even if the client went away: the server's answer is what metrics should count.
  report(response_->result_int(), response_->body().size());
  response_.reset();
  if (ec) return close();
  if (close_after_write_ || stopping_) return finish();
  read_request();
}

void Session::report(unsigned status, std::size_t response_bytes) const {
  const double seconds = std::chrono::duration<double>(Clock::now() - read_done_).count();
  listener_->observe(
      RequestOutcome{method_, route_, status, seconds, request_bytes_, response_bytes});
}

// ---- streaming ----

std::shared_ptr<ResponseStream> Session::open_stream(std::uint64_t id, Response&& head) {
  // Open from now on, not only once start_stream has run on the session's strand: a producer
  // that checks open() in between (the live tail's hub, on its own thread) would otherwise take
  // the new stream for a dead one and drop it while its client waits for records. start_stream
  // marks it broken when it cannot start.
  streaming_id_ = id;
  stream_broken_ = false;
  auto stream = std::make_shared<SessionStream>(shared_from_this(), id);
  asio::post(executor_, [self = shared_from_this(), id, head = std::move(head)] {
    self->start_stream(id, head);
  });
  return stream;
}

void Session::start_stream(std::uint64_t id, const Response& head) {
  if (id != request_id_ || state_ != State::handling) {
    stream_broken_ = true;
    return;
  }
  work_ = {};
  state_ = State::streaming;
  streaming_id_ = id;
  stream_broken_ = false;
  streamed_bytes_ = 0;
  stream_status_ = head.result_int();
  close_after_write_ = stopping_ || !request_.keep_alive();
  stream_head_.emplace(head.result(), head.version());
  for (const auto& field : head)
    stream_head_->set(field.name_string(), field.value());
  stream_head_->set(kRequestIdHeader, context_.request_id);
  stream_head_->keep_alive(!close_after_write_);
  stream_head_->chunked(true);
  listener_->router().decorate(path_, origin_, *stream_head_);
  stream_serializer_.emplace(*stream_head_);
  chunk_in_flight_ = true;
  lowest().expires_after(options().write_timeout);
  std::visit(
      [&](auto& stream) {
        bhttp::async_write_header(
            stream, *stream_serializer_,
            beast::bind_front_handler(&Session::on_chunk_written, shared_from_this()));
      },
      stream_);
}

void Session::post_chunk(std::uint64_t id, std::string chunk, std::function<void(bool)> written) {
  asio::post(executor_, [self = shared_from_this(), id, chunk = std::move(chunk),
                         written = std::move(written)]() mutable {
    // Posted before the head went out: the stream is still being opened on this strand, so
    // the chunk queues; for an older request or a broken stream it is refused.
    const bool current = id == self->request_id_ &&
                         (self->state_ == State::streaming || self->state_ == State::handling);
    if (!current || self->stream_broken_) {
      if (written) written(false);
      return;
    }
    self->chunks_.push_back({std::move(chunk), std::move(written), false});
    self->write_next_chunk();
  });
}

void Session::post_finish(std::uint64_t id) {
  asio::post(executor_, [self = shared_from_this(), id] {
    if (id != self->request_id_ ||
        (self->state_ != State::streaming && self->state_ != State::handling))
      return;
    self->chunks_.push_back({{}, {}, true});
    self->write_next_chunk();
  });
}

void Session::post_abort(std::uint64_t id) {
  asio::post(executor_, [self = shared_from_this(), id] {
    if (id != self->request_id_ ||
        (self->state_ != State::streaming && self->state_ != State::handling))
      return;
    // As a shutdown cuts a stream: the chunk in flight completes first, then the connection
    // closes; with none in flight it closes now.
    self->stream_broken_ = true;
    if (self->state_ == State::streaming && !self->chunk_in_flight_)
      self->on_chunk_written(asio::error::operation_aborted, 0);
  });
}

void Session::write_next_chunk() {
  if (state_ != State::streaming || chunk_in_flight_ || chunks_.empty()) return;
  chunk_in_flight_ = true;
  lowest().expires_after(options().write_timeout);
  const auto& chunk = chunks_.front();
  auto done = beast::bind_front_handler(&Session::on_chunk_written, shared_from_this());
  std::visit(
      [&](auto& stream) {
        if (chunk.last) {
          asio::async_write(stream, bhttp::make_chunk_last(), std::move(done));
        } else {
          asio::async_write(stream, bhttp::make_chunk(asio::buffer(chunk.data)), std::move(done));
        }
      },
      stream_);
}

void Session::on_chunk_written(error_code ec, std::size_t) {
  chunk_in_flight_ = false;
  // Between chunks the producer may be quiet for long (a live tail): no deadline then.
  lowest().expires_never();
  if (ec || stream_broken_) {
    stream_broken_ = true;
    for (auto& chunk : chunks_)
      if (chunk.written) chunk.written(false);
    chunks_.clear();
    return end_stream(false);
  }
  if (stream_serializer_) {
    stream_serializer_.reset();  // that was the head
    return write_next_chunk();
  }
  if (chunks_.empty()) return;
  Chunk done = std::move(chunks_.front());
  chunks_.pop_front();
  streamed_bytes_ += done.data.size();
  if (done.last) return end_stream(true);
  if (done.written) done.written(true);
  write_next_chunk();
}

void Session::end_stream(bool ok) {
  report(stream_status_, streamed_bytes_);
  streaming_id_ = 0;
  stream_head_.reset();
  stream_serializer_.reset();
  chunks_.clear();
  if (!ok) return close();
  if (close_after_write_ || stopping_) return finish();
  read_request();
}

// ---- closing ----

void Session::finish() {
  if (tls()) {
    // The refused request's body may still be coming: drained (bounded) first, as for TCP;
    // otherwise TLS's close_notify ends the connection.
    if (unread_input_ && !stopping_) return linger();
    return close_notify();
  }
  error_code ec;
  lowest().socket().shutdown(tcp::socket::shutdown_send, ec);
  if (ec || !unread_input_ || stopping_) return close();
  linger();
}

void Session::linger() {
  state_ = State::closing;
  lowest().expires_after(
      std::min<std::chrono::milliseconds>(kLingerTimeout, options().write_timeout));
  std::visit(
      [&](auto& stream) {
        stream.async_read_some(buffer_.prepare(kReadChunk),
                               beast::bind_front_handler(&Session::on_linger, shared_from_this()));
      },
      stream_);
}

void Session::on_linger(error_code ec, std::size_t bytes) {
  lingered_ += bytes;
  if (ec || lingered_ > kLingerBytes) return close();
  // The bytes stay uncommitted, so the buffer is reused.
  std::visit(
      [&](auto& stream) {
        stream.async_read_some(buffer_.prepare(kReadChunk),
                               beast::bind_front_handler(&Session::on_linger, shared_from_this()));
      },
      stream_);
}

void Session::close_notify() {
  state_ = State::closing;
  lowest().expires_after(
      std::min<std::chrono::milliseconds>(kLingerTimeout, options().write_timeout));
  std::get<TlsStream>(stream_).async_shutdown(
      [self = shared_from_this()](error_code) { self->close(); });
}

void Session::close() {
  if (state_ == State::closed || state_ == State::upgraded) return;
  state_ = State::closed;
  mark_busy();
  work_ = {};
  phase_ = Phase::none;
  deadline_.cancel();  // its wait holds the session
  lowest().close();    // pending operations complete with operation_aborted
}

void Session::on_shutdown() {
  stopping_ = true;
  switch (state_) {
    case State::idle:
    case State::reading:
    case State::closing:
      close();
      break;
    case State::streaming:
      // A stream may never end by itself (a live tail): it is cut, and its producer sees
      // open() == false; the client sees a body without its last chunk, so knows it is partial.
      stream_broken_ = true;
      if (!chunk_in_flight_) on_chunk_written(asio::error::operation_aborted, 0);
      break;
    case State::handling:
    case State::writing:  // the response goes out with Connection: close, then on_write closes
    case State::closed:
    case State::upgraded:
      break;
  }
}

}  // namespace

void start_session(tcp::socket&& socket, const asio::ip::address& address,
                   const std::shared_ptr<Listener>& listener) {
  const auto& tls = listener->options().tls;
  auto session = std::make_shared<Session>(std::move(socket), tls ? tls->current() : nullptr,
                                           address, listener);
  if (listener->add(session, address)) session->start();
}

}  // namespace logpipe::http::detail
