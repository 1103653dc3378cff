// The client behind trusted proxies (http/forwarded.hpp): the trusted_proxies list, the
// X-Forwarded-For entries, and the walk from the right.
#include <gtest/gtest.h>

#include <string>

#include "http/forwarded.hpp"

namespace logpipe::http {
namespace {

namespace ip = boost::asio::ip;

TrustedProxies trust(std::string_view list) {
  auto parsed = parse_trusted_proxies(list);
  EXPECT_TRUE(parsed.ok()) << list << ": " << parsed.error().message;
  return parsed.ok() ? *parsed : TrustedProxies{};
}

bool trusts(const TrustedProxies& trusted, const char* address) {
  return trusted.contains(ip::make_address(address));
}

std::string error_of(std::string_view list) {
  auto parsed = parse_trusted_proxies(list);
  EXPECT_FALSE(parsed.ok()) << list;
  return parsed.ok() ? std::string() : parsed.error().message;
}

ForwardedClient decide(const char* peer, std::string_view forwarded_for,
                       const TrustedProxies& trusted) {
  return client_address(ip::make_address(peer), forwarded_for, trusted);
}

// ---- the list ----

TEST(TrustedProxiesTest, EmptyTrustsNoOne) {
  for (const char* list : {"", " ", ",", " , ,"}) {
    const auto trusted = trust(list);
    EXPECT_TRUE(trusted.empty()) << list;
    EXPECT_FALSE(trusts(trusted, "127.0.0.1"));
    EXPECT_FALSE(trusts(trusted, "::1"));
  }
}

TEST(TrustedProxiesTest, AddressesAndNetworksOfBothFamilies) {
  const auto trusted = trust(" 127.0.0.1/32, 10.0.0.0/8,::1 ,fd00::/8,192.168.1.7");
  EXPECT_EQ(trusted.size(), 5u);
  for (const char* yes : {"127.0.0.1", "10.0.0.0", "10.255.255.255", "10.1.2.3", "::1", "fd00::1",
                          "fdff:ffff::1", "192.168.1.7"})
    EXPECT_TRUE(trusts(trusted, yes)) << yes;
  for (const char* no : {"127.0.0.2", "11.0.0.0", "9.255.255.255", "::2", "fc00::1",
                         "fe00::", "192.168.1.6", "192.168.1.8", "2001:db8::1"})
    EXPECT_FALSE(trusts(trusted, no)) << no;
}

TEST(TrustedProxiesTest, PrefixEdges) {
  const auto everything_v4 = trust("0.0.0.0/0");
  EXPECT_TRUE(trusts(everything_v4, "1.2.3.4"));
  EXPECT_TRUE(trusts(everything_v4, "255.255.255.255"));
  EXPECT_TRUE(trusts(everything_v4, "::ffff:8.8.8.8"));  // an IPv4 client of a dual-stack socket
  EXPECT_FALSE(trusts(everything_v4, "2001:db8::1"));
  EXPECT_FALSE(trusts(everything_v4, "::1"));

  const auto everything_v6 = trust("::/0");
  EXPECT_TRUE(trusts(everything_v6, "2001:db8::1"));
  EXPECT_TRUE(trusts(everything_v6, "::"));

  const auto one_v6 = trust("2001:db8::5/128");
  EXPECT_TRUE(trusts(one_v6, "2001:db8::5"));
  EXPECT_FALSE(trusts(one_v6, "2001:db8::4"));
  EXPECT_FALSE(trusts(one_v6, "2001:db8::6"));

  const auto odd = trust("10.0.0.0/9,2001:db8::/33");  // prefixes within a byte
  EXPECT_TRUE(trusts(odd, "10.127.255.255"));
  EXPECT_FALSE(trusts(odd, "10.128.0.0"));
  EXPECT_TRUE(trusts(odd, "2001:db8:7fff::1"));
  EXPECT_FALSE(trusts(odd, "2001:db8:8000::1"));
}

TEST(TrustedProxiesTest, IPv4MappedPeerMatchesAnIPv4Network) {
  const auto trusted = trust("127.0.0.1");
  EXPECT_TRUE(trusts(trusted, "::ffff:127.0.0.1"));
  EXPECT_FALSE(trusts(trusted, "::ffff:127.0.0.2"));
  // …and an IPv4-mapped entry is the IPv4 address.
  EXPECT_TRUE(trusts(trust("::ffff:10.0.0.0/104"), "10.9.9.9"));
}

TEST(TrustedProxiesTest, InvalidEntriesAreNamed) {
  EXPECT_NE(error_of("127.0.0.1,nginx.local").find("\"nginx.local\" is not an IP address"),
            std::string::npos);
  for (const char* bad : {"127.1", "010.0.0.1", "1.2.3.4.5", "256.0.0.1", "::1::2", "fe80::1%eth0",
                          "[::1]", "1.2.3.4:80", "*"})
    EXPECT_NE(error_of(bad).find(std::string("\"") + bad + "\" is not an IP address"),
              std::string::npos)
        << bad;
  EXPECT_NE(error_of("10.0.0.0/33").find("\"10.0.0.0/33\" has a prefix length over 32 bits"),
            std::string::npos);
  EXPECT_NE(error_of("::/129").find("over 128 bits"), std::string::npos);
  for (const char* bad :
       {"10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/8/8", "10.0.0.0/ 8", "10.0.0.0/0008"})
    EXPECT_NE(error_of(bad).find("has no prefix length"), std::string::npos) << bad;
  // Bits beyond the prefix: which was meant is the operator's call.
  const auto host_bits = error_of("10.0.0.1/8");
  EXPECT_NE(host_bits.find("the network is 10.0.0.0/8; one address is 10.0.0.1/32"),
            std::string::npos)
      << host_bits;
  EXPECT_NE(error_of("2001:db8::1/64").find("the network is 2001:db8::/64"), std::string::npos);
}

// ---- one entry ----

TEST(ForwardedAddressTest, FormsProxiesWrite) {
  const auto parsed = [](std::string_view entry) {
    const auto address = parse_forwarded_address(entry);
    return address ? address->to_string() : std::string("-");
  };
  EXPECT_EQ(parsed("203.0.113.7"), "203.0.113.7");
  EXPECT_EQ(parsed("2001:db8::7"), "2001:db8::7");
  EXPECT_EQ(parsed("::ffff:203.0.113.7"), "::ffff:203.0.113.7");
  EXPECT_EQ(parsed("203.0.113.7:51234"), "203.0.113.7");
  EXPECT_EQ(parsed("[2001:db8::7]"), "2001:db8::7");
  EXPECT_EQ(parsed("[2001:db8::7]:443"), "2001:db8::7");
  for (const char* bad : {"", "unknown", "_hidden", "example.com", "203.0.113.7:", "203.0.113.7:x",
                          "203.0.113.7:123456", "[203.0.113.7]", "[2001:db8::7", "[2001:db8::7]x",
                          "[2001:db8::7]:", "fe80::1%eth0", "127.1", "1.2.3.4 5", "01.2.3.4"})
    EXPECT_EQ(parsed(bad), "-") << bad;
  EXPECT_EQ(parsed(std::string_view("1.2.3.4\0junk", 12)), "-");  // a NUL does not cut it short
  EXPECT_EQ(parsed(std::string(100, '1')), "-");
}

// ---- the walk ----

TEST(ClientAddressTest, UntrustedPeerIsTheClientWhateverItClaims) {
  const auto trusted = trust("10.0.0.0/8");
  const auto client = decide("203.0.113.9", "1.1.1.1", trusted);
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
  EXPECT_EQ(client.hops, 0u);
  EXPECT_FALSE(client.rejected);
  // No proxy trusted at all: the header means nothing, even garbage.
  EXPECT_EQ(decide("127.0.0.1", "1.1.1.1", TrustedProxies{}).address.to_string(), "127.0.0.1");
  EXPECT_FALSE(decide("127.0.0.1", "garbage", TrustedProxies{}).rejected);
}

TEST(ClientAddressTest, TrustedPeerWithoutTheHeaderIsTheClient) {
  const auto client = decide("127.0.0.1", "", trust("127.0.0.1"));
  EXPECT_EQ(client.address.to_string(), "127.0.0.1");
  EXPECT_EQ(client.hops, 0u);
  EXPECT_FALSE(client.rejected);
  EXPECT_EQ(decide("127.0.0.1", " , ,", trust("127.0.0.1")).address.to_string(), "127.0.0.1");
}

TEST(ClientAddressTest, RightmostUntrustedEntryIsTheClient) {
  const auto trusted = trust("127.0.0.1,10.0.0.0/8");
  // nginx's $proxy_add_x_forwarded_for: what the client sent, then the client.
  auto client = decide("127.0.0.1", "6.6.6.6, 203.0.113.9", trusted);
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
  EXPECT_EQ(client.hops, 1u);
  EXPECT_FALSE(client.rejected);
  // Through two trusted proxies: both skipped.
  client = decide("127.0.0.1", "6.6.6.6,203.0.113.9,10.1.1.1 ,\t10.2.2.2", trusted);
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
  EXPECT_EQ(client.hops, 3u);
  // IPv6 clients and proxies.
  client = decide("::1", "2001:db8::1, fd00::2", trust("::1,fd00::/8"));
  EXPECT_EQ(client.address.to_string(), "2001:db8::1");
  // A dual-stack socket's peer.
  client = decide("::ffff:127.0.0.1", "203.0.113.9", trust("127.0.0.1"));
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
}

TEST(ClientAddressTest, SeveralHeadersAreOneListInOrder) {
  // The session joins every X-Forwarded-For with commas; empty entries are skipped.
  const auto client =
      decide("127.0.0.1", "6.6.6.6,,203.0.113.9, ,10.0.0.1", trust("127.0.0.1,10.0.0.1"));
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
  EXPECT_EQ(client.hops, 2u);
  EXPECT_FALSE(client.rejected);
}

TEST(ClientAddressTest, AllTrustedGivesTheLeftmost) {
  const auto client =
      decide("127.0.0.1", "10.0.0.3, 10.0.0.2,10.0.0.1", trust("127.0.0.1,10.0.0.0/8"));
  EXPECT_EQ(client.address.to_string(), "10.0.0.3");
  EXPECT_EQ(client.hops, 3u);
  EXPECT_FALSE(client.rejected);
}

TEST(ClientAddressTest, MalformedEntryStopsAtTheLastGoodAddress) {
  const auto trusted = trust("127.0.0.1,10.0.0.0/8");
  // Garbage to the left of the client does not matter: the walk stopped before it.
  auto client = decide("127.0.0.1", "garbage, 203.0.113.9", trusted);
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
  EXPECT_FALSE(client.rejected);
  // Right of it: the last good address (a trusted proxy), counted.
  client = decide("127.0.0.1", "203.0.113.9, garbage, 10.0.0.1", trusted);
  EXPECT_EQ(client.address.to_string(), "10.0.0.1");
  EXPECT_EQ(client.hops, 1u);
  EXPECT_TRUE(client.rejected);
  // Rightmost: the peer.
  client = decide("127.0.0.1", "203.0.113.9, unknown", trusted);
  EXPECT_EQ(client.address.to_string(), "127.0.0.1");
  EXPECT_EQ(client.hops, 0u);
  EXPECT_TRUE(client.rejected);
  client = decide("127.0.0.1", "\x01\xff\"<script>", trusted);
  EXPECT_EQ(client.address.to_string(), "127.0.0.1");
  EXPECT_TRUE(client.rejected);
}

TEST(ClientAddressTest, TooManyEntriesStopAtTheCap) {
  const auto trusted = trust("127.0.0.1,10.0.0.0/8");
  std::string chain = "203.0.113.9";
  for (std::size_t i = 0; i < kMaxForwardedEntries; ++i)
    chain += ", 10.0.0." + std::to_string(i + 1);
  auto client = decide("127.0.0.1", chain, trusted);
  EXPECT_TRUE(client.rejected);
  EXPECT_EQ(client.hops, kMaxForwardedEntries);
  EXPECT_EQ(client.address.to_string(), "10.0.0.1");  // the last one walked
  // One trusted hop fewer: the client is reached.
  client = decide("127.0.0.1", chain.substr(0, chain.rfind(',')), trusted);
  EXPECT_FALSE(client.rejected);
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
  // A long list of clients' claims costs nothing beyond the first untrusted entry.
  std::string claims;
  for (int i = 0; i < 5000; ++i)
    claims += "6.6.6." + std::to_string(i % 256) + ",";
  client = decide("127.0.0.1", claims + "203.0.113.9", trusted);
  EXPECT_EQ(client.address.to_string(), "203.0.113.9");
  EXPECT_FALSE(client.rejected);
}

}  // namespace
}  // namespace logpipe::http
