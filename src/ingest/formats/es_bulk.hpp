// "es_bulk": the body of Elasticsearch's _bulk API, NDJSON pairs of an action line and a document
// line (https://www.elastic.co/guide/en/elasticsearch/reference/8.11/docs-bulk.html), as the ES
// clients, Fluent Bit, Vector, Filebeat, Logstash and pino-elasticsearch send it.
//
//   {"index":{"_index":"shop","_id":"1"}}          index and create store the document that
//   {"@timestamp":"…","message":"…","log":{…}}     follows; the index names the record's app
//   {"delete":{"_index":"shop","_id":"1"}}         delete (no document) and update (one) are
//                                                  answered per item: 400, not supported
//
// The answer is per item, as Elasticsearch's: a bad document (not JSON, no message, a bad
// timestamp) fails alone and the others are stored. A body whose action lines cannot be read
// fails whole (Errc::malformed), as in Elasticsearch.
#pragma once

#include <string>
#include <vector>

#include "ingest/format.hpp"

namespace logpipe::ingest {

struct BulkItem {
  std::string action;      // index, create, delete, update
  std::string index;       // _index, or the request path's index
  std::string id;          // _id when the action gave one
  int status = 201;        // 201 stored (once the intake accepts), or 400
  std::string error_type;  // Elasticsearch's exception name when status is 400
  std::string error_reason;
};

struct BulkRequest {
  std::vector<model::Record> records;  // of the items with status 201, in order
  std::vector<BulkItem> items;         // every action, in order
};

// `default_index`: the {index} of POST /{index}/_bulk, for actions without _index.
core::Result<BulkRequest> decode_es_bulk_request(std::string_view body,
                                                 std::string_view default_index,
                                                 const DecodeOptions& options);

// The generic decode (format registry, fuzzing): the records, and a problem per failed item.
core::Result<Decoded> decode_es_bulk(std::string_view body, const DecodeOptions& options);

// Chosen by name only (the _bulk endpoints): its media type is NDJSON's.
Format es_bulk_format();

}  // namespace logpipe::ingest
