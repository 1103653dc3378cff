// What PostgreSQL's `attrs #>> '{a,b}'` gives for a record's attrs, without PostgreSQL: the value
// at a path of a JSON text, as text. The live tail's matcher compares it with a filter's value,
// as the search's SQL does (query::where_clause), so both select the same records.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace logpipe::tail {

// The #>> of `path` in `json`: a string unquoted and unescaped (\u0000 as U+FFFD, as the store
// writes it); a number as jsonb prints it (numeric: 1e2 → 100, 1.50 stays 1.50, -0 → 0); true,
// false; an object or array as jsonb prints it ({"a": 1, "b": [1, 2]}: keys ordered by length,
// then bytes; a repeated key's last value). nullopt where #>> gives NULL: no such key, an array
// index out of range or not a number, a path through a scalar, a JSON null, malformed JSON.
std::optional<std::string> json_path_text(std::string_view json,
                                          const std::vector<std::string>& path);

// A JSON number's text as PostgreSQL's numeric prints it; nullopt when it is not a JSON number.
std::optional<std::string> numeric_text(std::string_view number);

}  // namespace logpipe::tail
