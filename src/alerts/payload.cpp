#include "alerts/payload.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <set>

#include "core/base64.hpp"
#include "core/json_writer.hpp"

namespace logpipe::alerts {
namespace {

using core::JsonWriter;

bool firing(const Notification& n) {
  return n.transition == Notification::Transition::firing;
}

void write_labels(JsonWriter& json, const LabelPairs& labels) {
  json.begin_object();
  for (const auto& [name, value] : labels)
    json.field(name, value);
  json.end_object();
}

// "service=api, host=web-1"
std::string joined(const LabelPairs& labels) {
  std::string out;
  for (const auto& [name, value] : labels)
    out += fmt::format("{}{}={}", out.empty() ? "" : ", ", name, value);
  return out;
}

// Slack reads &, < and > in text as its own markup (links, mentions): they are escaped.
std::string slack_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// "[FIRING] errors: 12 ERROR logs from api" — the summary, or the description without one.
std::string headline(const Notification& n) {
  return fmt::format("[{}] {}: {}", firing(n) ? "FIRING" : "RESOLVED", n.rule_name,
                     n.summary.empty() ? describe(n) : n.summary);
}

void slack_field(JsonWriter& json, std::string_view title, std::string_view value) {
  json.begin_object()
      .field("title", title)
      .field("value", slack_text(value))
      .field("short", true)
      .end_object();
}

}  // namespace

const char* to_string(Notification::Transition transition) {
  return transition == Notification::Transition::firing ? "firing" : "resolved";
}

const char* to_string(Target::Type type) {
  switch (type) {
    case Target::Type::webhook:
      return "webhook";
    case Target::Type::slack:
      return "slack";
    case Target::Type::alertmanager:
      return "alertmanager";
  }
  return "webhook";
}

std::string describe(const Notification& n) {
  const std::string filter = n.filter_query.empty() ? "any filter" : n.filter_query;
  if (n.kind == "absence")
    return fmt::format("no log matching {} for {} s", filter, n.window_seconds);
  if (n.kind == "match") return fmt::format("{} logs matching {}", n.count, filter);
  return fmt::format("{} logs matching {} in {} s (threshold {})", n.count, filter,
                     n.window_seconds, n.threshold);
}

std::string webhook_body(const Notification& n) {
  JsonWriter json;
  json.begin_object()
      .field("version", "1")
      .field("event_id", n.event_id)
      .field("status", to_string(n.transition));
  json.key("rule")
      .begin_object()
      .field("id", n.rule_id)
      .field("name", n.rule_name)
      .field("kind", n.kind)
      .end_object();
  json.key("tenant")
      .begin_object()
      .field("id", static_cast<std::int64_t>(n.tenant))
      .field("name", n.tenant_name)
      .end_object();
  json.key("group_labels");
  write_labels(json, n.group_labels);
  json.key("labels");
  write_labels(json, n.labels);
  json.field("count", n.count)
      .field("threshold", n.threshold)
      .field("window_seconds", n.window_seconds)
      .field("filter", n.filter_query)
      .field("fired_at", core::format_rfc3339(n.fired_at));
  json.key("resolved_at");
  if (n.resolved_at)
    json.value(core::format_rfc3339(*n.resolved_at));
  else
    json.null();
  json.field("summary", n.summary).field("description", describe(n)).field("logs_url", n.logs_url);
  json.key("sample");
  if (n.sample_json)
    json.raw(*n.sample_json);  // a record as the database renders it: JSON already
  else
    json.null();
  json.end_object();
  return json.take();
}

std::string slack_body(const Notification& n) {
  const std::string line = headline(n);
  JsonWriter json;
  json.begin_object().field("text", slack_text(line));
  json.key("attachments").begin_array().begin_object();
  // Slack's own green ("good") once resolved; red while firing.
  json.field("color", firing(n) ? "#d40e0d" : "#2eb886").field("fallback", slack_text(line));
  json.field("title", slack_text(fmt::format("{} ({})", n.rule_name, n.kind)));
  if (!n.logs_url.empty()) json.field("title_link", n.logs_url);
  json.field("text", slack_text(describe(n)));
  json.key("fields").begin_array();
  slack_field(json, "Status", to_string(n.transition));
  slack_field(json, "Tenant", n.tenant_name);
  if (!n.group_labels.empty()) slack_field(json, "Group", joined(n.group_labels));
  if (!n.labels.empty()) slack_field(json, "Labels", joined(n.labels));
  slack_field(json, "Fired at", core::format_rfc3339(n.fired_at));
  if (n.resolved_at) slack_field(json, "Resolved at", core::format_rfc3339(*n.resolved_at));
  json.end_array();
  json.field("footer", "logpipe")
      .field("ts", (n.resolved_at ? *n.resolved_at : n.fired_at) / core::kSecond);
  json.end_object().end_array().end_object();
  return json.take();
}

std::string alertmanager_body(const Notification& n) {
  JsonWriter json;
  json.begin_array().begin_object();
  json.key("labels").begin_object();
  std::set<std::string> seen;
  const auto label = [&](const std::string& name, std::string_view value) {
    // An empty value is no label to Alertmanager; the first of a name wins, so that a rule's
    // labels cannot replace alertname, logpipe_rule_id or tenant.
    if (value.empty() || !seen.insert(name).second) return;
    json.field(name, value);
  };
  label("alertname", n.rule_name);
  label("logpipe_rule_id", std::to_string(n.rule_id));
  label("tenant", n.tenant_name);
  for (const auto& [name, value] : n.group_labels)
    label(label_name(name), value);
  for (const auto& [name, value] : n.labels)
    label(label_name(name), value);
  json.end_object();
  json.key("annotations").begin_object();
  if (!n.summary.empty()) json.field("summary", n.summary);
  json.field("description", describe(n));
  if (!n.logs_url.empty()) json.field("logs_url", n.logs_url);
  json.end_object();
  json.field("startsAt", core::format_rfc3339(n.fired_at));
  if (n.resolved_at) json.field("endsAt", core::format_rfc3339(*n.resolved_at));
  if (!n.logs_url.empty()) json.field("generatorURL", n.logs_url);
  json.end_object().end_array();
  return json.take();
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest, &length);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(std::size_t{2} * length);
  for (unsigned int i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

std::string signature(std::string_view secret, std::int64_t unix_seconds, std::string_view body) {
  std::string signed_text = std::to_string(unix_seconds);
  signed_text.push_back('.');
  signed_text.append(body);
  return "sha256=" + hmac_sha256_hex(secret, signed_text);
}

std::string redacted_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "(not a URL)";
  const std::string_view scheme = url.substr(0, scheme_end + 3);
  std::string_view rest = url.substr(scheme_end + 3);
  const auto authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  std::string_view authority = rest.substr(0, authority_end);
  if (const auto at = authority.rfind('@'); at != std::string_view::npos)
    authority.remove_prefix(at + 1);
  std::string_view path = rest.substr(authority_end);
  path = path.substr(0, std::min(path.find_first_of("?#"), path.size()));
  std::string out = std::string(scheme) + std::string(authority);
  if (path.size() > 1) {
    const auto second = path.find('/', 1);
    out += path.substr(0, second);
    if (second != std::string_view::npos && second + 1 < path.size()) out += "/…";
  }
  return out;
}

std::string label_name(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  for (const char c : text) {
    const bool digit = c >= '0' && c <= '9';
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (digit && out.empty()) out.push_back('_');  // a name does not start with a digit
    out.push_back(digit || letter ? c : '_');
  }
  // push_back, not `out = "_"`: GCC 12's -Wrestrict misfires on that assignment (Release).
  if (out.empty()) out.push_back('_');
  return out;
}

core::Result<Endpoint> target_endpoint(const Target& target) {
  std::string text = target.url;
  std::string query;
  if (const auto mark = text.find_first_of("?#"); mark != std::string::npos) {
    if (text[mark] == '?') query = text.substr(mark, text.find('#', mark) - mark);
    text.resize(mark);
  }
  Endpoint e;
  const auto scheme_end = text.find("://");
  const auto authority_end = text.find('/', scheme_end == std::string::npos ? 0 : scheme_end + 3);
  const auto at = text.rfind('@', authority_end);
  if (scheme_end != std::string::npos && at != std::string::npos && at > scheme_end) {
    const std::string user_info = text.substr(scheme_end + 3, at - scheme_end - 3);
    e.headers.emplace_back("Authorization", "Basic " + core::base64_encode(user_info));
    text.erase(scheme_end + 3, at - scheme_end - 2);
  }
  auto url = http::parse_url(text);
  if (!url) return url.error();
  e.url = std::move(url).value();
  if (target.type == Target::Type::alertmanager) {
    e.target = "/api/v2/alerts" + query;
  } else {
    e.target = (e.url.base_path.empty() ? "/" : "") + query;
  }
  return e;
}

}  // namespace logpipe::alerts
