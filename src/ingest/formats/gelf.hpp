// "gelf": Graylog Extended Log Format 1.1 messages, as Graylog's GELF HTTP input takes them (one
// JSON object per request, or several separated by newlines), and the payloads of GELF UDP
// datagrams once reassembled and decompressed (see gelf_chunks.hpp).
//
//   host → host, short_message → message, full_message → attrs.full_message,
//   timestamp (seconds since the epoch, with a fraction) → ts, level (syslog severity 0-7;
//   GELF's default is 1, ALERT) → level, _service/_app/_application/_device_id → the fields,
//   every other _field → attrs without its underscore, facility/line/file → attrs.
#pragma once

#include "ingest/format.hpp"

namespace logpipe::ingest {

Format gelf_format();

core::Result<Decoded> decode_gelf(std::string_view body, const DecodeOptions& options);

}  // namespace logpipe::ingest
