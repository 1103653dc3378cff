// libFuzzer target: the es_bulk decoder (Elasticsearch _bulk bodies) on arbitrary bytes. It must
// never crash, hang or leak; every item is answered exactly once (stored or with an error), and
// what it stores holds the record invariants the queue and PostgreSQL rely on.
#include <simdjson.h>

#include <cstdint>
#include <string_view>

#include "check.hpp"
#include "ingest/formats/es_bulk.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace logpipe;
  using fuzz::check;
  if (size == 0) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  ingest::DecodeOptions options;
  options.max_records = 64;
  options.max_depth = 16;
  options.max_message_bytes = 1024;
  options.max_name_bytes = 32;
  // The first byte: with or without the path's default index.
  auto request = ingest::decode_es_bulk_request(body, (data[0] & 1) ? "default" : "", options);
  if (!request) return 0;
  check(!request->items.empty());
  check(request->items.size() <= options.max_records);
  std::size_t stored = 0;
  for (const auto& item : request->items) {
    check(item.status == 201 || item.status == 400);
    check(item.status == 201 || (!item.error_type.empty() && !item.error_reason.empty()));
    check(item.action == "index" || item.action == "create" || item.action == "delete" ||
          item.action == "update");
    if (item.status == 201) ++stored;
  }
  check(stored == request->records.size());
  simdjson::dom::parser parser;
  for (const auto& record : request->records) {
    check(!record.message.empty() && record.message.size() <= options.max_message_bytes);
    check(!record.app.empty() && record.app.size() <= options.max_name_bytes);
    check(record.host.size() <= options.max_name_bytes);
    check(record.service.size() <= options.max_name_bytes);
    simdjson::dom::element attrs;
    check(parser.parse(record.attrs_json).get(attrs) == simdjson::SUCCESS && attrs.is_object());
  }
  auto generic = ingest::decode_es_bulk(body, options);
  check(generic.ok());
  return 0;
}
