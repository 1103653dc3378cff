// Who the client is behind a reverse proxy: X-Forwarded-For believed only from the proxies the
// operator trusts (the `trusted_proxies` setting), walked as nginx's realip module with
// `real_ip_recursive on` and Envoy's trusted hops walk it.
//
// A proxy appends the address it received the request from (nginx's
// $proxy_add_x_forwarded_for), so the list reads client, proxy1, proxy2, … and the socket's peer
// is the last proxy. Only the entries at the right end, written by proxies we trust, can be
// believed: the client writes whatever it likes to the left. So the list is walked from the
// right, skipping trusted proxies; the first address that is not one is the client. Untrusted
// peers' X-Forwarded-For is ignored entirely (anyone could claim any address).
//
// Pure (no I/O): the session calls client_address for each request of a trusted peer; fuzzed.
#pragma once

#include <array>
#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace logpipe::http {

// The most X-Forwarded-For entries considered, from the right: a chain of trusted proxies is a
// few hops long; beyond this the walk stops as at a malformed entry.
inline constexpr std::size_t kMaxForwardedEntries = 32;

// A set of networks (addresses and CIDR blocks, IPv4 and IPv6). An IPv4 network also contains
// the IPv4-mapped IPv6 form of its addresses (::ffff:127.0.0.1, the peer of a dual-stack socket).
class TrustedProxies {
 public:
  bool empty() const { return networks_.empty(); }
  std::size_t size() const { return networks_.size(); }
  bool contains(const boost::asio::ip::address& address) const;

 private:
  friend core::Result<TrustedProxies> parse_trusted_proxies(std::string_view list);
  // Both families as IPv6 bytes: an IPv4 network as ::ffff:a.b.c.d with 96 more prefix bits.
  struct Network {
    std::array<unsigned char, 16> bytes{};
    unsigned prefix = 0;  // 0-128
  };
  std::vector<Network> networks_;
};

// "127.0.0.1/32,10.0.0.0/8,::1": comma-separated addresses and networks (an address is a /32 or
// /128); spaces around entries and empty entries are ignored; empty: no proxy is trusted. An
// entry that is not an address, has a prefix out of range, or has bits set beyond its prefix
// (10.0.0.1/8: a typo of 10.0.0.0/8, or of 10.0.0.1/32?) is an error naming it.
core::Result<TrustedProxies> parse_trusted_proxies(std::string_view list);

// One X-Forwarded-For entry: an IPv4 or IPv6 address, also in the forms with a port some proxies
// write (1.2.3.4:5678, [2001:db8::1]:5678, [2001:db8::1]). No zone ids, no names, no "unknown".
std::optional<boost::asio::ip::address> parse_forwarded_address(std::string_view entry);

struct ForwardedClient {
  boost::asio::ip::address address;  // the client as decided
  std::size_t hops = 0;              // entries of X-Forwarded-For walked; 0: the peer is the client
  bool rejected = false;  // a malformed entry, or more than kMaxForwardedEntries, ended the walk
};

// The client of a request that came from `peer` with X-Forwarded-For `forwarded_for` (every
// occurrence of the header, comma-joined in order; empty when there is none). The peer itself
// unless it is a trusted proxy; then the rightmost entry that is not a trusted proxy, or the
// leftmost one when all are. A malformed entry (or the cap) stops the walk at the last good
// address seen (the peer if none): `rejected` says so, for a metric; never an error.
ForwardedClient client_address(const boost::asio::ip::address& peer, std::string_view forwarded_for,
                               const TrustedProxies& trusted);

}  // namespace logpipe::http
