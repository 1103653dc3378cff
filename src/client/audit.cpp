#include "client/audit.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client/render.hpp"
#include "http/query_string.hpp"

namespace logpipe::client {
namespace {

using core::Errc;

core::Error not_a_page(std::string_view why) {
  return core::make_error(
      Errc::malformed, fmt::format("the server's answer is not a page of the audit log: {}", why));
}

}  // namespace

void add_audit_flags(CLI::App& c, AuditCommandLine& line) {
  c.add_option("--url", line.url, "the logpipe server, http:// or https://")
      ->envname("LOGPIPE_URL")
      ->capture_default_str();
  c.add_option("--api-key", line.api_key, "sent as the X-API-Key header (an admin key)")
      ->envname("LOGPIPE_API_KEY");
  add_tls_flags(c, line.tls);
  c.add_option("--action", line.actions,
               "any of these actions (repeatable, or a comma list: --action "
               "logs.delete,app.delete)")
      ->allow_extra_args(false);
  c.add_option("--key-id", line.key_id, "rows of this key only");
  c.add_option("--from", line.from,
               "from this time on: RFC 3339 or a duration before now (30s, 15m, 2h, 7d)");
  c.add_option("--to", line.to, "before this time (RFC 3339 or a duration before now)");
  c.add_option("--limit", line.limit, "how many rows to print in all, newest first")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  c.add_option("--output", line.output,
               "table, json (one array of the API's objects) or ndjson (one per line)")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "json", "ndjson"}));
  c.add_option("--timeout", line.timeout_seconds, "seconds to wait for each answer")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
}

core::Result<Query> finish_audit_flags(const AuditCommandLine& line) {
  Query query;
  auto server = http::parse_url(line.url);
  if (!server) return server.error();
  query.url = line.url;
  query.server = std::move(server).value();
  query.tls = {line.tls.cacert, line.tls.insecure};
  for (const auto& action : line.actions)
    query.search.emplace_back("action", action);
  if (!line.key_id.empty()) query.search.emplace_back("key_id", line.key_id);
  if (!line.from.empty()) query.search.emplace_back("from", line.from);
  if (!line.to.empty()) query.search.emplace_back("to", line.to);
  query.headers = {{"Accept", "application/json"}, {"User-Agent", "logpipe-audit"}};
  if (!line.api_key.empty()) query.headers.emplace_back("X-API-Key", line.api_key);
  query.limit = line.limit;
  auto output = parse_output(line.output);
  if (!output) return output.error();
  query.output = *output;
  query.timeout = std::chrono::seconds(line.timeout_seconds);
  return query;
}

std::string audit_page_target(const Params& filters, std::size_t page_size,
                              std::string_view cursor) {
  Params params = filters;
  params.emplace_back("limit", std::to_string(page_size));
  if (!cursor.empty()) params.emplace_back("cursor", std::string(cursor));
  return "/api/v1/audit?" + http::query_string(params);
}

core::Result<std::string> audit_table_row(std::string_view entry) {
  simdjson::dom::parser parser;
  simdjson::dom::object object;
  if (parser.parse(entry.data(), entry.size()).get(object) != simdjson::SUCCESS)
    return not_a_page("an entry is not an object");
  // A string member as shown: "-" when null or absent.
  const auto text = [&object](std::string_view name) -> std::string {
    std::string_view value;
    if (object[name].get_string().get(value) != simdjson::SUCCESS) return "-";
    std::string out;
    append_printable(out, value);
    return out;
  };
  simdjson::dom::element detail;
  std::string detail_text;
  if (object["detail"].get(detail) == simdjson::SUCCESS)
    append_printable(detail_text, simdjson::minify(detail));
  return fmt::format("{} {} {} key={} from={} request={} {}\n", text("at"), text("action"),
                     text("target"), text("key_id"), text("remote_addr"), text("request_id"),
                     detail_text);
}

core::Status run_listing(const Query& query, const Listing& listing, std::FILE* out) {
  http::SyncClient client(query.server, query.timeout, query.tls);
  std::vector<std::string> whole;  // --output json
  std::size_t printed = 0;
  std::string cursor;
  simdjson::dom::parser parser;
  const auto not_a_listing = [&](std::string_view why) {
    return core::make_error(
        Errc::malformed,
        fmt::format("the server's answer is not a page of {}: {}", listing.what, why));
  };
  while (printed < query.limit) {
    const std::size_t page_size = std::min(query.limit - printed, kMaxPageSize);
    Params params = query.search;
    params.emplace_back("limit", std::to_string(page_size));
    if (!cursor.empty()) params.emplace_back("cursor", cursor);
    auto response =
        fetch_page(client, query, std::string(listing.path) + "?" + http::query_string(params));
    if (!response) return response.error();
    simdjson::dom::object page;
    simdjson::dom::array entries;
    if (parser.parse(response->body).get(page) != simdjson::SUCCESS ||
        page[listing.member].get_array().get(entries) != simdjson::SUCCESS)
      return not_a_listing(fmt::format("no \"{}\" array", listing.member));
    std::string text;
    for (auto entry : entries) {
      if (printed == query.limit) break;
      ++printed;
      std::string json = simdjson::minify(entry);
      switch (query.output) {
        case Output::table: {
          auto row = listing.table_row(json);
          if (!row) return row.error();
          text += *row;
          break;
        }
        case Output::ndjson:
          text += json + "\n";
          break;
        case Output::json:
          whole.push_back(std::move(json));
          break;
      }
    }
    if (auto ok = write_output(out, text); !ok) return ok;
    std::string_view next;
    if (entries.size() == 0 || page["next_cursor"].get_string().get(next) != simdjson::SUCCESS)
      break;
    cursor = std::string(next);
  }
  if (query.output == Output::json) {
    std::string text = "[";
    for (std::size_t i = 0; i < whole.size(); ++i)
      text += (i ? ",\n" : "\n") + whole[i];
    return write_output(out, text + (whole.empty() ? "]\n" : "\n]\n"));
  }
  return {};
}

core::Status run_audit(const Query& query, std::FILE* out) {
  return run_listing(query, {"/api/v1/audit", "entries", "the audit log", audit_table_row}, out);
}

}  // namespace logpipe::client
