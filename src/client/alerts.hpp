// `logpipe alerts list|get|create|update|delete|events`: a terminal client of
// /api/v1/alerts/rules and /api/v1/alerts/events, with the flags (--url, --api-key, --cacert,
// --output) of `logpipe query` and `logpipe audit`. create and update take the rule as flags
// (--name --kind --filter level=ERROR --threshold 10 --window 60s --group-by device_id
// --cooldown 5m --webhook URL --slack URL --alertmanager URL --label severity=critical) or as the
// API's JSON body (--file rule.json, - for stdin); the server validates either and names the
// field it refuses.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "client/query.hpp"

namespace logpipe::client {

enum class AlertsAction { list, get, create, update, remove, events };

struct AlertsCommandLine {
  AlertsAction action = AlertsAction::list;
  std::string url = "http://127.0.0.1:8080";
  std::string api_key;
  TlsFlags tls;
  std::string output = "table";
  std::size_t timeout_seconds = 60;
  std::int64_t id = 0;  // get, update, delete
  // create, update: the rule
  std::string file;
  std::string name, kind, window, cooldown, secret;
  std::vector<std::string> filters, group_by, webhooks, slacks, alertmanagers, labels;
  std::int64_t threshold = 0;  // 0: not given
  bool disabled = false, rotate_secret = false;
  // events
  std::int64_t rule_id = 0;
  std::string state;
  std::size_t limit = 100;
};

// Adds the subcommands to `alerts` (the `alerts` command), each with its flags bound to `line`.
void add_alerts_commands(CLI::App& alerts, AlertsCommandLine& line);

// The JSON body of create/update from the flags (or --file's content). Errc::invalid_argument
// for a usage error: --file with rule flags, a --filter or --label without "=", a --window or
// --cooldown that is neither seconds nor a duration (30s, 5m, 2h, 1d), no --name or --kind.
core::Result<std::string> alert_rule_body(const AlertsCommandLine& line);

// One line of `alerts list`/`get`: "<id> <kind> <name> <enabled|disabled> window=<w>s
// [threshold=<n>] [group_by=<a,b>] filter=<json> notify=<type,…>\n". `rule` is an object of the
// API; control characters escaped.
core::Result<std::string> alert_rule_row(std::string_view rule);
// One line of `alerts events`: "<fired_at> <state> <rule_name> #<rule_id|-> group=<json>
// count=<n> resolved=<at|-> [<type> <url> <attempts>x ok|failed <last_status|error>]…\n".
core::Result<std::string> alert_event_row(std::string_view event);

// Runs the command and prints to `out` (exit 1 on its error, as `logpipe query`).
core::Status run_alerts(const AlertsCommandLine& line, std::FILE* out);

}  // namespace logpipe::client
