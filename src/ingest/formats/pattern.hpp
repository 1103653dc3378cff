// User-defined line formats: an RE2 regular expression with named groups, from the config file
// ([patterns.<name>] in logpipe.toml). Each becomes a line format named <name>, in a registry that
// serve builds at start (the built-in formats, then the patterns): ?format=<name> picks it, and
// format=auto tries it on every line (score 70: above logfmt, below access logs and syslog).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ingest/format.hpp"

namespace logpipe::ingest {

struct PatternSpec {
  std::string name;
  std::string regex;      // RE2 syntax; named groups (?P<name>…) map to the record
  std::string ts_format;  // "rfc3339" (default; also takes epoch numbers), "epoch", "epoch_ms",
                          // or strptime-like: %Y %m %d %e %H %M %S %f %b %z %T %F %%
};

// Named groups: ts, level, message, device_id, service, app, host (and the aliases of README
// "Records and errors": msg, timestamp, severity, source, application, hostname, …) fill the
// record; any other named group becomes an attr (a string). No message group, or an empty one:
// the message is the whole line. A line the regex does not match is rejected.
// Errors (an invalid regex, an unknown ts_format directive, a bad name) name the pattern.
core::Result<Format> pattern_format(const PatternSpec& spec);

// The built-in formats plus `patterns`; a pattern named like a built-in format (or "auto") is an
// error naming it.
core::Result<std::unique_ptr<FormatRegistry>> formats_with_patterns(
    const std::vector<PatternSpec>& patterns);

}  // namespace logpipe::ingest
