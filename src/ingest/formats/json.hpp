// The JSON formats: "json" (one object, or an array of objects) and "logs_envelope" (the
// batch body {"logs":[…]} with 1..max_records objects).
#pragma once

#include "ingest/format.hpp"

namespace logpipe::ingest {

Format json_format();
Format logs_envelope_format();

core::Result<Decoded> decode_json(std::string_view body, const DecodeOptions& options);
core::Result<Decoded> decode_logs_envelope(std::string_view body, const DecodeOptions& options);

// The same, all or nothing (every record, or the first problem as an error).
core::Result<std::vector<model::Record>> parse_json(std::string_view body,
                                                    const DecodeOptions& options);
core::Result<std::vector<model::Record>> parse_logs_envelope(std::string_view body,
                                                             const DecodeOptions& options);

}  // namespace logpipe::ingest
