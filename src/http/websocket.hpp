// The server side of one WebSocket connection, as a route's WebSocketHandler receives it
// (Beast's websocket::stream after the upgrade). Thread-safe. Text messages only; pings and
// idle timeouts are handled inside (Beast's suggested server timeouts).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace logpipe::http {

// The subprotocol a WebSocket client may offer (Sec-WebSocket-Protocol), selected in the answer
// when offered: a browser's way to send its API key is another subprotocol beside it
// (auth::key_from_websocket_protocols), and a browser fails a connection whose offered
// subprotocols the server does not answer.
inline constexpr std::string_view kWebSocketSubprotocol = "logpipe";

class WebSocket {
 public:
  virtual ~WebSocket() = default;

  // Queues a text message. False when the socket is closed or `max_queued` messages already
  // wait: a slow client never makes the sender wait or grow memory; what to drop is the
  // sender's call.
  virtual bool send(std::string text) = 0;
  virtual std::size_t queued() const = 0;
  // Set these inside the handler: reading starts when it returns. Called on the socket's strand.
  virtual void on_message(std::function<void(std::string_view text)> callback) = 0;
  virtual void on_close(std::function<void()> callback) = 0;
  // A normal close (1000), after the queued messages are sent.
  virtual void close() = 0;
  virtual bool open() const = 0;
};

}  // namespace logpipe::http
