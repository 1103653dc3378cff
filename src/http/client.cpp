#include "http/client.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>

#include "tls/client_certificate.hpp"
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
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
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

// The names a certificate is for, as curl and openssl print them: "DNS:logs.example, IP:10.0.0.5".
std::string alt_names(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  std::string out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    std::string item;
    if (name->type == GEN_DNS) {
      const ASN1_STRING* dns = name->d.dNSName;
      item = "DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                  static_cast<std::size_t>(ASN1_STRING_length(dns)));
    } else if (name->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = name->d.iPAddress;
      asio::ip::address address;
      if (ASN1_STRING_length(ip) == 4) {
        asio::ip::address_v4::bytes_type bytes{};
        std::memcpy(bytes.data(), ASN1_STRING_get0_data(ip), bytes.size());
        address = asio::ip::address_v4(bytes);
      } else if (ASN1_STRING_length(ip) == 16) {
        asio::ip::address_v6::bytes_type bytes{};
        std::memcpy(bytes.data(), ASN1_STRING_get0_data(ip), bytes.size());
        address = asio::ip::address_v6(bytes);
      } else {
        continue;
      }
      item = "IP:" + address.to_string();
    } else {
      continue;
    }
    out += (out.empty() ? "" : ", ") + item;
  }
  GENERAL_NAMES_free(names);
  return out;
}

// Why OpenSSL refused the server's certificate: the first error its verification met, on which
// certificate of the chain (depth 0: the server's own).
struct Refusal {
  int error = X509_V_OK;
  int depth = 0;
  std::string subject, issuer, names;
};

bool untrusted(int error) {
  switch (error) {
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
    case X509_V_ERR_CERT_UNTRUSTED:
      return true;
    default:
      return false;
  }
}

}  // namespace

core::Result<std::shared_ptr<ssl::context>> client_context(const TlsOptions& tls) {
  auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
  context->set_verify_mode(tls.insecure ? ssl::verify_none : ssl::verify_peer);
  error_code ec;
  if (tls.ca_file.empty()) {
    context->set_default_verify_paths(ec);
  } else {
    // OpenSSL says "system lib" for a missing file; the operating system says more.
    if (std::ifstream in(tls.ca_file); !in)
      return core::make_error(Errc::invalid_argument,
                              fmt::format("--cacert {}: {}", tls.ca_file, std::strerror(errno)));
    context->load_verify_file(tls.ca_file, ec);
  }
  if (ec)
    return core::make_error(
        Errc::invalid_argument,
        tls.ca_file.empty()
            ? fmt::format("cannot load the system's CA certificates: {}", ec.message())
            : fmt::format("--cacert {}: no PEM certificate in it ({})", tls.ca_file, ec.message()));
  return context;
}

void expect_server(SSL* ssl, const std::string& host) {
  error_code not_an_address;
  asio::ip::make_address(host, not_an_address);
  if (not_an_address) {
    // SNI: the server may hold several certificates. The name must be one of the certificate's
    // DNS names (its CN when it has none).
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  } else {
    // An address is no SNI name; it must be one of the certificate's IP names.
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str());
  }
}

core::Result<Url> parse_url(std::string_view text) {
  Url url;
  std::string_view rest;
  if (text.starts_with("https://")) {
    url.tls = true;
    url.port = 443;
    rest = text.substr(std::string_view("https://").size());
  } else if (text.starts_with("http://")) {
    rest = text.substr(std::string_view("http://").size());
  } else {
    return bad_url(text, "it must start with http:// or https://");
  }
  const auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (path.find_first_of("?#") != std::string_view::npos)
    return bad_url(text, "a query or fragment has no place in the server's URL");
  if (authority.find('@') != std::string_view::npos)
    return bad_url(text, "user information is not supported");
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
  Impl(Url u, std::chrono::milliseconds t, TlsOptions o)
      : url(std::move(u)), timeout(t), options(std::move(o)) {}

  // host:port as a Host header and in messages, an IPv6 literal in brackets.
  std::string authority() const {
    return url.host.find(':') == std::string::npos ? fmt::format("{}:{}", url.host, url.port)
                                                   : fmt::format("[{}]:{}", url.host, url.port);
  }

  // The TCP stream under TLS, or the plain one.
  beast::tcp_stream& transport() { return secure ? secure->next_layer() : plain; }

  // One asynchronous step run to completion on this thread: that is how Beast's stream
  // timeouts bound a blocking client (its synchronous calls have none).
  template <class Start>
  error_code run(Start start) {
    return run(start, timeout);
  }
  template <class Start>
  error_code run(Start start, std::chrono::milliseconds limit) {
    error_code result = asio::error::would_block;
    transport().expires_after(limit);
    start([&result](error_code ec, auto&&...) { result = ec; });
    io.restart();
    io.run();
    return result;
  }

  core::Status connect() {
    secure.reset();
    if (url.tls) {
      if (!context) {
        auto made = client_context(options);
        if (!made) return made.error();
        context = std::move(made).value();
      }
      // A TLS stream serves one connection: each connection gets a new one.
      secure.emplace(io, *context);
    }
    tcp::resolver resolver(io);
    error_code ec;
    const auto endpoints = resolver.resolve(url.host, std::to_string(url.port), ec);
    if (ec)
      return core::make_error(Errc::unavailable,
                              fmt::format("cannot resolve {}: {}", url.host, ec.message()));
    ec = run([&](auto done) { transport().async_connect(endpoints, done); });
    if (ec)
      return core::make_error(
          Errc::unavailable,
          fmt::format("cannot connect to {}: {}", authority(),
                      ec == beast::error::timeout ? "no answer in time" : ec.message()));
    transport().socket().set_option(tcp::no_delay(true), ec);
    buffer.clear();
    connected = true;
    if (secure) {
      if (auto ok = handshake(); !ok) {
        disconnect();
        return ok;
      }
    }
    return {};
  }

  core::Status handshake() {
    expect_server(secure->native_handle(), url.host);
    refusal = {};
    if (!options.insecure) {
      secure->set_verify_callback([this](bool preverified, ssl::verify_context& verify) {
        X509_STORE_CTX* store = verify.native_handle();
        if (!preverified && refusal.error == X509_V_OK) {
          refusal.error = X509_STORE_CTX_get_error(store);
          refusal.depth = X509_STORE_CTX_get_error_depth(store);
          if (X509* cert = X509_STORE_CTX_get_current_cert(store)) {
            refusal.subject = tls::subject(cert);
            refusal.issuer = tls::distinguished_name(X509_get_issuer_name(cert));
            refusal.names = alt_names(cert);
          }
        }
        return preverified;
      });
    }
    const error_code ec =
        run([&](auto done) { secure->async_handshake(ssl::stream_base::client, done); });
    if (!ec) return {};
    if (ec == beast::error::timeout)
      return core::make_error(
          Errc::timeout, fmt::format("{} did not finish the TLS handshake within {} s", authority(),
                                     std::chrono::ceil<std::chrono::seconds>(timeout).count()));
    if (refusal.error != X509_V_OK) return refused();
    return core::make_error(Errc::forbidden,
                            fmt::format("the TLS handshake with {} failed: {} (is it serving "
                                        "HTTPS on that port? http:// for plain HTTP)",
                                        authority(), ec.message()));
  }

  // The certificate's refusal as one line that names it and says what to do.
  core::Error refused() const {
    const Refusal& r = refusal;
    const std::string which =
        r.depth == 0
            ? fmt::format("the certificate of {}", authority())
            : fmt::format("a CA certificate in the chain of {} (depth {})", authority(), r.depth);
    const char* why = X509_verify_cert_error_string(r.error);
    if (r.error == X509_V_ERR_HOSTNAME_MISMATCH || r.error == X509_V_ERR_IP_ADDRESS_MISMATCH)
      return core::make_error(
          Errc::forbidden,
          fmt::format("{} is not for {}: it is for {} (subject {}); use a URL with one of its "
                      "names",
                      which, url.host, r.names.empty() ? "no name" : r.names, r.subject));
    if (untrusted(r.error))
      return core::make_error(
          Errc::forbidden,
          fmt::format("{} is not trusted ({}): subject {}, issuer {}; if that issuer is your "
                      "CA, give its certificate with --cacert FILE (or LOGPIPE_CACERT)",
                      which, why, r.subject, r.issuer));
    return core::make_error(
        Errc::forbidden,
        fmt::format("{} is refused ({}): subject {}, issuer {}", which, why, r.subject, r.issuer));
  }

  void disconnect() {
    error_code ignored;
    // No TLS close_notify: the connection is done with, and waiting for the server's answer to
    // it would only delay the command's exit.
    transport().socket().shutdown(tcp::socket::shutdown_both, ignored);
    transport().close();
    connected = false;
  }

  core::Error broken(error_code ec, std::string_view step, bool reused) const {
    if (ec == beast::error::timeout)
      return core::make_error(
          Errc::timeout, fmt::format("{} did not answer within {} s", authority(),
                                     std::chrono::ceil<std::chrono::seconds>(timeout).count()));
    if (ec == bhttp::error::body_limit)
      return core::make_error(Errc::io, fmt::format("the answer of {} is larger than {} MiB",
                                                    authority(), kMaxResponseBytes >> 20));
    // An HTTPS server closes a connection whose first bytes are no TLS handshake, answerless.
    const bool maybe_https = !url.tls && !reused && ec == bhttp::error::end_of_stream;
    return core::make_error(
        Errc::io, fmt::format("{} with {}: {}{}", step, authority(), ec.message(),
                              maybe_https ? " (if it serves HTTPS, use an https:// URL)" : ""));
  }

  template <class Step>
  error_code on_stream(Step step) {
    return on_stream(step, timeout);
  }
  template <class Step>
  error_code on_stream(Step step, std::chrono::milliseconds limit) {
    return secure ? run([&](auto done) { step(*secure, done); }, limit)
                  : run([&](auto done) { step(plain, done); }, limit);
  }

  // A response's status line and header fields (not its body).
  template <class Fields>
  static ClientResponse response_of(const bhttp::response_header<Fields>& head) {
    ClientResponse out;
    out.status = head.result_int();
    out.reason = std::string(head.reason());
    out.content_type = std::string(head[bhttp::field::content_type]);
    for (const auto& field : head)
      out.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    return out;
  }

  template <class Body>
  core::Result<ClientResponse> exchange(const bhttp::request<Body>& request, bool reused) {
    if (auto ec = on_stream([&](auto& s, auto done) { bhttp::async_write(s, request, done); }))
      return broken(ec, "sending the request failed", reused);
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxResponseBytes);
    if (auto ec =
            on_stream([&](auto& s, auto done) { bhttp::async_read(s, buffer, parser, done); }))
      return broken(ec, "reading the answer failed", reused);
    auto response = parser.release();
    if (!response.keep_alive()) disconnect();
    ClientResponse out = response_of(response);
    out.body = std::move(response.body());
    return out;
  }

  core::Result<ClientResponse> stream(const bhttp::request<bhttp::empty_body>& request,
                                      std::chrono::milliseconds idle_timeout,
                                      const std::function<bool(const ClientResponse&)>& on_head,
                                      const std::function<bool(std::string_view)>& on_body) {
    if (auto ec = on_stream([&](auto& s, auto done) { bhttp::async_write(s, request, done); }))
      return broken(ec, "sending the request failed", false);
    bhttp::response_parser<bhttp::buffer_body> parser;
    // A stream has no length; each read is bounded by the piece's buffer instead.
    parser.body_limit(std::numeric_limits<std::uint64_t>::max());
    if (auto ec = on_stream(
            [&](auto& s, auto done) { bhttp::async_read_header(s, buffer, parser, done); }))
      return broken(ec, "reading the answer failed", false);
    const auto& head = parser.get();
    ClientResponse response = response_of(head);
    const bool streamed = response.status == 200;
    if (streamed && !on_head(response)) return response;
    // An error's body is read whole, as get() reads it; its first MiB says enough.
    constexpr std::size_t kErrorBodyBytes = std::size_t{1} << 20;
    std::array<char, 16384> piece{};
    while (!parser.is_done()) {
      parser.get().body().data = piece.data();
      parser.get().body().size = piece.size();
      error_code ec =
          on_stream([&](auto& s, auto done) { bhttp::async_read_some(s, buffer, parser, done); },
                    streamed ? idle_timeout : timeout);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec == beast::error::timeout && streamed)
        return core::make_error(
            Errc::timeout,
            fmt::format("no data from {} for {} s", authority(),
                        std::chrono::ceil<std::chrono::seconds>(idle_timeout).count()));
      // (Not a plain HTTP client at an HTTPS port: the head came.)
      if (ec)
        return broken(ec, streamed ? "reading the stream failed" : "reading the answer failed",
                      true);
      const std::string_view got(piece.data(), piece.size() - parser.get().body().size);
      if (streamed) {
        if (!got.empty() && !on_body(got)) break;
      } else {
        response.body.append(got.substr(0, kErrorBodyBytes - response.body.size()));
        if (response.body.size() == kErrorBodyBytes) break;
      }
    }
    return response;
  }

  Url url;
  std::chrono::milliseconds timeout;
  TlsOptions options;
  asio::io_context io{1};
  std::shared_ptr<ssl::context> context;  // https://, once the first connection needs it
  beast::tcp_stream plain{io};            // http://
  std::optional<TlsStream> secure;        // https://: the current connection's
  Refusal refusal;                        // what the last handshake's verification refused
  beast::flat_buffer buffer;
  bool connected = false;
};

SyncClient::SyncClient(Url url, std::chrono::milliseconds timeout, TlsOptions tls)
    : impl_(std::make_unique<Impl>(std::move(url), timeout, std::move(tls))) {}

SyncClient::~SyncClient() {
  if (impl_->connected) impl_->disconnect();
}

namespace {

// Sends `request` on the client's connection (opened when none is); a kept-alive connection the
// server has closed meanwhile fails at once: when `retry` (an idempotent request), it is sent
// again, once, on a fresh one.
template <class Impl, class Body>
core::Result<ClientResponse> round_trip(Impl& c, bhttp::request<Body>& request, bool retry) {
  request.set(bhttp::field::host, c.authority());
  request.keep_alive(true);
  const bool reused = c.connected;
  if (!c.connected) {
    if (auto ok = c.connect(); !ok) return ok.error();
  }
  auto response = c.exchange(request, reused);
  if (!response && retry && reused && response.error().code == Errc::io) {
    c.disconnect();
    if (auto ok = c.connect(); !ok) return ok.error();
    response = c.exchange(request, false);
  }
  if (!response) c.disconnect();
  return response;
}

}  // namespace

core::Result<ClientResponse> SyncClient::get(std::string_view target, const Headers& headers) {
  Impl& c = *impl_;
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, c.url.base_path + std::string(target),
                                            11};
  for (const auto& [name, value] : headers)
    request.set(name, value);
  return round_trip(c, request, true);
}

core::Result<ClientResponse> SyncClient::send(std::string_view method, std::string_view target,
                                              const Headers& headers, std::string body) {
  Impl& c = *impl_;
  const auto verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown)
    return core::make_error(Errc::invalid_argument, fmt::format("unknown method {}", method));
  bhttp::request<bhttp::string_body> request{verb, c.url.base_path + std::string(target), 11};
  for (const auto& [name, value] : headers)
    request.set(name, value);
  request.body() = std::move(body);
  request.prepare_payload();
  return round_trip(c, request, verb == bhttp::verb::put || verb == bhttp::verb::delete_);
}

core::Result<ClientResponse> SyncClient::post(std::string_view target, std::string body,
                                              std::string_view content_type,
                                              const Headers& headers) {
  Headers with_type = headers;
  with_type.emplace_back("Content-Type", std::string(content_type));
  return send("POST", target, with_type, std::move(body));
}

core::Result<ClientResponse> SyncClient::get_stream(
    std::string_view target, const Headers& headers, std::chrono::milliseconds idle_timeout,
    const std::function<bool(const ClientResponse& head)>& on_head,
    const std::function<bool(std::string_view piece)>& on_body) {
  Impl& c = *impl_;
  bhttp::request<bhttp::empty_body> request{bhttp::verb::get, c.url.base_path + std::string(target),
                                            11};
  request.set(bhttp::field::host, c.authority());
  for (const auto& [name, value] : headers)
    request.set(name, value);
  // The stream ends the connection's use: one it shares with nothing, closed when it ends.
  request.keep_alive(false);
  if (c.connected) c.disconnect();
  if (auto ok = c.connect(); !ok) return ok.error();
  auto response = c.stream(request, idle_timeout, on_head, on_body);
  c.disconnect();
  return response;
}

}  // namespace logpipe::http
