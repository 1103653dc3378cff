// Syslog, RFC 5424 and RFC 3164 (BSD) with the variants real senders use, as one line format:
// a line of a file (POST /api/v1/ingest/raw?format=syslog) or one frame of a syslog listener
// (listeners/) → one record. A hand-written scanner: no regex, no allocation beyond the
// record's own strings.
//
// The mapping (README "Syslog"):
//   severity                     → level (0 emerg → FATAL … 7 debug → DEBUG)
//   facility                     → attrs.facility, by name ("daemon", "local0", …)
//   HOSTNAME                     → host
//   APP-NAME / tag               → service
//   PROCID / [pid]               → attrs.procid
//   MSGID                        → attrs.msgid
//   STRUCTURED-DATA              → attrs.sd.<SD-ID>.<PARAM-NAME> = value (a repeated PARAM-NAME
//                                  gives an array of its values), filterable as
//                                  attrs.sd.<SD-ID>.<PARAM-NAME>=value
//   %FAC-SEV-MNEMONIC (Cisco)    → attrs.mnemonic; a Cisco sequence number → attrs.seq
//   MSG                          → message (a UTF-8 BOM dropped; invalid UTF-8 → U+FFFD)
// A timestamp without a year takes the year that puts it closest to the receive time (December
// logs received in January belong to last year); one without a zone is UTC. A line without
// <PRI> (a file) is INFO with no facility. No timestamp: the receive time.
#pragma once

#include <string>
#include <string_view>

#include "ingest/format.hpp"

namespace logpipe::ingest {

namespace syslog {

// One message (without its framing; trailing CR, LF and NUL are ignored) → `out`. False, with
// `why`, when it is not syslog at all or is broken beyond use (a bad PRI, an RFC 5424 header
// cut short, an invalid timestamp, a name longer than max_name_bytes, an empty message, a
// message longer than max_message_bytes). A malformed STRUCTURED-DATA is not fatal: the text
// from there on is the message.
bool parse(std::string_view message, const DecodeOptions& options, model::Record& out,
           std::string& why);

// The score of one line for format=auto: 90 for "<PRI>1 " (RFC 5424), 85 for another valid
// <PRI>, 60 for a priority-less "Mmm dd hh:mm:ss host", 40 for a priority-less ISO timestamp
// followed by a host and a tag; else 0.
int sniff_line(std::string_view line);

}  // namespace syslog

Format syslog_format();

}  // namespace logpipe::ingest
