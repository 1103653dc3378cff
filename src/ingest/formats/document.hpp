// Shipper documents: the JSON objects that Elasticsearch outputs (the ES clients, Fluent Bit,
// Vector, Filebeat, Logstash, pino-elasticsearch) and Splunk HEC events carry, in ECS or their own
// flavour, → one canonical record. Shared by the es_bulk and splunk_hec formats (README
// "Elasticsearch and Splunk HEC" lists the mapping).
//
// Unlike logpipe's own JSON body, these documents were written for another store, so mapping is
// lenient where a strict answer would lose logs that the sender considers fine: an unknown level
// keeps INFO (and its value in attrs), a non-string message is stored as its JSON text. Only what
// cannot be stored is refused: no message, an unreadable timestamp, an oversized field.
#pragma once

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>

#include "ingest/format.hpp"

namespace logpipe::ingest::document {

// Builds a record's attrs: a compact JSON object, member by member, in the order added.
class Attrs {
 public:
  void add(std::string_view key, simdjson::dom::element value);
  void add_string(std::string_view key, std::string_view value);
  // `value` minus its member `skip` (empty: none), whose value went to the record; nothing when
  // no member is left.
  void add_rest(std::string_view key, simdjson::dom::object value, std::string_view skip);
  // Every member of `object` (HEC's "fields").
  void add_members(simdjson::dom::object object);
  std::string finish();  // the object; the builder is empty again

 private:
  void open_member(std::string_view key);
  std::string out_ = "{";
};

// Maps `doc` into `out` (whose ts already holds the default) and the members it does not map into
// `attrs`. Returns the reason when the document cannot be stored (the record is then unusable).
// `message_optional`: a document without a (non-empty) message leaves out.message empty for the
// caller to fill, instead of failing.
std::optional<std::string> map(simdjson::dom::object doc, const DecodeOptions& options,
                               model::Record& out, Attrs& attrs, bool message_optional = false);

// RFC 3339 text or an epoch number (seconds … nanoseconds, by magnitude); the reason otherwise.
std::optional<std::string> timestamp(simdjson::dom::element value, core::Micros& out);

// Syslog severities 0-7, and pino's/bunyan's 10 (trace) … 60 (fatal), by decade.
std::optional<model::Level> level_from_number(std::int64_t n);

}  // namespace logpipe::ingest::document
