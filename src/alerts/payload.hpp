// The bodies and signature of alert notifications (README "Alert notifications"). Pure functions
// of a Notification, so each shape is unit-tested byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "alerts/notification.hpp"
#include "core/result.hpp"
#include "http/client.hpp"

namespace logpipe::alerts {

// The generic webhook's JSON body (version 1): status, rule {id, name, kind}, tenant
// {id, name}, group_labels, labels, count, threshold, window_seconds, filter, fired_at,
// resolved_at (RFC 3339 or null), summary, logs_url, sample (a record or null).
std::string webhook_body(const Notification& n);

// A Slack incoming webhook's message: "text" (the notification in one line, also what phones
// show) and one attachment coloured red while firing and green once resolved, with the details
// as fields and the title linking to the logs. Slack's control characters (& < >) are escaped.
std::string slack_body(const Notification& n);

// The body of Alertmanager's POST /api/v2/alerts: an array of one postable alert. Labels:
// alertname (the rule's name), logpipe_rule_id, tenant, then the group labels and the static
// labels (names made valid Prometheus label names; a name already set keeps its first value).
// startsAt is fired_at; endsAt only once resolved (while firing, Alertmanager keeps the alert
// for its resolve_timeout after each post: re-send it while it fires, as Prometheus does).
std::string alertmanager_body(const Notification& n);

// One sentence of what was seen, e.g. "12 logs matching level=ERROR in 60 s (threshold 10)".
std::string describe(const Notification& n);

// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
// X-Logpipe-Signature: "sha256=" + hmac_sha256_hex(secret, "<timestamp>.<body>"); the timestamp
// is X-Logpipe-Timestamp (Unix seconds), signed so that a captured request cannot be replayed
// later with a new one.
std::string signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body);

// A URL fit for logs and the delivery log: no user information, no query, and of the path only
// its first segment ("https://hooks.slack.com/services/…": Slack's and many webhooks' paths
// are their secret).
std::string redacted_url(std::string_view url);

// Where one target's POST goes. http::SyncClient takes a server's URL without user information
// or query: both are taken off here, the user information as Basic authentication, the query
// kept for the request's target.
struct Endpoint {
  http::Url url;
  std::string target;  // appended to url.base_path
  http::Headers headers;
};
// Errc::invalid_argument from http::parse_url (naming the URL without its credentials and query).
core::Result<Endpoint> target_endpoint(const Target& target);

// A valid Prometheus label name from any text: [a-zA-Z_][a-zA-Z0-9_]*, others replaced by '_'.
std::string label_name(std::string_view text);

}  // namespace logpipe::alerts
