// The server's defences against a real Server on a loopback port: the limits of ServerOptions
// (header size and fields, header and body timeouts, a minimum body rate, connections per client
// address), HTTPS with a certificate reloaded under open connections, the security headers every
// response carries, and CORS.
#include <openssl/ssl.h>
#include <unistd.h>

#include <boost/asio/ssl.hpp>
#include <boost/beast/ssl.hpp>
#include <filesystem>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#pragma GCC diagnostic pop

#include "../common/certificate.hpp"
#include "../common/temp_dir.hpp"
#include "http/listener.hpp"
#include "http/websocket.hpp"
#include "http_server.hpp"
#include "tls/server_context.hpp"

namespace logpipe::http {
namespace {

namespace ssl = asio::ssl;
namespace fs = std::filesystem;

std::string header_fields(int n) {
  std::string fields;
  for (int i = 0; i < n; ++i)
    fields += "X-Field-" + std::to_string(i) + ": v\r\n";
  return fields;
}

std::string post_head(std::string_view target, std::size_t length) {
  return "POST " + std::string(target) +
         " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
}

std::string error_code_of(const RawResponse& response) {
  const auto& body = response.body();
  const auto at = body.find(R"("code":")");
  if (at == std::string::npos) return {};
  const auto start = at + 8;
  return body.substr(start, body.find('"', start) - start);
}

// ---- limits ----

class LimitsTest : public ServerTest {};

TEST_F(LimitsTest, HeaderWithTooManyFieldsGets431AndClose) {
  ServerOptions options;
  options.max_header_count = 10;
  start_server(options);
  Client at_limit(port());  // Host and nine more
  ASSERT_TRUE(at_limit.send(get("/hello", header_fields(9))));
  const auto ok = at_limit.read_response();
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->result(), status::ok);

  Client over(port());
  ASSERT_TRUE(over.send(get("/hello", header_fields(10))));
  const auto refused = over.read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result(), status::request_header_fields_too_large);
  EXPECT_EQ(error_code_of(*refused), "too_many_headers") << refused->body();
  EXPECT_TRUE(contains(refused->body(), "more than 10 fields")) << refused->body();
  EXPECT_FALSE(refused->keep_alive());
  EXPECT_TRUE(over.closed_by_server());
  EXPECT_EQ(events("too_many_headers"), 1u);
}

TEST_F(LimitsTest, HeaderOverItsByteLimitIsCounted) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  start_server(options);
  Client client(port());
  ASSERT_TRUE(client.send(get("/hello", "X-Big: " + std::string(2000, 'b') + "\r\n")));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::request_header_fields_too_large);
  EXPECT_EQ(error_code_of(*response), "header_too_large");
  EXPECT_EQ(events("header_too_large"), 1u);
}

TEST_F(LimitsTest, SilentNewConnectionIsClosedAfterTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = 300ms;
  start_server(options);
  const auto start = Clock::now();
  Client silent(port());
  ASSERT_TRUE(silent.closed_by_server(3s));
  EXPECT_GE(Clock::now() - start, 250ms);
  EXPECT_EQ(events("header_timeout"), 1u);
}

// Slowloris: every byte arrives in time for the one before, but the header as a whole does not.
TEST_F(LimitsTest, TricklingHeaderIsCutWith408) {
  ServerOptions options;
  options.header_timeout = 400ms;
  start_server(options);
  Client slow(port());
  ASSERT_TRUE(slow.send("GET /hello HTTP/1.1\r\nHost: test\r\nX-Slow: "));
  const auto start = Clock::now();
  while (Clock::now() - start < 1200ms && slow.send("a"))
    std::this_thread::sleep_for(50ms);
  const auto response = slow.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::request_timeout);
  EXPECT_EQ(error_code_of(*response), "header_timeout") << response->body();
  EXPECT_TRUE(slow.closed_by_server(3s));
  EXPECT_EQ(events("header_timeout"), 1u);
}

TEST_F(LimitsTest, BodySlowerThanTheMinimumRateIsCutWith408) {
  ServerOptions options;
  options.min_body_rate = 1000;
  options.min_body_rate_grace = 300ms;
  start_server(options);
  Client slow(port());
  ASSERT_TRUE(slow.send(post_head("/echo", 100'000)));
  const auto start = Clock::now();
  while (Clock::now() - start < 1500ms && slow.send(std::string(10, 'x')))
    std::this_thread::sleep_for(50ms);  // 200 bytes per second
  const auto response = slow.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::request_timeout);
  EXPECT_EQ(error_code_of(*response), "body_too_slow") << response->body();
  EXPECT_TRUE(slow.closed_by_server(3s));
  EXPECT_EQ(events("body_too_slow"), 1u);
}

TEST_F(LimitsTest, BodyLongerThanTheBodyTimeoutIsCutWith408) {
  ServerOptions options;
  options.body_timeout = 400ms;
  options.min_body_rate = 0;
  start_server(options);
  Client slow(port());
  const auto start = Clock::now();
  ASSERT_TRUE(slow.send(post_head("/echo", 100) + std::string(50, 'x')));
  const auto response = slow.read_response();
  ASSERT_TRUE(response);
  EXPECT_GE(Clock::now() - start, 350ms);
  EXPECT_EQ(response->result(), status::request_timeout);
  EXPECT_EQ(error_code_of(*response), "body_timeout") << response->body();
  EXPECT_EQ(events("body_timeout"), 1u);
}

// The rate is an average since the header: a client may pause as long as it is ahead.
TEST_F(LimitsTest, BodyThatPausesButKeepsTheAverageRateIsServed) {
  ServerOptions options;
  options.min_body_rate = 1000;
  options.min_body_rate_grace = 200ms;
  start_server(options);
  Client client(port());
  ASSERT_TRUE(client.send(post_head("/echo", 2000) + std::string(1000, 'x')));
  std::this_thread::sleep_for(600ms);  // 1000 bytes earned a second
  ASSERT_TRUE(client.send(std::string(1000, 'y')));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::ok);
  EXPECT_EQ(response->body(), "2000");
  EXPECT_EQ(events("body_too_slow", 0), 0u);
}

TEST_F(LimitsTest, ConnectionsPerClientAddressAreCapped) {
  ServerOptions options;
  options.max_connections_per_ip = 2;
  start_server(options);
  Client a(port(), "127.0.0.2"), b(port(), "127.0.0.2");
  ASSERT_TRUE(a.connected() && b.connected());
  const auto deadline = Clock::now() + 2s;
  while (server_->connections() < 2 && Clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  Client third(port(), "127.0.0.2");
  EXPECT_TRUE(third.closed_by_server(2s));
  EXPECT_EQ(events("refused_per_ip"), 1u);
  // Another address is served, and so are the first two, idle or not.
  Client other(port(), "127.0.0.1");
  ASSERT_TRUE(other.send(get("/hello")));
  const auto served = other.read_response();
  ASSERT_TRUE(served);
  EXPECT_EQ(served->result(), status::ok);
  for (auto* client : {&a, &b}) {
    ASSERT_TRUE(client->send(get("/hello")));
    const auto response = client->read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result(), status::ok);
  }
  // A connection that ends gives its place back.
  a.close();
  const auto freed = Clock::now() + 2s;
  while (server_->connections() > 2 && Clock::now() < freed)
    std::this_thread::sleep_for(5ms);
  while (server_->connections() == 3 && Clock::now() < freed)
    std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);
  Client again(port(), "127.0.0.2");
  ASSERT_TRUE(again.send(get("/hello")));
  const auto response = again.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::ok);
}

TEST(ClientKey, AnIpv6ClientCountsByItsSlash64) {
  const auto key = [](const char* address) {
    return detail::client_key(asio::ip::make_address(address)).to_string();
  };
  EXPECT_EQ(key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::");
  EXPECT_EQ(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
  EXPECT_NE(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
  EXPECT_EQ(key("::1"), "::");
}

// A trusted proxy carries every client behind it: its connections are not capped per address,
// while another address still is.
TEST_F(LimitsTest, TrustedProxiesAreNotCappedPerAddress) {
  ServerOptions options;
  options.max_connections_per_ip = 1;
  options.trusted_proxies = *parse_trusted_proxies("127.0.0.3");
  start_server(options);
  std::vector<std::unique_ptr<Client>> proxy;
  for (int i = 0; i < 4; ++i) {
    proxy.push_back(std::make_unique<Client>(port(), "127.0.0.3"));
    ASSERT_TRUE(proxy.back()->connected());
  }
  for (auto& client : proxy) {
    ASSERT_TRUE(client->send(get("/hello")));
    const auto response = client->read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result(), status::ok);
  }
  Client first(port(), "127.0.0.4");
  ASSERT_TRUE(first.send(get("/hello")));
  ASSERT_TRUE(first.read_response());
  Client second(port(), "127.0.0.4");
  EXPECT_TRUE(second.closed_by_server(2s));
  EXPECT_EQ(events("refused_per_ip"), 1u);
}

// The session puts the client X-Forwarded-For names into RequestContext::peer for a trusted peer
// only, and counts a malformed list.
TEST_F(LimitsTest, TrustedProxyNamesTheClient) {
  router_.add(verb::get, "/peer", [](Request& req, RequestContext& rc, Reply reply) {
    reply(json_response(req, status::ok, rc.peer));
  });
  ServerOptions options;
  options.trusted_proxies = *parse_trusted_proxies("127.0.0.5, 10.0.0.0/8");
  start_server(options);
  const auto peer_seen = [&](const char* source, std::string_view headers) {
    Client client(port(), source);
    if (!client.send(get("/peer", headers))) return std::string("(send failed)");
    const auto response = client.read_response();
    return response ? response->body() : std::string("(no response)");
  };
  EXPECT_EQ(peer_seen("127.0.0.5", "X-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n"), "203.0.113.9");
  // Two headers are one list, in order.
  EXPECT_EQ(peer_seen("127.0.0.5", "X-Forwarded-For: 203.0.113.9\r\nx-forwarded-for: 10.1.1.1\r\n"),
            "203.0.113.9");
  EXPECT_EQ(peer_seen("127.0.0.5", ""), "127.0.0.5");
  // Not a trusted proxy: the header is ignored.
  EXPECT_EQ(peer_seen("127.0.0.6", "X-Forwarded-For: 203.0.113.9\r\n"), "127.0.0.6");
  EXPECT_EQ(events("forwarded_for_rejected", 0), 0u);
  // Malformed: the last good address, counted, and the request still served.
  EXPECT_EQ(peer_seen("127.0.0.5", "X-Forwarded-For: 203.0.113.9, nonsense, 10.0.0.7\r\n"),
            "10.0.0.7");
  EXPECT_EQ(events("forwarded_for_rejected"), 1u);
}

TEST_F(LimitsTest, IdleKeepAliveTimeoutIsCounted) {
  ServerOptions options;
  options.idle_timeout = 200ms;
  start_server(options);
  Client client(port());
  ASSERT_TRUE(client.send(get("/hello")));
  ASSERT_TRUE(client.read_response());
  EXPECT_TRUE(client.closed_by_server(3s));
  EXPECT_EQ(events("idle_timeout"), 1u);
  EXPECT_EQ(events("header_timeout", 0), 0u);
}

// ---- TLS ----

using test::TempDir;

// An HTTPS client whose every step has a timeout. It does not verify the certificate (the tests'
// are self-signed); it reports what it was given.
class TlsClient {
 public:
  // `max_version`: offer nothing newer (TLS1_1_VERSION: an old client; OpenSSL 3 itself allows
  // TLS 1.1 only at security level 0, so the client is set so, and the refusal is the server's).
  explicit TlsClient(unsigned short port, int max_version = 0) {
    if (max_version != 0) {
      SSL* ssl = stream_.native_handle();
      SSL_set_security_level(ssl, 0);
      SSL_set_cipher_list(ssl, "DEFAULT:@SECLEVEL=0");
      SSL_set_min_proto_version(ssl, TLS1_VERSION);
      SSL_set_max_proto_version(ssl, max_version);
    }
    error_ = run(
        [&](auto handler) {
          beast::get_lowest_layer(stream_).async_connect(
              tcp::endpoint{asio::ip::make_address("127.0.0.1"), port},
              [handler](error_code ec) { handler(ec, 0); });
        },
        3s);
    if (!error_)
      error_ = run(
          [&](auto handler) {
            stream_.async_handshake(ssl::stream_base::client,
                                    [handler](error_code ec) { handler(ec, 0); });
          },
          3s);
  }

  const error_code& error() const { return error_; }
  std::string fingerprint() const {
    X509* cert = SSL_get1_peer_certificate(const_cast<SSL*>(native()));
    std::string out = test::fingerprint(cert);
    X509_free(cert);
    return out;
  }
  std::string version() const { return SSL_get_version(native()); }

  std::optional<RawResponse> get(std::string_view target) {
    if (!send("GET " + std::string(target) + " HTTP/1.1\r\nHost: test\r\n\r\n"))
      return std::nullopt;
    return read_response();
  }
  bool send(const std::string& data) {
    return !run([&](auto handler) { asio::async_write(stream_, asio::buffer(data), handler); }, 3s);
  }
  std::optional<RawResponse> read_response() {
    bhttp::response_parser<bhttp::string_body> parser;
    if (run([&](auto handler) { bhttp::async_read(stream_, buffer_, parser, handler); }, 3s))
      return std::nullopt;
    return parser.release();
  }

 private:
  const SSL* native() const { return const_cast<TlsClient*>(this)->stream_.native_handle(); }

  template <class Start>
  error_code run(Start start, std::chrono::milliseconds timeout) {
    std::optional<error_code> result;
    io_.restart();
    start([&result](error_code ec, std::size_t) { result = ec; });
    io_.run_for(timeout);
    if (result) return *result;
    beast::get_lowest_layer(stream_).cancel();
    io_.restart();
    io_.run();
    return asio::error::timed_out;
  }

  asio::io_context io_;
  ssl::context context_{ssl::context::tls_client};
  beast::ssl_stream<beast::tcp_stream> stream_{io_, context_};
  beast::flat_buffer buffer_;
  error_code error_;
};

class TlsServerTest : public ServerTest {
 protected:
  void start_tls(ServerOptions options = {}) {
    const auto a = test::make_certificate(dir_.path.string(), "a");
    fs::copy_file(a.cert, cert_);
    fs::copy_file(a.key, key_);
    auto loaded = tls::ServerContext::load(cert_, key_, "tls");
    ASSERT_TRUE(loaded) << loaded.error().message;
    tls_ = *loaded;
    options.tls = tls_;
    start_server(options);
  }
  // Puts a new certificate in place of the served one's files and reloads.
  std::string replace_certificate(const std::string& name) {
    const auto next = test::make_certificate(dir_.path.string(), name);
    fs::copy_file(next.cert, cert_, fs::copy_options::overwrite_existing);
    fs::copy_file(next.key, key_, fs::copy_options::overwrite_existing);
    const auto reloaded = tls_->reload();
    EXPECT_TRUE(reloaded) << reloaded.error().message;
    return test::fingerprint_of_file(next.cert);
  }

  TempDir dir_;
  std::string cert_ = dir_.file("server.crt"), key_ = dir_.file("server.key");
  std::shared_ptr<tls::ServerContext> tls_;
};

TEST_F(TlsServerTest, HttpsOnlyWithTls12OrLater) {
  start_tls();
  for (const int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    TlsClient client(port(), version);
    ASSERT_FALSE(client.error()) << client.error().message();
    EXPECT_EQ(client.fingerprint(), test::fingerprint_of_file(cert_));
    const auto response = client.get("/hello");
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result(), status::ok);
    EXPECT_EQ(response->body(), R"({"hello":"world"})");
  }
  // The server refuses TLS 1.1 itself (the client offers it at security level 0).
  TlsClient old(port(), TLS1_1_VERSION);
  EXPECT_TRUE(old.error()) << old.version();
  EXPECT_TRUE(contains(old.error().message(), "protocol version")) << old.error().message();
  EXPECT_GE(events("tls_failed"), 1u);
  // Plain HTTP on the HTTPS port gets no answer, only a closed connection.
  Client plain(port());
  ASSERT_TRUE(plain.send(get("/hello")));
  EXPECT_FALSE(plain.read_response());
  EXPECT_GE(events("tls_failed", 2), 2u);
}

TEST_F(TlsServerTest, AReloadedCertificateReachesNewConnectionsWhileOpenOnesContinue) {
  start_tls();
  const std::string first = test::fingerprint_of_file(cert_);
  TlsClient open(port());
  ASSERT_FALSE(open.error()) << open.error().message();
  EXPECT_EQ(open.fingerprint(), first);
  ASSERT_TRUE(open.get("/hello"));

  const std::string second = replace_certificate("b");
  ASSERT_NE(second, first);
  TlsClient fresh(port());
  ASSERT_FALSE(fresh.error()) << fresh.error().message();
  EXPECT_EQ(fresh.fingerprint(), second);
  ASSERT_TRUE(fresh.get("/hello"));

  const auto again = open.get("/api/logs/still-here");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->body(), "still-here");
  EXPECT_EQ(open.fingerprint(), first);
}

TEST_F(TlsServerTest, SlowHeaderOverTlsIsCutWith408) {
  ServerOptions options;
  options.header_timeout = 300ms;
  start_tls(options);
  TlsClient client(port());
  ASSERT_FALSE(client.error()) << client.error().message();
  ASSERT_TRUE(client.send("GET /hello HTTP/1.1\r\nHost: test\r\nX-Slow: a"));
  const auto response = client.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->result(), status::request_timeout);
  EXPECT_EQ(error_code_of(*response), "header_timeout");
}

TEST_F(TlsServerTest, WebSocketOverTls) {
  RouteSpec spec{verb::get, "/ws", "test socket"};
  router_.add(spec, [](std::shared_ptr<WebSocket> socket, const Request&, const RequestContext&) {
    socket->on_message(
        [raw = socket.get()](std::string_view text) { raw->send("echo " + std::string(text)); });
  });
  start_tls();
  asio::io_context io;
  ssl::context context(ssl::context::tls_client);
  beast::websocket::stream<beast::ssl_stream<beast::tcp_stream>> ws(io, context);
  beast::get_lowest_layer(ws).connect({asio::ip::make_address("127.0.0.1"), port()});
  ws.next_layer().handshake(ssl::stream_base::client);
  ws.handshake("127.0.0.1", "/ws");
  ws.write(asio::buffer(std::string("over tls")));
  beast::flat_buffer buffer;
  ws.read(buffer);
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "echo over tls");
  ws.close(beast::websocket::close_code::normal);
}

// ---- security headers and CORS ----

class HeadersTest : public ServerTest {
 protected:
  HeadersTest() {
    router_.add(verb::get, "/page", [](Request& req, RequestContext&, Reply reply) {
      Response response{status::ok, req.version()};
      response.set(bhttp::field::content_type, "text/html; charset=utf-8");
      response.body() = "<!doctype html><p>hi</p>";
      response.prepare_payload();
      reply(std::move(response));
    });
    router_.add(verb::get, "/stream", [](Request& req, RequestContext&, Reply reply) {
      Response head{status::ok, req.version()};
      head.set(bhttp::field::content_type, "application/x-ndjson");
      auto stream = reply.stream(std::move(head));
      stream->write("{}\n");
      stream->finish();
    });
    router_.add(verb::post, "/hello", [](Request& req, RequestContext&, Reply reply) {
      reply(json_response(req, status::ok, "{}"));
    });
  }

  std::optional<RawResponse> ask(const std::string& request) {
    Client client(port());
    if (!client.send(request)) return std::nullopt;
    return client.read_response();
  }
};

TEST_F(HeadersTest, EveryResponseGetsNosniffAndHtmlAStrictPolicy) {
  ServerOptions options;
  options.max_header_bytes = 1024;
  start_server(options);
  for (const auto* request :
       {"GET /hello HTTP/1.1\r\nHost: t\r\n\r\n", "GET /nowhere HTTP/1.1\r\nHost: t\r\n\r\n",
        "PUT /hello HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n",
        "GET /stream HTTP/1.1\r\nHost: t\r\n\r\n", "NOT HTTP\r\n\r\n"}) {
    const auto response = ask(request);
    ASSERT_TRUE(response) << request;
    EXPECT_EQ((*response)["X-Content-Type-Options"], "nosniff") << request;
    EXPECT_EQ(response->count("Content-Security-Policy"), 0u) << request;
  }
  const auto big = ask(get("/hello", "X-Big: " + std::string(2000, 'b') + "\r\n"));
  ASSERT_TRUE(big);
  EXPECT_EQ(big->result(), status::request_header_fields_too_large);
  EXPECT_EQ((*big)["X-Content-Type-Options"], "nosniff");

  const auto page = ask(get("/page"));
  ASSERT_TRUE(page);
  const std::string policy((*page)["Content-Security-Policy"]);
  EXPECT_TRUE(contains(policy, "default-src 'none'")) << policy;
  EXPECT_TRUE(contains(policy, "script-src 'self'")) << policy;
  EXPECT_TRUE(contains(policy, "frame-ancestors 'none'")) << policy;
  EXPECT_FALSE(contains(policy, "unsafe-inline")) << policy;
  EXPECT_FALSE(contains(policy, "unsafe-eval")) << policy;
  EXPECT_EQ((*page)["X-Frame-Options"], "DENY");
  EXPECT_EQ((*page)["Referrer-Policy"], "no-referrer");
  EXPECT_EQ((*page)["X-Content-Type-Options"], "nosniff");
}

TEST_F(HeadersTest, OptionsIsAnsweredFromTheRouteTable) {
  start_server();
  Client client(port());
  ASSERT_TRUE(client.send("OPTIONS /hello HTTP/1.1\r\nHost: t\r\n\r\n"));
  const auto options = client.read_response();
  ASSERT_TRUE(options);
  EXPECT_EQ(options->result(), status::no_content);
  EXPECT_EQ((*options)[bhttp::field::allow], "GET, POST, OPTIONS");
  EXPECT_EQ(options->count(bhttp::field::access_control_allow_origin), 0u);
  EXPECT_EQ(options->count(bhttp::field::content_length), 0u);  // a 204 has no body
  // The connection goes on.
  ASSERT_TRUE(client.send(get("/hello")));
  const auto next = client.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->result(), status::ok);
  const auto unknown = ask("OPTIONS /nowhere HTTP/1.1\r\nHost: t\r\n\r\n");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->result(), status::not_found);
}

TEST_F(HeadersTest, NoCorsHeadersWithoutAllowedOrigins) {
  start_server();
  const auto preflight =
      ask("OPTIONS /hello HTTP/1.1\r\nHost: t\r\nOrigin: https://ui.example\r\n"
          "Access-Control-Request-Method: POST\r\n\r\n");
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->result(), status::no_content);
  const auto plain = ask(get("/hello", "Origin: https://ui.example\r\n"));
  ASSERT_TRUE(plain);
  for (const auto* response : {&*preflight, &*plain}) {
    for (const auto& field : *response) {
      std::string name(field.name_string());
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_FALSE(name.starts_with("access-control")) << name;
    }
    EXPECT_EQ(response->count(bhttp::field::vary), 0u);
  }
}

TEST_F(HeadersTest, CorsForAllowedOriginsOnly) {
  router_.allow_origins({"https://ui.example", "http://localhost:3000"});
  start_server();
  const std::string preflight =
      "OPTIONS /hello HTTP/1.1\r\nHost: t\r\nOrigin: {}\r\nAccess-Control-Request-Method: "
      "POST\r\nAccess-Control-Request-Headers: x-api-key, content-type\r\n\r\n";
  const auto with_origin = [&](std::string text, std::string_view origin) {
    text.replace(text.find("{}"), 2, origin);
    return text;
  };

  const auto allowed = ask(with_origin(preflight, "https://ui.example"));
  ASSERT_TRUE(allowed);
  EXPECT_EQ(allowed->result(), status::no_content);
  EXPECT_EQ((*allowed)[bhttp::field::access_control_allow_origin], "https://ui.example");
  EXPECT_EQ((*allowed)[bhttp::field::access_control_allow_methods], "GET, POST, OPTIONS");
  const std::string headers((*allowed)[bhttp::field::access_control_allow_headers]);
  for (const auto* name :
       {"X-API-Key", "Authorization", "Content-Type", "Content-Encoding", "X-Request-Id"})
    EXPECT_TRUE(contains(headers, name)) << headers;
  EXPECT_EQ((*allowed)[bhttp::field::access_control_max_age], "600");
  EXPECT_EQ((*allowed)[bhttp::field::vary], "Origin");
  EXPECT_EQ(allowed->count(bhttp::field::access_control_allow_credentials), 0u);

  const auto denied = ask(with_origin(preflight, "https://evil.example"));
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->result(), status::no_content);
  EXPECT_EQ(denied->count(bhttp::field::access_control_allow_origin), 0u);
  EXPECT_EQ(denied->count(bhttp::field::access_control_allow_methods), 0u);
  EXPECT_EQ(denied->count(bhttp::field::access_control_allow_headers), 0u);
  EXPECT_EQ((*denied)[bhttp::field::vary], "Origin");

  // The request itself: the allowed origin echoed, with what its script may read.
  const auto request =
      ask("POST /hello HTTP/1.1\r\nHost: t\r\nOrigin: http://localhost:3000\r\nContent-Length: "
          "2\r\n\r\n{}");
  ASSERT_TRUE(request);
  EXPECT_EQ(request->result(), status::ok);
  EXPECT_EQ((*request)[bhttp::field::access_control_allow_origin], "http://localhost:3000");
  EXPECT_TRUE(contains((*request)[bhttp::field::access_control_expose_headers], "X-Request-Id"));
  EXPECT_EQ(request->count(bhttp::field::access_control_allow_credentials), 0u);
  const auto other = ask(get("/hello", "Origin: https://evil.example\r\n"));
  ASSERT_TRUE(other);
  EXPECT_EQ(other->result(), status::ok);
  EXPECT_EQ(other->count(bhttp::field::access_control_allow_origin), 0u);
  // Refusals and streams carry it too.
  const auto missing = ask(get("/nowhere", "Origin: https://ui.example\r\n"));
  ASSERT_TRUE(missing);
  EXPECT_EQ((*missing)[bhttp::field::access_control_allow_origin], "https://ui.example");
  const auto stream = ask(get("/stream", "Origin: https://ui.example\r\n"));
  ASSERT_TRUE(stream);
  EXPECT_EQ((*stream)[bhttp::field::access_control_allow_origin], "https://ui.example");
}

TEST_F(HeadersTest, AnyOriginWithAStar) {
  router_.allow_origins({"*"});
  start_server();
  const auto response = ask(get("/hello", "Origin: https://anywhere.example\r\n"));
  ASSERT_TRUE(response);
  EXPECT_EQ((*response)[bhttp::field::access_control_allow_origin], "*");
  EXPECT_EQ(response->count(bhttp::field::vary), 0u);
  EXPECT_EQ(response->count(bhttp::field::access_control_allow_credentials), 0u);
  const auto none = ask(get("/hello"));
  ASSERT_TRUE(none);
  EXPECT_EQ(none->count(bhttp::field::access_control_allow_origin), 0u);
}

TEST(Router, DecorateAddsOriginToAnExistingVary) {
  Router router;
  router.allow_origins({"https://ui.example"});
  Response response{status::ok, 11};
  response.set(bhttp::field::vary, "Accept-Encoding");
  router.decorate("/x", "https://UI.example", response);
  EXPECT_EQ(response[bhttp::field::vary], "Accept-Encoding, Origin");
  EXPECT_EQ(response[bhttp::field::access_control_allow_origin], "https://UI.example");
  router.decorate("/x", "https://ui.example", response);
  EXPECT_EQ(response[bhttp::field::vary], "Accept-Encoding, Origin");
}

}  // namespace
}  // namespace logpipe::http
