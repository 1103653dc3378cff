// The one list of built-in formats: a new format is a file in formats/ and a line here.
#include "ingest/format.hpp"
#include "ingest/formats/apache.hpp"
#include "ingest/formats/es_bulk.hpp"
#include "ingest/formats/gelf.hpp"
#include "ingest/formats/json.hpp"
#include "ingest/formats/logfmt.hpp"
#include "ingest/formats/loki.hpp"
#include "ingest/formats/ndjson.hpp"
#include "ingest/formats/otlp.hpp"
#include "ingest/formats/plain.hpp"
#include "ingest/formats/splunk_hec.hpp"
#include "ingest/formats/syslog.hpp"

namespace logpipe::ingest {

void register_builtin_formats(FormatRegistry& registry) {
  registry.add(json_format());
  registry.add(ndjson_format());
  registry.add(logs_envelope_format());
  registry.add(gelf_format());
  registry.add(es_bulk_format());
  registry.add(splunk_hec_format());
  registry.add(splunk_hec_raw_format());
  registry.add(loki_format());
  registry.add(otlp_format());
  // Line formats (format=auto picks among them per line by their sniff_line scores).
  registry.add(syslog_format());
  registry.add(apache_format());
  registry.add(logfmt_format());
  registry.add(plain_format());
}

}  // namespace logpipe::ingest
