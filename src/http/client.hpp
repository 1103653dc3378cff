// A blocking HTTP/1.1 client for the command-line tools that talk to a running logpipe
// (`logpipe query`): one keep-alive connection, each step bounded by a timeout, http:// only.
// The server side of this module never uses it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace logpipe::http {

// Where a server answers: http://host[:port][/base/path].
struct Url {
  std::string host;  // an IPv6 literal without its brackets
  unsigned short port = 80;
  std::string base_path;  // "" or "/prefix", no trailing slash: a server behind a path prefix
};

// Errc::invalid_argument naming what is wrong (another scheme, no host, a bad port, a query).
core::Result<Url> parse_url(std::string_view text);

struct ClientResponse {
  unsigned status = 0;
  std::string reason;
  std::string body;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

class SyncClient {
 public:
  SyncClient(Url url, std::chrono::milliseconds timeout);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // GET base_path + target (which starts with '/'). Any status is a response; errors are
  // Errc::unavailable when the server cannot be reached, Errc::timeout when connecting, sending
  // the request or receiving the answer takes longer than the timeout, Errc::io for a broken or
  // oversized answer.
  core::Result<ClientResponse> get(std::string_view target, const Headers& headers = {});

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace logpipe::http
