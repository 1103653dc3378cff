#include "ingest/formats/attrs.hpp"

#include <simdjson.h>

#include <unordered_map>

#include "core/json_writer.hpp"

namespace logpipe::ingest::attrs {

std::string object(const std::vector<Member>& members) {
  if (members.empty()) return "{}";
  std::string out = "{";
  const auto append = [&out](const Member& m) {
    if (out.size() > 1) out.push_back(',');
    core::append_json_string(out, m.key);
    out.push_back(':');
    out += m.json;
  };
  // A handful of members is the rule: compare pairwise. Many (a hostile body): a hash of the
  // last position of each key, so the cost stays linear.
  constexpr std::size_t kPairwise = 32;
  if (members.size() <= kPairwise) {
    for (std::size_t i = 0; i < members.size(); ++i) {
      bool replaced = false;
      for (std::size_t j = i + 1; j < members.size() && !replaced; ++j)
        replaced = members[j].key == members[i].key;
      if (!replaced) append(members[i]);
    }
  } else {
    std::unordered_map<std::string_view, std::size_t> last;
    last.reserve(members.size());
    for (std::size_t i = 0; i < members.size(); ++i)
      last[members[i].key] = i;
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (last[members[i].key] == i) append(members[i]);
    }
  }
  out.push_back('}');
  return out;
}

bool valid_utf8(std::string_view text) {
  return simdjson::validate_utf8(text.data(), text.size());
}

}  // namespace logpipe::ingest::attrs
