// libFuzzer target: the trusted_proxies list and the X-Forwarded-For walk (http/forwarded), which
// reads a header anyone behind a proxy writes. Input: the list, a newline, the peer, a newline,
// the header. Whatever the bytes: no crash, a list that parses contains each of its addresses,
// an untrusted peer is its own client, the walk stays within its cap, and the client it names
// is an address read from the header (it prints and parses back the same).
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "http/forwarded.hpp"

namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(" \t") - first + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using logpipe::fuzz::check;
  namespace http = logpipe::http;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto first = input.find('\n');
  const std::string_view list = input.substr(0, first);
  const std::string_view rest =
      first == std::string_view::npos ? std::string_view() : input.substr(first + 1);
  const auto second = rest.find('\n');
  const std::string_view peer_text = rest.substr(0, second);
  const std::string_view forwarded_for =
      second == std::string_view::npos ? std::string_view() : rest.substr(second + 1);

  auto parsed = http::parse_trusted_proxies(list);
  http::TrustedProxies trusted;
  if (parsed) {
    trusted = *parsed;
    // Every entry's address is in the set.
    std::size_t start = 0;
    while (start <= list.size()) {
      const auto comma = std::min(list.find(',', start), list.size());
      const auto entry = trim(list.substr(start, comma - start));
      start = comma + 1;
      if (entry.empty()) continue;
      const auto address = http::parse_forwarded_address(entry.substr(0, entry.find('/')));
      check(address.has_value());
      check(trusted.contains(*address));
    }
  }

  const auto peer =
      http::parse_forwarded_address(peer_text).value_or(boost::asio::ip::make_address("127.0.0.1"));
  const auto client = http::client_address(peer, forwarded_for, trusted);
  check(client.hops <= http::kMaxForwardedEntries);
  if (!trusted.contains(peer)) check(client.hops == 0 && !client.rejected);
  if (client.hops == 0) {
    check(client.address == peer);
  } else {
    const auto again = http::parse_forwarded_address(client.address.to_string());
    check(again.has_value() && *again == client.address);
  }
  // A walk that ended without a rejection ended on an untrusted address or the leftmost entry.
  if (client.hops > 0 && !client.rejected && trusted.contains(client.address)) {
    std::size_t start = 0;
    std::string_view leftmost;
    while (leftmost.empty() && start <= forwarded_for.size()) {
      const auto comma = std::min(forwarded_for.find(',', start), forwarded_for.size());
      leftmost = trim(forwarded_for.substr(start, comma - start));
      start = comma + 1;
    }
    const auto address = http::parse_forwarded_address(leftmost);
    check(address.has_value() && *address == client.address);
  }
  return 0;
}
