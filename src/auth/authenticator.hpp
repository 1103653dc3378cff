// What serve checks a request's key against: every key in memory (loaded from PostgreSQL at
// start and every auth_refresh, and changed at once by this instance's own creates and
// revokes), so that no request waits for the database. A key created or revoked through another
// instance takes effect here within one refresh.
#pragma once

#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "auth/key_store.hpp"
#include "core/result.hpp"
#include "core/time.hpp"
#include "model/principal.hpp"

namespace logpipe::auth {

// The key a request carries, from the headers every protocol uses:
//   X-API-Key: <key>                       logpipe's own; OTLP exporters' configured headers
//   Authorization: Bearer <key>            logpipe, Loki clients (bearer_token), Vector
//   Authorization: Basic base64(user:key)  Elasticsearch outputs, Loki basic_auth, Fluent Bit
//   Authorization: ApiKey <key> | base64(id:key)   Elasticsearch clients' api_key
//   Authorization: Splunk <key>            Splunk HEC senders
// nullopt when there is none (an Authorization of another scheme counts as none).
std::optional<std::string> key_from_headers(std::string_view x_api_key,
                                            std::string_view authorization);

// A browser's WebSocket cannot send headers, only subprotocols, so it offers the key as one
// (as Kubernetes does with its bearer token):
//   new WebSocket(url, ["logpipe", "logpipe.key." + key])
// and the server selects "logpipe" (http::kWebSocketSubprotocol), never echoing the key. The key
// from Sec-WebSocket-Protocol's comma-separated list; nullopt when no entry carries one.
std::optional<std::string> key_from_websocket_protocols(std::string_view offered);

class Authenticator {
 public:
  // Why a key was refused, for metrics and logs; clients get one message for all of them.
  enum class Refusal { unknown, revoked, expired, not_loaded };
  static std::string_view to_string(Refusal refusal);

  // The principal of `key`: its tenant, scopes and rate limits.
  core::Result<model::Principal> authenticate(std::string_view key, core::Micros now,
                                              Refusal& why) const;

  void replace(const std::vector<KeyInfo>& keys);  // a refresh
  void put(const KeyInfo& key);                    // created or revoked here
  bool loaded() const;
  std::size_t size() const;

 private:
  using Map = std::unordered_map<std::string, KeyInfo>;
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const Map> keys_;  // null until the first load
};

}  // namespace logpipe::auth
