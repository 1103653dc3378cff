#include "ingest/formats/es_bulk.hpp"

#include <fmt/format.h>

#include "ingest/formats/document.hpp"
#include "ingest/formats/json_record.hpp"

namespace logpipe::ingest {
namespace {

using core::Errc;
using simdjson::dom::element;
using simdjson::dom::object;

constexpr const char* kParseError = "mapper_parsing_exception";
constexpr const char* kNotSupported = "illegal_argument_exception";

// Lines of the body, without their CR; blank lines are skipped, as Elasticsearch does.
class Lines {
 public:
  explicit Lines(std::string_view body) : rest_(body) {}
  bool next(std::string_view& line) {
    while (!rest_.empty()) {
      const auto nl = rest_.find('\n');
      line = rest_.substr(0, nl);
      rest_ = nl == std::string_view::npos ? std::string_view() : rest_.substr(nl + 1);
      ++number_;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.find_first_not_of(" \t") != std::string_view::npos) return true;
    }
    return false;
  }
  std::size_t number() const { return number_; }

 private:
  std::string_view rest_;
  std::size_t number_ = 0;
};

core::Error malformed_action(std::size_t line, std::string_view why) {
  return core::make_error(Errc::malformed,
                          fmt::format("Malformed action/metadata line [{}], {}", line, why));
}

// Reads an action line into `item`; an error when it is not {"<action>": {…}}.
core::Status read_action(std::string_view line, std::size_t number, std::string_view default_index,
                         const DecodeOptions& options, BulkItem& item) {
  auto root = json::parse_text(line, options.max_depth);
  if (root.error() || !root.value_unsafe().is_object())
    return malformed_action(number, "expected a JSON object");
  const object action = root.value_unsafe().get_object().value_unsafe();
  if (action.size() != 1)
    return malformed_action(number, "expected one field: create, delete, index or update");
  const auto field = *action.begin();
  if (field.key != "index" && field.key != "create" && field.key != "delete" &&
      field.key != "update")
    return malformed_action(
        number, fmt::format("expected field [create], [delete], [index] or [update] but found "
                            "[{}]",
                            field.key));
  item.action = field.key;
  if (!field.value.is_object())
    return malformed_action(number, fmt::format("[{}] must be an object", field.key));
  const object meta = field.value.get_object().value_unsafe();
  std::string_view text;
  if (meta["_index"].get(text) == simdjson::SUCCESS) {
    item.index = text;
  } else {
    item.index = default_index;
  }
  element id;
  if (meta["_id"].get(id) == simdjson::SUCCESS) {
    item.id = id.is_string() ? std::string(id.get_string().value_unsafe()) : simdjson::minify(id);
  }
  return {};
}

void fail(BulkItem& item, const char* type, std::string reason) {
  item.status = 400;
  item.error_type = type;
  item.error_reason = std::move(reason);
}

// Maps a document line; false (and the item's error) when it cannot be stored.
bool read_document(std::string_view line, const DecodeOptions& options, BulkItem& item,
                   model::Record& record, document::Attrs& attrs) {
  auto root = json::parse_text(line, options.max_depth);
  if (root.error()) {
    fail(item, kParseError,
         fmt::format("failed to parse: {}",
                     json::malformed(root.error(), options.max_depth, "").message));
    return false;
  }
  if (!root.value_unsafe().is_object()) {
    fail(item, kParseError, "failed to parse: the document must be a JSON object");
    return false;
  }
  if (item.index.empty()) {
    fail(item, "action_request_validation_exception", "Validation Failed: 1: index is missing;");
    return false;
  }
  if (item.index.size() > options.max_name_bytes) {
    fail(item, "invalid_index_name_exception",
         fmt::format("Invalid index name [{}], must not be longer than {} bytes",
                     item.index.substr(0, 64), options.max_name_bytes));
    return false;
  }
  record.ts = options.received_at;
  record.app = item.index;
  if (auto why =
          document::map(root.value_unsafe().get_object().value_unsafe(), options, record, attrs)) {
    attrs.finish();  // what it held belonged to this document
    fail(item, kParseError, std::move(*why));
    return false;
  }
  record.attrs_json = attrs.finish();
  return true;
}

}  // namespace

core::Result<BulkRequest> decode_es_bulk_request(std::string_view body,
                                                 std::string_view default_index,
                                                 const DecodeOptions& options) {
  BulkRequest request;
  document::Attrs attrs;
  Lines lines(body);
  std::string_view line;
  while (lines.next(line)) {
    if (request.items.size() == options.max_records) {
      return core::make_error(
          Errc::too_large, fmt::format("more than {} actions in one request", options.max_records));
    }
    BulkItem& item = request.items.emplace_back();
    if (auto read = read_action(line, lines.number(), default_index, options, item); !read)
      return read.error();
    if (item.action == "delete") {
      fail(item, kNotSupported, "logpipe stores logs: the delete action is not supported");
      continue;
    }
    if (!lines.next(line)) {
      return core::make_error(
          Errc::malformed,
          fmt::format("Validation Failed: 1: the [{}] action on line [{}] has no document line;",
                      item.action, lines.number()));
    }
    if (item.action == "update") {
      fail(item, kNotSupported, "logpipe stores logs: the update action is not supported");
      continue;
    }
    model::Record& record = request.records.emplace_back();
    if (!read_document(line, options, item, record, attrs)) request.records.pop_back();
  }
  if (request.items.empty())
    return core::make_error(Errc::malformed, "Validation Failed: 1: no requests added;");
  return request;
}

core::Result<Decoded> decode_es_bulk(std::string_view body, const DecodeOptions& options) {
  auto request = decode_es_bulk_request(body, {}, options);
  if (!request) return request.error();
  Decoded decoded;
  decoded.records = std::move(request->records);
  json::Problems problems(decoded);
  for (std::size_t i = 0; i < request->items.size(); ++i) {
    const BulkItem& item = request->items[i];
    if (item.status < 300) continue;
    ++decoded.rejected_items;
    problems.add(static_cast<long>(i), "",
                 fmt::format("{}: {}", item.error_type, item.error_reason));
  }
  return decoded;
}

Format es_bulk_format() {
  Format f;
  f.name = "es_bulk";
  f.decode = decode_es_bulk;
  return f;
}

}  // namespace logpipe::ingest
