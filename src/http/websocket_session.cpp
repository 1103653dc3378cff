// A WebSocket connection after the upgrade, as in Beast's example/advanced/server: the handshake
// answers the upgrade request, then one read loop and one write at a time, all on the
// connection's strand. Beast's suggested server timeouts send pings and close dead peers. Over
// plain TCP or TLS (advanced_server_flex): the session is a template of the stream under it.
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <deque>

#include "core/comma_list.hpp"
#include "core/log.hpp"
#include "http/listener.hpp"
#include "http/websocket.hpp"

namespace logpipe::http::detail {
namespace {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

constexpr std::size_t kMaxQueued = 1024;                          // messages waiting to be sent
constexpr std::size_t kMaxIncomingBytes = std::size_t{64} << 10;  // one message from the client
// After close(), how long a peer has to take the queued messages and the close frame: one that
// reads nothing (a stalled live tail client) must not hold a shutdown.
constexpr auto kCloseGrace = std::chrono::seconds(5);

// Whether the client offered kWebSocketSubprotocol among its Sec-WebSocket-Protocol tokens.
bool offers_subprotocol(const Request& request) {
  for (auto [field, end] = request.equal_range(bhttp::field::sec_websocket_protocol); field != end;
       ++field) {
    for (const auto token : core::comma_list({field->value().data(), field->value().size()}))
      if (token == kWebSocketSubprotocol) return true;
  }
  return false;
}

template <class NextLayer>
class WebSocketSession : public Connection,
                         public WebSocket,
                         public std::enable_shared_from_this<WebSocketSession<NextLayer>> {
 public:
  WebSocketSession(NextLayer&& stream, std::shared_ptr<asio::ssl::context> tls_context,
                   std::shared_ptr<Listener> listener)
      : listener_(std::move(listener)),
        tls_context_(std::move(tls_context)),
        ws_(std::move(stream)) {}
  ~WebSocketSession() override { listener_->remove(this); }

  void run(beast::flat_buffer&& pending, Request&& request, RequestContext&& context,
           const WebSocketHandler& handler) {
    buffer_ = std::move(pending);
    request_ = std::move(request);
    context_ = std::move(context);
    handler_ = &handler;
    asio::dispatch(ws_.get_executor(), [self = shared_from_this()] { self->accept(); });
  }

  // ---- WebSocket ----
  bool send(std::string text) override {
    if (!open_) return false;
    if (queued_.fetch_add(1) >= kMaxQueued) {
      --queued_;
      return false;
    }
    asio::post(ws_.get_executor(), [self = shared_from_this(), text = std::move(text)]() mutable {
      self->outbox_.push_back(std::move(text));
      self->write_next();
    });
    return true;
  }
  std::size_t queued() const override { return queued_.load(); }
  void on_message(std::function<void(std::string_view)> callback) override {
    on_message_ = std::move(callback);
  }
  void on_close(std::function<void()> callback) override { on_close_ = std::move(callback); }
  void close() override {
    asio::post(ws_.get_executor(), [self = shared_from_this()] {
      if (self->closing_) return;
      self->closing_ = true;
      self->write_next();
      self->close_timer_.expires_after(kCloseGrace);
      self->close_timer_.async_wait([self](error_code ec) {
        if (!ec) beast::get_lowest_layer(self->ws_).close();
      });
    });
  }
  bool open() const override { return open_; }

  // ---- Connection ----
  void shutdown() override { close(); }
  void evict() override {
    asio::post(ws_.get_executor(),
               [self = shared_from_this()] { beast::get_lowest_layer(self->ws_).close(); });
  }

 private:
  void accept() {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.read_message_max(kMaxIncomingBytes);
    ws_.set_option(websocket::stream_base::decorator(
        [id = context_.request_id,
         subprotocol = offers_subprotocol(request_)](websocket::response_type& response) {
          response.set(bhttp::field::server, "logpipe");
          response.set(kRequestIdHeader, id);
          response.set("X-Content-Type-Options", "nosniff");  // as Router::decorate does
          if (subprotocol)
            response.set(bhttp::field::sec_websocket_protocol, kWebSocketSubprotocol);
        }));
    ws_.async_accept(request_,
                     beast::bind_front_handler(&WebSocketSession::on_accept, shared_from_this()));
  }

  void on_accept(error_code ec) {
    if (ec) {
      core::log::debug("websocket handshake failed", {{"error", ec.message()}});
      return;
    }
    open_ = true;
    try {
      (*handler_)(shared_from_this(), request_, context_);
    } catch (const std::exception& e) {
      core::log::error(
          "websocket handler failed",
          {{"route", context_.route ? context_.route->pattern : ""}, {"error", e.what()}});
      closing_ = true;
      return write_next();
    }
    read();
  }

  void read() {
    ws_.async_read(buffer_,
                   beast::bind_front_handler(&WebSocketSession::on_read, shared_from_this()));
  }

  void on_read(error_code ec, std::size_t) {
    if (ec) return closed();
    if (on_message_) {
      const auto data = buffer_.cdata();
      on_message_(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer_.consume(buffer_.size());
    read();
  }

  void write_next() {
    if (writing_ || !open_) return;
    if (!outbox_.empty()) {
      writing_ = true;
      ws_.text(true);
      ws_.async_write(asio::buffer(outbox_.front()),
                      beast::bind_front_handler(&WebSocketSession::on_write, shared_from_this()));
      return;
    }
    if (closing_) {
      writing_ = true;
      ws_.async_close(websocket::close_code::normal,
                      [self = shared_from_this()](error_code) { self->writing_ = false; });
    }
  }

  void on_write(error_code ec, std::size_t) {
    writing_ = false;
    outbox_.pop_front();
    --queued_;
    if (ec) return closed();
    write_next();
  }

  // The read loop ended: the peer closed, timed out, or the connection broke.
  void closed() {
    // The outbox stays: a write may still be using its front; it goes with the session.
    close_timer_.cancel();
    if (!open_.exchange(false)) return;
    if (auto callback = std::move(on_close_)) callback();
    on_message_ = nullptr;
  }

  std::shared_ptr<WebSocketSession> shared_from_this() {
    return std::enable_shared_from_this<WebSocketSession>::shared_from_this();
  }

  const std::shared_ptr<Listener> listener_;
  const std::shared_ptr<asio::ssl::context> tls_context_;  // null over plain TCP
  websocket::stream<NextLayer> ws_;
  asio::steady_timer close_timer_{ws_.get_executor()};
  beast::flat_buffer buffer_;
  Request request_;
  RequestContext context_;
  const WebSocketHandler* handler_ = nullptr;
  std::function<void(std::string_view)> on_message_;
  std::function<void()> on_close_;
  std::deque<std::string> outbox_;
  std::atomic<std::size_t> queued_{0};
  std::atomic<bool> open_{false};
  bool writing_ = false;
  bool closing_ = false;
};

}  // namespace

namespace {

template <class NextLayer>
void start(NextLayer stream, std::shared_ptr<asio::ssl::context> tls_context,
           beast::flat_buffer&& buffer, Request&& request, RequestContext&& context,
           const WebSocketHandler& handler, const asio::ip::address& address,
           const std::shared_ptr<Listener>& listener) {
  auto session = std::make_shared<WebSocketSession<NextLayer>>(std::move(stream),
                                                               std::move(tls_context), listener);
  if (!listener->add(session, address)) return;  // shutting down: it closes with the session
  session->run(std::move(buffer), std::move(request), std::move(context), handler);
}

}  // namespace

void start_websocket(beast::tcp_stream&& stream, beast::flat_buffer&& buffer, Request&& request,
                     RequestContext&& context, const WebSocketHandler& handler,
                     const asio::ip::address& address, const std::shared_ptr<Listener>& listener) {
  start(std::move(stream), nullptr, std::move(buffer), std::move(request), std::move(context),
        handler, address, listener);
}

void start_websocket(TlsStream&& stream, std::shared_ptr<asio::ssl::context> tls_context,
                     beast::flat_buffer&& buffer, Request&& request, RequestContext&& context,
                     const WebSocketHandler& handler, const asio::ip::address& address,
                     const std::shared_ptr<Listener>& listener) {
  start(std::move(stream), std::move(tls_context), std::move(buffer), std::move(request),
        std::move(context), handler, address, listener);
}

}  // namespace logpipe::http::detail
