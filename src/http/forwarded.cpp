#include "http/forwarded.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "core/comma_list.hpp"

namespace logpipe::http {
namespace {

namespace ip = boost::asio::ip;
using Bytes = std::array<unsigned char, 16>;

// The longest text of an address inet_pton takes (IPv6 with an IPv4 tail).
constexpr std::size_t kMaxAddressText = 45;

bool all_digits(std::string_view text, std::size_t max_digits) {
  return !text.empty() && text.size() <= max_digits &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A plain address, strictly: inet_pton refuses leading zeros, short IPv4 forms (127.1), octal and
// hex, which inet_aton and resolvers would take; Boost's make_address would also take a zone id
// (fe80::1%eth0) and look the interface up.
std::optional<ip::address> parse_address(std::string_view text) {
  if (text.empty() || text.size() > kMaxAddressText) return std::nullopt;
  // inet_pton reads up to a NUL: one inside the text must not cut it short.
  if (text.find('\0') != std::string_view::npos) return std::nullopt;
  char buffer[kMaxAddressText + 1] = {};
  std::memcpy(buffer, text.data(), text.size());
  if (text.find(':') == std::string_view::npos) {
    ip::address_v4::bytes_type bytes{};
    if (inet_pton(AF_INET, buffer, bytes.data()) != 1) return std::nullopt;
    return ip::address(ip::address_v4(bytes));
  }
  ip::address_v6::bytes_type bytes{};
  if (inet_pton(AF_INET6, buffer, bytes.data()) != 1) return std::nullopt;
  return ip::address(ip::address_v6(bytes));
}

// Both families in one form: IPv4 as its IPv4-mapped IPv6 address.
Bytes as_v6_bytes(const ip::address& address) {
  if (address.is_v4()) return ip::make_address_v6(ip::v4_mapped, address.to_v4()).to_bytes();
  return address.to_v6().to_bytes();
}

bool in_prefix(const Bytes& address, const Bytes& network, unsigned prefix) {
  const unsigned whole = prefix / 8;
  if (std::memcmp(address.data(), network.data(), whole) != 0) return false;
  const unsigned rest = prefix % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xFFu << (8 - rest));
  return (address[whole] & mask) == (network[whole] & mask);
}

Bytes masked(Bytes bytes, unsigned prefix) {
  for (unsigned i = 0; i < 16; ++i) {
    const unsigned keep = prefix >= (i + 1) * 8 ? 8 : prefix > i * 8 ? prefix - i * 8 : 0;
    bytes[i] &= static_cast<unsigned char>(0xFF00u >> keep);
  }
  return bytes;
}

}  // namespace

bool TrustedProxies::contains(const ip::address& address) const {
  if (networks_.empty()) return false;
  const Bytes bytes = as_v6_bytes(address);
  return std::any_of(networks_.begin(), networks_.end(), [&](const Network& network) {
    return in_prefix(bytes, network.bytes, network.prefix);
  });
}

core::Result<TrustedProxies> parse_trusted_proxies(std::string_view list) {
  TrustedProxies trusted;
  for (const std::string_view entry : core::comma_list(list)) {
    const auto bad = [&](std::string_view why) {
      return core::make_error(core::Errc::invalid_argument, fmt::format("\"{}\" {}", entry, why));
    };
    const auto slash = entry.find('/');
    const auto address = parse_address(entry.substr(0, slash));
    if (!address)
      return bad("is not an IP address or network (e.g. 127.0.0.1, 10.0.0.0/8, ::1, fd00::/8)");
    const unsigned width = address->is_v4() ? 32 : 128;
    unsigned prefix = width;
    if (slash != std::string_view::npos) {
      const std::string_view digits = entry.substr(slash + 1);
      if (!all_digits(digits, 3)) return bad("has no prefix length after the /");
      prefix = 0;
      for (const char c : digits)
        prefix = prefix * 10 + static_cast<unsigned>(c - '0');
      if (prefix > width) return bad(fmt::format("has a prefix length over {} bits", width));
    }
    TrustedProxies::Network network;
    network.bytes = as_v6_bytes(*address);
    network.prefix = prefix + (address->is_v4() ? 96 : 0);
    if (masked(network.bytes, network.prefix) != network.bytes) {
      // Which one was meant is the operator's to say.
      const Bytes base = masked(network.bytes, network.prefix);
      const ip::address_v6 base_v6(base);
      const std::string suggestion = address->is_v4()
                                         ? ip::make_address_v4(ip::v4_mapped, base_v6).to_string()
                                         : base_v6.to_string();
      return bad(
          fmt::format("has bits set beyond its /{} prefix (the network is {}/{}; one "
                      "address is {}/{})",
                      prefix, suggestion, prefix, address->to_string(), width));
    }
    trusted.networks_.push_back(network);
  }
  return trusted;
}

std::optional<ip::address> parse_forwarded_address(std::string_view entry) {
  if (!entry.empty() && entry.front() == '[') {
    // [v6] or [v6]:port
    const auto close = entry.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view after = entry.substr(close + 1);
    if (!after.empty() && (after.front() != ':' || !all_digits(after.substr(1), 5)))
      return std::nullopt;
    auto address = parse_address(entry.substr(1, close - 1));
    if (!address || !address->is_v6()) return std::nullopt;
    return address;
  }
  const auto colon = entry.find(':');
  if (colon != std::string_view::npos && entry.find(':', colon + 1) == std::string_view::npos) {
    // v4:port (one colon: an IPv6 address has at least two)
    if (!all_digits(entry.substr(colon + 1), 5)) return std::nullopt;
    auto address = parse_address(entry.substr(0, colon));
    if (!address || !address->is_v4()) return std::nullopt;
    return address;
  }
  return parse_address(entry);
}

ForwardedClient client_address(const ip::address& peer, std::string_view forwarded_for,
                               const TrustedProxies& trusted) {
  ForwardedClient client{peer, 0, false};
  if (forwarded_for.empty() || !trusted.contains(peer)) return client;
  // From the right: each entry was written by the hop after it, the last one by the peer.
  std::size_t end = forwarded_for.size();
  for (;;) {
    const auto comma = end == 0 ? std::string_view::npos : forwarded_for.rfind(',', end - 1);
    const std::size_t start = comma == std::string_view::npos ? 0 : comma + 1;
    const std::string_view entry = core::trim_ows(forwarded_for.substr(start, end - start));
    if (!entry.empty()) {
      if (client.hops == kMaxForwardedEntries) {
        client.rejected = true;
        return client;
      }
      const auto address = parse_forwarded_address(entry);
      if (!address) {
        client.rejected = true;
        return client;
      }
      client.address = *address;
      ++client.hops;
      if (!trusted.contains(*address)) return client;
    }
    if (comma == std::string_view::npos) return client;  // all trusted: the leftmost
    end = comma;
  }
}

}  // namespace logpipe::http
