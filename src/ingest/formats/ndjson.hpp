// "ndjson": newline-delimited JSON, one object per line; blank lines are skipped; CRLF accepted.
// The item index in problems is the index among non-blank lines; a line that is not JSON makes
// the whole body malformed, naming its line number.
#pragma once

#include "ingest/format.hpp"

namespace logpipe::ingest {

Format ndjson_format();

core::Result<Decoded> decode_ndjson(std::string_view body, const DecodeOptions& options);
core::Result<std::vector<model::Record>> parse_ndjson(std::string_view body,
                                                      const DecodeOptions& options);

}  // namespace logpipe::ingest
