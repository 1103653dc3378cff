#include "client/alerts.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <sstream>

#include "client/audit.hpp"
#include "client/render.hpp"
#include "core/json_writer.hpp"
#include "core/time.hpp"
#include "http/query_string.hpp"

namespace logpipe::client {
namespace {

using core::Errc;

core::Error usage(std::string message) {
  return core::make_error(Errc::invalid_argument, std::move(message));
}

core::Error not_an_answer(std::string_view what, std::string_view why) {
  return core::make_error(Errc::malformed,
                          fmt::format("the server's answer is not {}: {}", what, why));
}

// "60", "60s", "5m", "2h", "1d" → seconds.
core::Result<std::int64_t> seconds_flag(std::string_view flag, std::string_view text) {
  std::int64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && end == text.data() + text.size() && n >= 0) return n;
  if (auto d = core::parse_duration(text)) return *d / core::kSecond;
  return usage(fmt::format("{} \"{}\": seconds or a duration (30s, 5m, 2h, 1d)", flag, text));
}

// "key=value" → (key, value).
core::Result<std::pair<std::string, std::string>> pair_flag(std::string_view flag,
                                                            std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return usage(fmt::format("{} \"{}\": must be name=value", flag, text));
  return std::pair{std::string(text.substr(0, eq)), std::string(text.substr(eq + 1))};
}

bool rule_flags_given(const AlertsCommandLine& l) {
  return !l.name.empty() || !l.kind.empty() || !l.window.empty() || !l.cooldown.empty() ||
         !l.secret.empty() || !l.filters.empty() || !l.group_by.empty() || !l.webhooks.empty() ||
         !l.slacks.empty() || !l.alertmanagers.empty() || !l.labels.empty() || l.threshold != 0 ||
         l.disabled || l.rotate_secret;
}

core::Result<std::string> read_file(const std::string& path) {
  if (path == "-")
    return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  std::ifstream in(path, std::ios::binary);
  if (!in) return usage(fmt::format("--file {}: cannot be read", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void add_connection_flags(CLI::App& c, AlertsCommandLine& line) {
  c.add_option("--url", line.url, "the logpipe server, http:// or https://")
      ->envname("LOGPIPE_URL")
      ->capture_default_str();
  c.add_option("--api-key", line.api_key,
               "sent as the X-API-Key header (query scope to read, admin to change)")
      ->envname("LOGPIPE_API_KEY");
  add_tls_flags(c, line.tls);
  c.add_option("--output", line.output,
               "table, json (the API's objects as one array) or ndjson (one per line)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "ndjson"}));
  c.add_option("--timeout", line.timeout_seconds, "seconds to wait for each answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

void add_rule_flags(CLI::App& c, AlertsCommandLine& line) {
  c.add_option("--file", line.file,
               "the rule as the API's JSON body (- for stdin) instead of the flags below");
  c.add_option("--name", line.name, "its name, unique in the tenant");
  c.add_option("--kind", line.kind, "threshold, absence or match")
      ->check(CLI::IsMember({"threshold", "absence", "match"}));
  c.add_option("--filter", line.filters,
               "a filter of the search, name=value (repeatable): level=ERROR, service=api, "
               "min_level=warning, attrs.region=eu, q=timeout")
      ->allow_extra_args(false);
  c.add_option("--threshold", line.threshold, "threshold rules: fire when count >= this")
      ->check(CLI::PositiveNumber);
  c.add_option("--window", line.window,
               "threshold: the counting window; absence: the silence that fires; match: the "
               "quiet that resolves (seconds or 30s, 5m, 2h, 1d)");
  c.add_option("--group-by", line.group_by,
               "one alert per value of device_id, service, app or host (repeatable)")
      ->allow_extra_args(false);
  c.add_option("--cooldown", line.cooldown,
               "after it resolves, no new notification for this long (default 5m)");
  c.add_option("--webhook", line.webhooks, "notify this URL with a signed JSON body (repeatable)")
      ->allow_extra_args(false);
  c.add_option("--slack", line.slacks, "notify this Slack incoming-webhook URL (repeatable)")
      ->allow_extra_args(false);
  c.add_option("--alertmanager", line.alertmanagers,
               "notify this Alertmanager, e.g. http://alertmanager:9093 (repeatable)")
      ->allow_extra_args(false);
  c.add_option("--label", line.labels, "a static label, name=value (repeatable)")
      ->allow_extra_args(false);
  c.add_option("--secret", line.secret,
               "the webhook signing secret (default: a random one, printed once)");
  c.add_flag("--disabled", line.disabled, "store the rule without evaluating it");
}

// The rule's row or, for a create or a rotation, the row and the secret, which is shown once.
core::Result<std::string> rule_answer(std::string_view body, Output output) {
  if (output != Output::table) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS)
      return not_an_answer("a rule", "not JSON");
    return simdjson::minify(doc) + "\n";
  }
  auto row = alert_rule_row(body);
  if (!row) return row;
  simdjson::dom::parser parser;
  std::string_view secret;
  if (parser.parse(body.data(), body.size())["secret"].get_string().get(secret) ==
      simdjson::SUCCESS) {
    std::string shown;
    append_printable(shown, secret);
    *row +=
        fmt::format("secret {} (shown only now: keep it to verify webhook signatures)\n", shown);
  }
  return row;
}

core::Result<Query> connection(const AlertsCommandLine& line) {
  Query query;
  auto server = http::parse_url(line.url);
  if (!server) return server.error();
  query.url = line.url;
  query.server = std::move(server).value();
  query.tls = {line.tls.cacert, line.tls.insecure};
  query.headers = {{"Accept", "application/json"}, {"User-Agent", "logpipe-alerts"}};
  if (!line.api_key.empty()) query.headers.emplace_back("X-API-Key", line.api_key);
  auto output = parse_output(line.output);
  if (!output) return output.error();
  query.output = *output;
  query.limit = line.limit;
  query.timeout = std::chrono::seconds(line.timeout_seconds);
  return query;
}

// One request whose answer must be a 2xx; refusals as describe_error words them.
core::Result<http::ClientResponse> call(const Query& query, std::string_view method,
                                        const std::string& target, std::string body = {}) {
  http::SyncClient client(query.server, query.timeout, query.tls);
  http::Headers headers = query.headers;
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  auto response = method == "GET" ? client.get(target, headers)
                                  : client.send(method, target, headers, std::move(body));
  if (!response) {
    if (response.error().code != Errc::unavailable) return response.error();
    return core::make_error(Errc::unavailable,
                            fmt::format("{} (is logpipe serving at {}? see --url, LOGPIPE_URL)",
                                        response.error().message, query.url));
  }
  if (response->status < 200 || response->status > 299)
    return core::make_error(response->status >= 500 ? Errc::unavailable : Errc::invalid_argument,
                            describe_error(response->status, response->reason, response->body));
  return response;
}

}  // namespace

void add_alerts_commands(CLI::App& alerts, AlertsCommandLine& line) {
  alerts.require_subcommand(1);
  const auto on = [&line](AlertsAction action) {
    return [&line, action] { line.action = action; };
  };
  auto* list = alerts.add_subcommand("list", "the tenant's alert rules");
  add_connection_flags(*list, line);
  list->callback(on(AlertsAction::list));

  auto* get = alerts.add_subcommand("get", "one alert rule (never its secret)");
  add_connection_flags(*get, line);
  get->add_option("id", line.id, "the rule's id")->required()->check(CLI::PositiveNumber);
  get->callback(on(AlertsAction::get));

  auto* create = alerts.add_subcommand(
      "create", "create an alert rule from flags or --file; prints its secret once");
  add_connection_flags(*create, line);
  add_rule_flags(*create, line);
  create->callback(on(AlertsAction::create));

  auto* update = alerts.add_subcommand(
      "update",
      "replace an alert rule: every field as given, the others at their defaults (the secret "
      "stays unless --secret or --rotate-secret)");
  add_connection_flags(*update, line);
  update->add_option("id", line.id, "the rule's id")->required()->check(CLI::PositiveNumber);
  add_rule_flags(*update, line);
  update->add_flag("--rotate-secret", line.rotate_secret,
                   "replace the webhook secret by a new random one (printed once)");
  update->callback(on(AlertsAction::update));

  auto* remove = alerts.add_subcommand("delete", "delete an alert rule (its history stays)");
  add_connection_flags(*remove, line);
  remove->add_option("id", line.id, "the rule's id")->required()->check(CLI::PositiveNumber);
  remove->callback(on(AlertsAction::remove));

  auto* events = alerts.add_subcommand(
      "events", "the alert history, newest first: when fired, resolved, count, deliveries");
  add_connection_flags(*events, line);
  events->add_option("--rule-id", line.rule_id, "episodes of this rule only")
      ->check(CLI::PositiveNumber);
  events->add_option("--state", line.state, "firing or resolved")
      ->check(CLI::IsMember({"firing", "resolved"}));
  events->add_option("--limit", line.limit, "how many episodes to print in all")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  events->callback(on(AlertsAction::events));
}

core::Result<std::string> alert_rule_body(const AlertsCommandLine& line) {
  if (!line.file.empty()) {
    if (rule_flags_given(line))
      return usage("--file holds the whole rule: give no other rule flag with it");
    return read_file(line.file);
  }
  if (line.name.empty()) return usage("--name is required (or --file)");
  if (line.kind.empty()) return usage("--kind is required: threshold, absence or match");
  core::JsonWriter w;
  w.begin_object().field("name", line.name).field("kind", line.kind);
  if (!line.filters.empty()) {
    // name=value, a repeated name as an array (level=ERROR level=FATAL).
    std::vector<std::pair<std::string, std::vector<std::string>>> filter;
    for (const auto& f : line.filters) {
      auto kv = pair_flag("--filter", f);
      if (!kv) return kv.error();
      auto same = std::find_if(filter.begin(), filter.end(),
                               [&](const auto& e) { return e.first == kv->first; });
      if (same == filter.end()) {
        filter.push_back({kv->first, {kv->second}});
      } else {
        same->second.push_back(kv->second);
      }
    }
    w.key("filter").begin_object();
    for (const auto& [name, values] : filter) {
      w.key(name);
      if (values.size() == 1) {
        w.value(values[0]);
      } else {
        w.begin_array();
        for (const auto& v : values)
          w.value(v);
        w.end_array();
      }
    }
    w.end_object();
  }
  if (line.threshold != 0) w.field("threshold", line.threshold);
  if (!line.window.empty()) {
    auto s = seconds_flag("--window", line.window);
    if (!s) return s.error();
    w.field("window_seconds", *s);
  }
  if (!line.cooldown.empty()) {
    auto s = seconds_flag("--cooldown", line.cooldown);
    if (!s) return s.error();
    w.field("cooldown_seconds", *s);
  }
  if (!line.group_by.empty()) {
    w.key("group_by").begin_array();
    for (const auto& g : line.group_by)
      w.value(g);
    w.end_array();
  }
  if (!line.webhooks.empty() || !line.slacks.empty() || !line.alertmanagers.empty()) {
    w.key("notify").begin_array();
    const auto targets = [&](const char* type, const std::vector<std::string>& urls) {
      for (const auto& url : urls)
        w.begin_object().field("type", type).field("url", url).end_object();
    };
    targets("webhook", line.webhooks);
    targets("slack", line.slacks);
    targets("alertmanager", line.alertmanagers);
    w.end_array();
  }
  if (!line.labels.empty()) {
    w.key("labels").begin_object();
    for (const auto& l : line.labels) {
      auto kv = pair_flag("--label", l);
      if (!kv) return kv.error();
      w.field(kv->first, kv->second);
    }
    w.end_object();
  }
  if (!line.secret.empty() && line.rotate_secret)
    return usage("--secret and --rotate-secret: give one");
  if (!line.secret.empty()) w.field("secret", line.secret);
  if (line.rotate_secret) w.key("secret").null();
  if (line.disabled) w.field("enabled", false);
  return w.end_object().take();
}

core::Result<std::string> alert_rule_row(std::string_view rule) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(rule.data(), rule.size()).get(o) != simdjson::SUCCESS)
    return not_an_answer("an alert rule", "not an object");
  std::int64_t id = 0, window = 0, threshold = 0;
  std::string_view name, kind;
  bool enabled = true;
  simdjson::dom::element filter;
  simdjson::dom::array group_by, notify;
  if (o["id"].get_int64().get(id) || o["name"].get_string().get(name) ||
      o["kind"].get_string().get(kind) || o["window_seconds"].get_int64().get(window) ||
      o["enabled"].get_bool().get(enabled) || o["filter"].get(filter) ||
      o["group_by"].get_array().get(group_by) || o["notify"].get_array().get(notify))
    return not_an_answer("an alert rule", "a field is missing");
  std::string out = fmt::format("{} {} ", id, kind);
  append_printable(out, name);
  out += fmt::format(" {} window={}s", enabled ? "enabled" : "disabled", window);
  if (o["threshold"].get_int64().get(threshold) == simdjson::SUCCESS)
    out += fmt::format(" threshold={}", threshold);
  std::string list;
  for (auto g : group_by) {
    std::string_view text;
    if (g.get_string().get(text) == simdjson::SUCCESS)
      list += (list.empty() ? "" : ",") + std::string(text);
  }
  if (!list.empty()) out += " group_by=" + list;
  out += " filter=";
  append_printable(out, simdjson::minify(filter));
  list.clear();
  for (auto t : notify) {
    std::string_view type;
    if (t["type"].get_string().get(type) == simdjson::SUCCESS)
      list += (list.empty() ? "" : ",") + std::string(type);
  }
  out += " notify=" + (list.empty() ? std::string("-") : list);
  return out + "\n";
}

core::Result<std::string> alert_event_row(std::string_view event) {
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(event.data(), event.size()).get(o) != simdjson::SUCCESS)
    return not_an_answer("a page of alert events", "an event is not an object");
  const auto text = [&](simdjson::dom::element e) {
    std::string_view value;
    std::string out;
    if (e.get_string().get(value) != simdjson::SUCCESS) return std::string("-");
    append_printable(out, value);
    return out;
  };
  std::int64_t count = 0, rule_id = 0;
  if (o["count"].get_int64().get(count) != simdjson::SUCCESS)
    return not_an_answer("a page of alert events", "an event has no count");
  const bool has_rule = o["rule_id"].get_int64().get(rule_id) == simdjson::SUCCESS;
  simdjson::dom::element group;
  std::string group_text = "{}";
  if (o["group"].get(group) == simdjson::SUCCESS) {
    group_text.clear();
    append_printable(group_text, simdjson::minify(group));
  }
  std::string out =
      fmt::format("{} {} {} #{} group={} count={} resolved={}", text(o["fired_at"]),
                  text(o["state"]), text(o["rule_name"]), has_rule ? std::to_string(rule_id) : "-",
                  group_text, count, text(o["resolved_at"]));
  simdjson::dom::array deliveries;
  if (o["deliveries"].get_array().get(deliveries) == simdjson::SUCCESS) {
    for (auto d : deliveries) {
      std::int64_t attempts = 0, status = 0;
      bool ok = false;
      if (d["attempts"].get_int64().get(attempts) != simdjson::SUCCESS ||
          d["ok"].get_bool().get(ok) != simdjson::SUCCESS)
        return not_an_answer("a page of alert events", "a delivery has no attempts or ok");
      std::string last = d["last_status"].get_int64().get(status) == simdjson::SUCCESS
                             ? std::to_string(status)
                             : text(d["last_error"]);
      out += fmt::format(" [{} {} {} {}x {} {}]", text(d["transition"]), text(d["type"]),
                         text(d["url"]), attempts, ok ? "ok" : "failed", last);
    }
  }
  return out + "\n";
}

core::Status run_alerts(const AlertsCommandLine& line, std::FILE* out) {
  auto query = connection(line);
  if (!query) return query.error();
  const std::string rules = "/api/v1/alerts/rules";
  const std::string one = rules + "/" + std::to_string(line.id);
  switch (line.action) {
    case AlertsAction::events: {
      if (line.rule_id != 0) query->search.emplace_back("rule_id", std::to_string(line.rule_id));
      if (!line.state.empty()) query->search.emplace_back("state", line.state);
      return run_listing(*query,
                         {"/api/v1/alerts/events", "events", "alert events", alert_event_row}, out);
    }
    case AlertsAction::list: {
      auto response = call(*query, "GET", rules);
      if (!response) return response.error();
      simdjson::dom::parser parser;
      simdjson::dom::array list;
      if (parser.parse(response->body)["rules"].get_array().get(list) != simdjson::SUCCESS)
        return not_an_answer("a list of alert rules", "no \"rules\" array");
      std::string text = query->output == Output::json ? "[" : "";
      bool first = true;
      for (auto rule : list) {
        const std::string json = simdjson::minify(rule);
        if (query->output == Output::table) {
          auto row = alert_rule_row(json);
          if (!row) return row.error();
          text += *row;
        } else if (query->output == Output::ndjson) {
          text += json + "\n";
        } else {
          text += (first ? "\n" : ",\n") + json;
        }
        first = false;
      }
      if (query->output == Output::json) text += first ? "]\n" : "\n]\n";
      return write_output(out, text);
    }
    case AlertsAction::get:
    case AlertsAction::create:
    case AlertsAction::update: {
      core::Result<http::ClientResponse> response = core::make_error(Errc::internal, "");
      if (line.action == AlertsAction::get) {
        response = call(*query, "GET", one);
      } else {
        auto body = alert_rule_body(line);
        if (!body) return body.error();
        response = line.action == AlertsAction::create ? call(*query, "POST", rules, *body)
                                                       : call(*query, "PUT", one, *body);
      }
      if (!response) return response.error();
      auto text = rule_answer(response->body, query->output);
      if (!text) return text.error();
      return write_output(out, *text);
    }
    case AlertsAction::remove: {
      auto response = call(*query, "DELETE", one);
      if (!response) return response.error();
      if (query->output != Output::table) return write_output(out, response->body + "\n");
      return write_output(out, fmt::format("deleted alert rule {}\n", line.id));
    }
  }
  return {};
}

}  // namespace logpipe::client
