#include "client/query.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "client/render.hpp"
#include "http/query_string.hpp"

namespace logpipe::client {
namespace {

using core::Errc;

}  // namespace

bool terminal_wants_color(std::FILE* out) {
  // https://no-color.org: NO_COLOR set to anything but "" turns colours off.
  const char* no_color_env = std::getenv("NO_COLOR");
  return (no_color_env == nullptr || *no_color_env == '\0') && isatty(fileno(out)) == 1;
}

void add_tls_flags(CLI::App& c, TlsFlags& flags) {
  c.add_option("--cacert", flags.cacert,
               "https://: trust the CA certificates in this PEM file (a private CA) instead of "
               "the system's")
      ->envname("LOGPIPE_CACERT");
  c.add_flag("--insecure,-k", flags.insecure,
             "https://: do not check the server's certificate (anyone on the path can read the "
             "key and the logs; a warning says so)");
}

void add_server_flags(CLI::App& c, CommandLine& line) {
  c.add_option("--url", line.url,
               "the logpipe server, http:// or https:// (a path after the port is kept, for a "
               "server behind a prefix)")
      ->envname("LOGPIPE_URL")
      ->capture_default_str();
  c.add_option("--api-key", line.api_key, "sent as the X-API-Key header")
      ->envname("LOGPIPE_API_KEY");
  add_tls_flags(c, line.tls);
}

void add_filter_flags(CLI::App& c, CommandLine& line) {
  c.add_option("--device-id", line.device_id, "logs of this device");
  c.add_option("--service", line.service, "logs of this service");
  c.add_option("--app", line.app, "logs of this app");
  c.add_option("--host", line.host, "logs of this host");
  c.add_option("--level", line.levels,
               "any of these levels (repeatable, or a comma list: --level ERROR,FATAL)")
      ->allow_extra_args(false);
  c.add_option("--min-level", line.min_level,
               "this level or above: TRACE DEBUG INFO NOTICE WARNING ERROR CRITICAL FATAL");
  c.add_option("--attr", line.attrs,
               "key.path=value: the attribute at that path (dots for nesting), as text, equals "
               "the value (repeatable)")
      ->allow_extra_args(false);
  c.add_option("words", line.words,
               "words and phrases the message contains, in any case; an argument with a space is "
               "a phrase (\"disk full\")");
}

void add_flags(CLI::App& c, CommandLine& line) {
  add_server_flags(c, line);
  add_filter_flags(c, line);
  c.add_option("--from", line.from,
               "from this time on: RFC 3339 (2024-11-14T10:30:00Z) or a duration before now "
               "(30s, 15m, 2h, 7d)");
  c.add_option("--to", line.to, "before this time (RFC 3339 or a duration before now)");
  c.add_option("--order", line.order, "desc (newest first, the server's default) or asc")
      ->check(CLI::IsMember({"asc", "desc"}));
  c.add_option("--limit", line.limit,
               "how many logs to print in all, fetched in pages of up to 1000")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--output", line.output,
               "table (time, level, device/service, message), json (one array of the API's log "
               "objects) or ndjson (one API log object per line, printed page by page)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "ndjson"}));
  c.add_flag("--no-color", line.no_color,
             "no colours in the table (also NO_COLOR=1); they only ever go to a terminal");
  c.add_option("--timeout", line.timeout_seconds, "seconds to wait for each answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

core::Result<Query> finish_flags(const CommandLine& line) {
  Query query;
  auto server = http::parse_url(line.url);
  if (!server) return server.error();
  auto search = search_params(line);
  if (!search) return search.error();
  query.url = line.url;
  query.server = std::move(server).value();
  query.tls = {line.tls.cacert, line.tls.insecure};
  query.search = std::move(search).value();
  query.headers = {{"Accept", "application/json"}, {"User-Agent", "logpipe-query"}};
  if (!line.api_key.empty()) query.headers.emplace_back("X-API-Key", line.api_key);
  query.limit = line.limit;
  auto output = parse_output(line.output);
  if (!output) return output.error();
  query.output = *output;
  query.no_color = line.no_color;
  query.timeout = std::chrono::seconds(line.timeout_seconds);
  return query;
}

core::Result<Params> search_params(const CommandLine& line) {
  Params params;
  const auto add = [&params](const char* name, const std::string& value) {
    if (!value.empty()) params.emplace_back(name, value);
  };
  add("device_id", line.device_id);
  add("service", line.service);
  add("app", line.app);
  add("host", line.host);
  for (const auto& level : line.levels)
    add("level", level);
  add("min_level", line.min_level);
  add("from", line.from);
  add("to", line.to);
  for (const auto& attr : line.attrs) {
    const auto eq = attr.find('=');
    if (eq == std::string::npos || eq == 0)
      return core::make_error(
          Errc::invalid_argument,
          fmt::format("invalid --attr \"{}\": key.path=value (e.g. http.status=500)", attr));
    params.emplace_back("attrs." + attr.substr(0, eq), attr.substr(eq + 1));
  }
  add("q", search_text(line.words));
  add("order", line.order);
  return params;
}

std::string search_text(const std::vector<std::string>& words) {
  std::string q;
  for (const auto& word : words) {
    if (word.empty()) continue;
    if (!q.empty()) q.push_back(' ');
    const bool phrase =
        word.find_first_of(" \t") != std::string::npos && word.find('"') == std::string::npos;
    q += phrase ? '"' + word + '"' : word;
  }
  return q;
}

std::string page_target(const Params& search, std::size_t page_size, std::string_view cursor) {
  Params params = search;
  params.emplace_back("limit", std::to_string(page_size));
  if (!cursor.empty()) params.emplace_back("cursor", std::string(cursor));
  return "/api/v1/logs?" + http::query_string(params);
}

core::Status write_output(std::FILE* out, std::string_view text) {
  if (std::fwrite(text.data(), 1, text.size(), out) != text.size() || std::fflush(out) != 0)
    return core::make_error(Errc::io,
                            fmt::format("cannot write the output: {}", std::strerror(errno)));
  return {};
}

core::Result<http::ClientResponse> fetch_page(http::SyncClient& client, const Query& query,
                                              std::string_view target) {
  auto response = client.get(target, query.headers);
  if (!response) {
    if (response.error().code != Errc::unavailable) return response.error();
    return core::make_error(Errc::unavailable,
                            fmt::format("{} (is logpipe serving at {}? see --url, LOGPIPE_URL)",
                                        response.error().message, query.url));
  }
  if (response->status != 200)
    return core::make_error(response->status >= 500 ? Errc::unavailable : Errc::invalid_argument,
                            describe_error(response->status, response->reason, response->body));
  return response;
}

core::Status run(const Query& query, std::FILE* out) {
  http::SyncClient client(query.server, query.timeout, query.tls);
  const bool color = query.output == Output::table && !query.no_color && terminal_wants_color(out);
  std::vector<LogEntry> whole;  // --output json: one array, printed once every page is in
  std::size_t printed = 0;
  std::string cursor;
  while (printed < query.limit) {
    const std::size_t page_size = std::min(query.limit - printed, kMaxPageSize);
    auto response = fetch_page(client, query, page_target(query.search, page_size, cursor));
    if (!response) return response.error();
    auto page = parse_log_page(response->body);
    if (!page) return page.error();
    std::string text;
    for (auto& log : page->logs) {
      if (printed == query.limit) break;
      ++printed;
      switch (query.output) {
        case Output::table:
          text += table_row(log, color);
          break;
        case Output::ndjson:
          text += ndjson_row(log);
          break;
        case Output::json:
          whole.push_back(std::move(log));
          break;
      }
    }
    if (auto ok = write_output(out, text); !ok) return ok;
    if (!page->next_cursor || page->logs.empty()) break;
    cursor = std::move(*page->next_cursor);
  }
  if (query.output == Output::json) return write_output(out, json_array(whole));
  return {};
}

core::Result<Output> parse_output(std::string_view text) {
  if (text == "table") return Output::table;
  if (text == "json") return Output::json;
  if (text == "ndjson") return Output::ndjson;
  return core::make_error(Errc::invalid_argument,
                          fmt::format("invalid --output \"{}\": table, json or ndjson", text));
}

}  // namespace logpipe::client
