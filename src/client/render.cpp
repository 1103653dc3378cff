#include "client/render.hpp"

#include <fmt/format.h>
#include <simdjson.h>

namespace logpipe::client {
namespace {

using core::Errc;

core::Error not_a_page(std::string_view why) {
  return core::make_error(Errc::malformed,
                          fmt::format("the server's answer is not a page of logs: {}", why));
}

// An optional string field of a log object: absent or null → nullopt.
core::Result<std::optional<std::string>> optional_string(simdjson::dom::object object,
                                                         std::string_view name) {
  simdjson::dom::element value;
  if (object[name].get(value) != simdjson::SUCCESS || value.is_null())
    return std::optional<std::string>();
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS)
    return not_a_page(fmt::format("a log's \"{}\" is not a string", name));
  return std::optional<std::string>(std::string(text));
}

core::Result<LogEntry> read_entry(simdjson::dom::parser& parser, std::string_view json) {
  LogEntry entry;
  entry.json = json;
  simdjson::dom::object object;
  if (parser.parse(entry.json).get(object) != simdjson::SUCCESS)
    return not_a_page("a log is not an object");
  const auto required = [&object](std::string_view name, std::string& out) -> core::Status {
    std::string_view text;
    if (object[name].get_string().get(text) != simdjson::SUCCESS)
      return not_a_page(fmt::format("a log has no \"{}\"", name));
    out = text;
    return {};
  };
  if (auto ok = required("ts", entry.ts); !ok) return ok.error();
  if (auto ok = required("level", entry.level); !ok) return ok.error();
  if (auto ok = required("message", entry.message); !ok) return ok.error();
  auto device_id = optional_string(object, "device_id");
  if (!device_id) return device_id.error();
  auto service = optional_string(object, "service");
  if (!service) return service.error();
  auto host = optional_string(object, "host");
  if (!host) return host.error();
  entry.device_id = std::move(device_id).value();
  entry.service = std::move(service).value();
  entry.host = std::move(host).value();
  return entry;
}

}  // namespace

core::Result<LogEntry> parse_log(std::string_view json) {
  simdjson::dom::parser parser;
  return read_entry(parser, json);
}

void append_printable(std::string& out, std::string_view text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      fmt::format_to(std::back_inserter(out), "\\x{:02x}", c);
    } else if (c == 0xC2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9F) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned char>(text[i + 1]));
      ++i;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
}

namespace {

// SGR parameters of a level's colour; empty for a level this client does not know.
std::string_view level_color(std::string_view level) {
  if (level == "TRACE") return "90";       // grey
  if (level == "DEBUG") return "34";       // blue
  if (level == "INFO") return "32";        // green
  if (level == "NOTICE") return "36";      // cyan
  if (level == "WARNING") return "33";     // yellow
  if (level == "ERROR") return "31";       // red
  if (level == "CRITICAL") return "1;31";  // bold red
  if (level == "FATAL") return "1;35";     // bold magenta
  return {};
}

}  // namespace

core::Result<LogPage> parse_log_page(std::string_view body) {
  simdjson::ondemand::parser parser;
  const simdjson::padded_string padded(body);
  simdjson::ondemand::document doc;
  simdjson::ondemand::array logs;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc["logs"].get_array().get(logs) != simdjson::SUCCESS)
    return not_a_page("no \"logs\" array");
  LogPage page;
  simdjson::dom::parser entry_parser;
  for (auto item : logs) {
    simdjson::ondemand::object object;
    std::string_view raw;
    if (item.get_object().get(object) != simdjson::SUCCESS ||
        object.raw_json().get(raw) != simdjson::SUCCESS)
      return not_a_page("a log is not an object");
    // raw_json() runs up to the next token, so whitespace after the object comes along.
    while (!raw.empty() &&
           (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\r' || raw.back() == '\t'))
      raw.remove_suffix(1);
    auto entry = read_entry(entry_parser, raw);
    if (!entry) return entry.error();
    page.logs.push_back(std::move(entry).value());
  }
  simdjson::ondemand::value next;
  if (doc["next_cursor"].get(next) != simdjson::SUCCESS) return not_a_page("no \"next_cursor\"");
  bool is_null = false;
  if (next.is_null().get(is_null) != simdjson::SUCCESS) return not_a_page("a bad \"next_cursor\"");
  if (!is_null) {
    std::string_view cursor;
    if (next.get_string().get(cursor) != simdjson::SUCCESS)
      return not_a_page("\"next_cursor\" is not a string");
    page.next_cursor = std::string(cursor);
  }
  return page;
}

std::string table_row(const LogEntry& log, bool color) {
  std::string row;
  append_printable(row, log.ts);
  row.push_back(' ');
  std::string level;
  append_printable(level, log.level);
  level = fmt::format("{:<8}", level);
  const auto sgr = color ? level_color(log.level) : std::string_view();
  if (sgr.empty()) {
    row += level;
  } else {
    fmt::format_to(std::back_inserter(row), "\x1b[{}m{}\x1b[0m", sgr, level);
  }
  row.push_back(' ');
  append_printable(row, log.device_id.value_or("-"));
  row.push_back('/');
  append_printable(row, log.service.value_or("-"));
  row.push_back(' ');
  append_printable(row, log.message);
  row.push_back('\n');
  return row;
}

std::string ndjson_row(const LogEntry& log) {
  return log.json + '\n';
}

std::string json_array(std::span<const LogEntry> logs) {
  if (logs.empty()) return "[]\n";
  std::string out = "[\n";
  for (std::size_t i = 0; i < logs.size(); ++i) {
    out += logs[i].json;
    out += i + 1 < logs.size() ? ",\n" : "\n";
  }
  out += "]\n";
  return out;
}

std::string describe_error(unsigned status, std::string_view reason, std::string_view body) {
  simdjson::dom::parser parser;
  simdjson::dom::object error;
  std::string_view code, message;
  if (parser.parse(body.data(), body.size()).get(error) == simdjson::SUCCESS &&
      error["error"]["code"].get_string().get(code) == simdjson::SUCCESS &&
      error["error"]["message"].get_string().get(message) == simdjson::SUCCESS) {
    std::string out = fmt::format("{} {}: {}", status, code, message);
    simdjson::dom::array details;
    if (error["error"]["details"].get_array().get(details) == simdjson::SUCCESS &&
        details.size() > 1) {
      for (auto detail : details) {
        std::string_view field, text;
        if (detail["field"].get_string().get(field) != simdjson::SUCCESS) field = "";
        if (detail["message"].get_string().get(text) != simdjson::SUCCESS) text = "";
        fmt::format_to(std::back_inserter(out), "\n  {}: {}", field, text);
      }
    }
    return out;
  }
  constexpr std::size_t kBodyShown = 200;
  std::string out = fmt::format("{} {}", status, reason);
  std::string_view start = body.substr(0, kBodyShown);
  while (!start.empty() && (start.back() == '\n' || start.back() == ' '))
    start.remove_suffix(1);
  if (!start.empty()) {
    out += ": ";
    append_printable(out, start);
  }
  return out;
}

}  // namespace logpipe::client
