// The payload of one stream entry: all records of one request in a compact, versioned binary
// form. Decoding never trusts its input: a truncated or corrupt payload is an error value.
//
//   magic 'L' 'P' | version (1) | flags (bit 0: body is LZ4-compressed)
//   [if compressed: varint uncompressed size] body
//   body = varint received_at | varint tenant_id | str source_format | varint count | record*
//   record = zigzag-varint (ts - received_at) | u8 level | str message | str device_id
//            | str service | str app | str host | str attrs_json
//   str = varint length | bytes
//
// A stream entry holds the batch of one request, or the batches of several concurrent requests
// that serve coalesced into one XADD: magic 'L' 'M' | version | flags | [varint size] body with
// body = varint count | str(batch)*, LZ4-compressed when the batches inside are not.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "model/record.hpp"

namespace logpipe::queue {

struct CodecOptions {
  // Bodies at least this big are LZ4-compressed: small ones don't shrink enough to pay.
  std::size_t compress_min_bytes = 512;
};

std::string encode_batch(const model::Batch& batch, const CodecOptions& options = {});

core::Result<model::Batch> decode_batch(std::string_view payload);

// The payload of one stream entry holding these encode_batch() outputs (one is passed through).
std::string encode_entry(std::span<const std::string> batches, const CodecOptions& options = {});

// The batches of a stream entry, either form.
core::Result<std::vector<model::Batch>> decode_entry(std::string_view payload);

}  // namespace logpipe::queue
