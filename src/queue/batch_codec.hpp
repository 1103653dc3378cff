// The payload of one stream entry: all records of one request in a compact, versioned binary
// form. Decoding never trusts its input: a truncated or corrupt payload is an error value.
//
//   magic 'L' 'P' | version (1) | flags (bit 0: body is LZ4-compressed)
//   [if compressed: varint uncompressed size] body
//   body = varint received_at | varint tenant_id | str source_format | varint count | record*
//   record = zigzag-varint (ts - received_at) | u8 level | str message | str device_id
//            | str service | str app | str host | str attrs_json
//   str = varint length | bytes
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"
#include "ingest/record.hpp"

namespace logpipe::queue {

struct CodecOptions {
  // Bodies at least this big are LZ4-compressed: small ones don't shrink enough to pay.
  std::size_t compress_min_bytes = 512;
};

std::string encode_batch(const ingest::Batch& batch, const CodecOptions& options = {});

core::Result<ingest::Batch> decode_batch(std::string_view payload);

}  // namespace logpipe::queue
