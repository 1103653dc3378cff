#include "tail/filter_message.hpp"

#include <simdjson.h>

#include <string>

namespace logpipe::tail {
namespace {

constexpr std::size_t kMaxMessageBytes = 16 << 10;  // a filter is a few hundred bytes
constexpr std::size_t kMaxParams = 64;

core::Error malformed(std::string message) {
  return core::make_error(core::Errc::malformed, std::move(message));
}

// A scalar's text as the query string would carry it; nullopt for objects, arrays and null.
std::optional<std::string> scalar_text(simdjson::dom::element value) {
  switch (value.type()) {
    case simdjson::dom::element_type::STRING: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      return std::string(text);
    }
    case simdjson::dom::element_type::INT64:
    case simdjson::dom::element_type::UINT64:
    case simdjson::dom::element_type::DOUBLE:
    case simdjson::dom::element_type::BOOL:
      return simdjson::minify(value);
    default:
      return std::nullopt;
  }
}

}  // namespace

core::Result<query::LogFilter> parse_filter_message(std::string_view text, model::TenantId tenant,
                                                    core::Micros now) {
  if (text.size() > kMaxMessageBytes)
    return malformed("a message is at most " + std::to_string(kMaxMessageBytes) + " bytes");
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(text.data(), text.size()).get(root) != simdjson::SUCCESS)
    return malformed(R"(not JSON: send {"filter":{"service":"api",…}})");
  simdjson::dom::object message;
  if (root.get_object().get(message) != simdjson::SUCCESS)
    return malformed(R"(not a JSON object: send {"filter":{…}})");
  simdjson::dom::object filter;
  bool found = false;
  for (auto [key, value] : message) {
    if (key != "filter")
      return malformed("unknown member \"" + std::string(key) + R"(": send {"filter":{…}})");
    if (value.get_object().get(filter) != simdjson::SUCCESS)
      return malformed("filter must be an object of filters (service, level, q, attrs.<key>, …)");
    found = true;
  }
  if (!found) return malformed(R"(no filter: send {"filter":{…}})");
  query::Params params;
  for (auto [key, value] : filter) {
    const std::string name(key);
    const auto not_scalar = [&name] {
      return query::invalid_param(name,
                                  "must be a string, a number, a boolean or an array of them");
    };
    simdjson::dom::array items;
    if (value.get_array().get(items) == simdjson::SUCCESS) {
      for (auto item : items) {
        auto item_text = scalar_text(item);
        if (!item_text) return not_scalar();
        params.emplace_back(name, std::move(*item_text));
      }
    } else {
      auto item_text = scalar_text(value);
      if (!item_text) return not_scalar();
      params.emplace_back(name, std::move(*item_text));
    }
    if (params.size() > kMaxParams)
      return malformed("a filter has at most " + std::to_string(kMaxParams) + " values");
  }
  return query::parse_log_filter(params, tenant, now);
}

}  // namespace logpipe::tail
