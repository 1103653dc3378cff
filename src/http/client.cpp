#include "http/client.hpp"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <charconv>
// GCC with -fsanitize reports a false maybe-uninitialized inside Beast's response parser (a
// boost::optional in content_length_unchecked); clang has no such warning.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <boost/beast/http.hpp>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

namespace logpipe::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using core::Errc;

// A page of a thousand logs with large messages is tens of MiB; beyond this the answer is not
// one a CLI should hold in memory.
constexpr std::uint64_t kMaxResponseBytes = std::uint64_t{1} << 30;

core::Error bad_url(std::string_view text, std::string_view why) {
  return core::make_error(
      Errc::invalid_argument,
      fmt::format("invalid URL \"{}\": {} (e.g. http://127.0.0.1:8080)", text, why));
}

}  // namespace

core::Result<Url> parse_url(std::string_view text) {
  constexpr std::string_view kScheme = "http://";
  if (text.starts_with("https://")) return bad_url(text, "https is not supported yet");
  if (!text.starts_with(kScheme)) return bad_url(text, "it must start with http://");
  std::string_view rest = text.substr(kScheme.size());
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos)
    return bad_url(text, "a query or fragment has no place in the server's URL");
  if (authority.find('@') != std::string_view::npos)
    return bad_url(text, "user information is not supported");
  Url url;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return bad_url(text, "an IPv6 address misses its ']'");
    url.host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':')
      return bad_url(text, "only a port may follow the host");
  } else {
    const auto colon = authority.find(':');
    url.host = authority.substr(0, colon);
    authority = colon == std::string_view::npos ? "" : authority.substr(colon);
  }
  if (url.host.empty()) return bad_url(text, "it has no host");
  if (!authority.empty()) {
    const std::string_view digits = authority.substr(1);
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc() || end != digits.data() + digits.size() || port == 0 || port > 65535)
      return bad_url(text, "the port must be a number from 1 to 65535");
    url.port = static_cast<unsigned short>(port);
  }
  while (path.ends_with('/'))
    path.remove_suffix(1);
  url.base_path = path;
  return url;
}

struct SyncClient::Impl {
  Impl(Url u, std::chrono::milliseconds t) : url(std::move(u)), timeout(t) {}

  // host:port as a Host header and in messages, an IPv6 literal in brackets.
  std::string authority() const {
    return url.host.find(':') == std::string::npos ? fmt::format("{}:{}", url.host, url.port)
                                                   : fmt::format("[{}]:{}", url.host, url.port);
  }

  // One asynchronous step run to completion on this thread: that is how Beast's stream
  // timeouts bound a blocking client (its synchronous calls have none).
  template <class Start>
  error_code run(Start start) {
    error_code result = asio::error::would_block;
    stream.expires_after(timeout);
    start([&result](error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  core::Status connect() {
    tcp::resolver resolver(io);
    error_code ec;
    const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec)
      return core::make_error(Errc::unavailable,
                              fmt::format("cannot resolve {}: {}", url.host, ec.message()));
    ec = run([&](auto done) { stream.async_connect(endpoints, done); });
    if (ec)
      return core::make_error(
          Errc::unavailable,
          fmt::format("cannot connect to {}: {}", authority(),
                      ec == beast::error::timeout ? "no answer in time" : ec.message()));
    stream.socket().set_option(tcp::no_delay(true), ec);
    buffer.clear();
    connected = true;
    return {};
  }

  void disconnect() {
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream.close();
    connected = false;
  }

  core::Error broken(error_code ec, std::string_view step) const {
    if (ec == beast::error::timeout)
      return core::make_error(
          Errc::timeout, fmt::format("{} did not answer within {} s", authority(),
                                     std::chrono::ceil<std::chrono::seconds>(timeout).count()));
    if (ec == bhttp::error::body_limit)
      return core::make_error(Errc::io, fmt::format("the answer of {} is larger than {} MiB",
                                                    authority(), kMaxResponseBytes >> 20));
    return core::make_error(Errc::io,
                            fmt::format("{} with {}: {}", step, authority(), ec.message()));
  }

  core::Result<ClientResponse> exchange(const bhttp::request<bhttp::empty_body>& request) {
    if (auto ec = run([&](auto done) { bhttp::async_write(stream, request, done); }))
      return broken(ec, "sending the request failed");
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    if (auto ec = run([&](auto done) { bhttp::async_read(stream, buffer, parser, done); }))
      return broken(ec, "reading the answer failed");
    auto response = parser.release();
    if (!response.keep_alive()) disconnect();
    return ClientResponse{response.result_int(), std::string(response.reason()),
                          std::move(response.body())};
  }

  Url url;
  std::chrono::milliseconds timeout;
  asio::io_context io{1};
  beast::tcp_stream stream{io};
  beast::flat_buffer buffer;
  bool connected = false;
};

SyncClient::SyncClient(Url url, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<Impl>(std::move(url), timeout)) {}

SyncClient::~SyncClient() {
  if (impl_->connected) impl_->disconnect();
}

core::Result<ClientResponse> SyncClient::get(std::string_view target, const Headers& headers) {
  Impl& c = *impl_;
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, c.url.base_path + std::string(target),
                                            11};
  request.set(bhttp::field::host, c.authority());
  for (const auto& [name, value] : headers)
    request.set(name, value);
  request.keep_alive(true);
  const bool reused = c.connected;
  if (!c.connected) {
    if (auto ok = c.connect(); !ok) return ok.error();
  }
  auto response = c.exchange(request);
  // A kept-alive connection the server has closed meanwhile fails at once; a GET may be sent
  // again, once, on a fresh one.
  if (!response && reused && response.error().code == Errc::io) {
    c.disconnect();
    if (auto ok = c.connect(); !ok) return ok.error();
    response = c.exchange(request);
  }
  if (!response) c.disconnect();
  return response;
}

}  // namespace logpipe::http
