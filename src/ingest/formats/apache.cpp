// Access log lines by a hand-written scanner (Fluent Bit and Logstash use a regex; this is about
// ten times faster):
//
//   [vhost[:port] ]client ident user [10/Oct/2000:13:55:36 -0700] "request" status bytes
//       [ "referer" "user-agent"] [anything else]
//
// The message is the whole line, as it was written: a search for an address, a path, a status or
// a browser finds it as grep on the file would. The fields are also in attrs (client_ip, ident,
// user, method, path, protocol, status, bytes, referer, user_agent; a field written "-" is left
// out), the time is ts, the status gives the level (≥ 500 ERROR, ≥ 400 WARNING, else INFO), and
// the virtual host of vhost_combined is the host.
#include "ingest/formats/apache.hpp"

#include "ingest/formats/line.hpp"

namespace logpipe::ingest {
namespace {

using line::is_digit;

// Everything before the request: the 3 (or 4, with a virtual host) fields and the time.
struct Prefix {
  std::string_view fields[4];
  int count = 0;
  std::string_view time;  // inside the brackets
  std::size_t end = 0;    // just past ']'
};

bool scan_prefix(std::string_view s, Prefix& p) {
  std::size_t pos = 0;
  while (pos < s.size() && s[pos] != '[') {
    if (p.count == 4) return false;
    const std::size_t space = s.find(' ', pos);
    if (space == std::string_view::npos) return false;
    p.fields[p.count++] = s.substr(pos, space - pos);
    pos = space;
    while (pos < s.size() && s[pos] == ' ')
      ++pos;
  }
  if (p.count < 3 || pos >= s.size()) return false;
  // "[dd/Mon/yyyy:" cheaply first: this is also the sniff.
  if (s.size() < pos + 28 || s[pos + 3] != '/' || s[pos + 7] != '/' || s[pos + 12] != ':' ||
      !is_digit(s[pos + 1]) || !is_digit(s[pos + 8]))
    return false;
  const std::size_t close = s.find(']', pos + 1);
  if (close == std::string_view::npos) return false;
  p.time = s.substr(pos + 1, close - pos - 1);
  p.end = close + 1;
  return true;
}

// A quoted field at `pos` ('"'): its text between the quotes, with \" and \\ unescaped into
// `storage` when it has any. Advances `pos` past the closing quote.
bool quoted(std::string_view s, std::size_t& pos, std::string_view& text, std::string& storage) {
  if (pos >= s.size() || s[pos] != '"') return false;
  const std::size_t start = pos + 1;
  std::size_t i = start;
  bool escaped = false;
  while (true) {
    i = s.find_first_of("\"\\", i);
    if (i == std::string_view::npos) return false;
    if (s[i] == '"') break;
    escaped = true;
    i += 2;  // the backslash and what it escapes
    if (i > s.size()) return false;
  }
  text = s.substr(start, i - start);
  pos = i + 1;
  if (!escaped) return true;
  storage.clear();
  for (std::size_t k = 0; k < text.size(); ++k) {
    if (text[k] == '\\' && k + 1 < text.size() && (text[k + 1] == '"' || text[k + 1] == '\\')) ++k;
    storage.push_back(text[k]);
  }
  text = storage;
  return true;
}

bool space_at(std::string_view s, std::size_t& pos) {
  if (pos >= s.size() || s[pos] != ' ') return false;
  while (pos < s.size() && s[pos] == ' ')
    ++pos;
  return true;
}

void add_unless_dash(line::Attrs& attrs, std::string_view key, std::string_view value) {
  if (!value.empty() && value != "-") attrs.add(key, value);
}

// "GET /index.html HTTP/1.1" → method, path, protocol; "GET /" (HTTP/0.9) → method, path.
// Anything else ("-", a TLS handshake sent to the HTTP port, garbage) is kept whole as request.
void add_request(line::Attrs& attrs, std::string_view request) {
  const std::size_t a = request.find(' ');
  if (a != std::string_view::npos && a > 0) {
    const std::size_t b = request.find(' ', a + 1);
    const std::string_view method = request.substr(0, a);
    bool token = true;
    for (char c : method)
      token = token && c >= 'A' && c <= 'Z';
    if (token && b == std::string_view::npos && a + 1 < request.size()) {
      attrs.add("method", method);
      attrs.add("path", request.substr(a + 1));
      return;
    }
    if (token && b != std::string_view::npos && b > a + 1 &&
        request.find(' ', b + 1) == std::string_view::npos &&
        request.substr(b + 1).starts_with("HTTP/")) {
      attrs.add("method", method);
      attrs.add("path", request.substr(a + 1, b - a - 1));
      attrs.add("protocol", request.substr(b + 1));
      return;
    }
  }
  add_unless_dash(attrs, "request", request);
}

bool parse_apache(std::string_view text, const DecodeOptions& options, model::Record& out,
                  std::string& why) {
  if (!line::valid_text(text, why)) return false;
  const std::string_view s = line::trim_right(text);
  Prefix p;
  if (!scan_prefix(s, p)) {
    why = "not an access log line (host ident user [time] \"request\" status bytes)";
    return false;
  }
  if (!line::parse_clf_time(p.time, out.ts)) {
    why = "time must be [dd/Mon/yyyy:HH:MM:SS +hhmm], a real date";
    return false;
  }
  std::size_t pos = p.end;
  std::string storage;
  std::string_view request;
  if (!space_at(s, pos) || !quoted(s, pos, request, storage)) {
    why = "the request must be quoted after the time";
    return false;
  }
  line::Attrs attrs;
  const int first = p.count - 3;  // 1 with a virtual host
  add_unless_dash(attrs, "client_ip", p.fields[first]);
  add_unless_dash(attrs, "ident", p.fields[first + 1]);
  add_unless_dash(attrs, "user", p.fields[first + 2]);
  add_request(attrs, request);

  // status: three digits
  if (!space_at(s, pos) || pos + 3 > s.size() || !is_digit(s[pos]) || !is_digit(s[pos + 1]) ||
      !is_digit(s[pos + 2]) || (pos + 3 < s.size() && s[pos + 3] != ' ')) {
    why = "status must be three digits after the request";
    return false;
  }
  const int status = (s[pos] - '0') * 100 + (s[pos + 1] - '0') * 10 + (s[pos + 2] - '0');
  attrs.add_number("status", status);
  pos += 3;
  out.level = status >= 500   ? model::Level::error
              : status >= 400 ? model::Level::warning
                              : model::Level::info;
  // bytes: digits or "-"; then, in the combined format, the referer and the user agent.
  if (space_at(s, pos)) {
    const std::size_t end = std::min(s.find(' ', pos), s.size());
    const std::string_view bytes = s.substr(pos, end - pos);
    std::int64_t n = 0;
    bool number = !bytes.empty() && bytes.size() <= 18;
    for (std::size_t i = 0; number && i < bytes.size(); ++i) {
      number = is_digit(bytes[i]);
      n = n * 10 + (bytes[i] - '0');
    }
    if (number) {
      attrs.add_number("bytes", n);
    } else if (bytes != "-") {
      why = "bytes must be a number or -";
      return false;
    }
    pos = end;
    std::string_view referer, agent;
    std::string agent_storage;
    std::size_t at = pos;
    if (space_at(s, at) && quoted(s, at, referer, storage)) {
      add_unless_dash(attrs, "referer", referer);
      if (space_at(s, at) && quoted(s, at, agent, agent_storage))
        add_unless_dash(attrs, "user_agent", agent);
    }
  }
  if (first == 1) {
    std::string_view vhost = p.fields[0];
    const std::size_t colon = vhost.rfind(':');
    if (colon != std::string_view::npos && colon + 1 < vhost.size() &&
        vhost.find(':') == colon) {  // host:port, not an IPv6 address
      attrs.add("server_port", vhost.substr(colon + 1));
      vhost = vhost.substr(0, colon);
    }
    if (vhost != "-" && !line::set_name(out.host, vhost, "host", options, why)) return false;
  }
  line::set_message(out, s, options, attrs);
  out.attrs_json = attrs.take();
  return true;
}

int sniff_apache(std::string_view s) {
  Prefix p;
  if (!scan_prefix(s, p)) return 0;
  return p.end + 1 < s.size() && s[p.end] == ' ' && s[p.end + 1] == '"' ? 80 : 0;
}

}  // namespace

Format apache_format() {
  Format f;
  f.name = "apache";
  f.media_types = {};  // there is no access-log media type; chosen by name or per line
  f.sniff_line = sniff_apache;
  f.parse_line = parse_apache;
  f.decode = [](std::string_view body, const DecodeOptions& options) {
    return decode_lines(body, options, parse_apache);
  };
  return f;
}

}  // namespace logpipe::ingest
