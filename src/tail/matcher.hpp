// The live tail's filter: a query::LogFilter (the one filter model, as GET /api/v1/logs parses it)
// compiled to a test of one record in memory, meaning what query::where_clause's SQL means, so
// that a tail and a search with the same filters select the same records:
// - device_id, service, app, host: equal (a record without one has NULL there: never equal);
// - levels: any of them (min_level is folded in by the parser);
// - q terms: each appears in the message, case-insensitively as ILIKE '%term%' compares: both
//   sides lower-cased character by character under the database's LC_CTYPE (CaseFolding);
// - attrs path = value: the attribute's text as `attrs #>> path` gives it (tail/json_path.hpp).
// from/to do not apply to a tail (query::parse_log_filter refuses them) and are ignored here.
// Public and small on purpose: the alert evaluator tests records with it too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/record.hpp"
#include "query/logs.hpp"

namespace logpipe::tail {

// How ILIKE folds case: PostgreSQL lower-cases both sides, per character, by the database's
// LC_CTYPE. unicode: a UTF-8 ctype (C.UTF-8, en_US.UTF-8: glibc's towlower, which PostgreSQL
// calls too); ascii: LC_CTYPE C or POSIX (A-Z only).
enum class CaseFolding { unicode, ascii };
// The folding of a database whose `SHOW lc_ctype` is `lc_ctype`.
CaseFolding case_folding_of(std::string_view lc_ctype);
// `text` lower-cased as lower() does under that folding (invalid UTF-8 bytes stay as they are).
std::string fold_case(std::string_view text, CaseFolding folding);

// One record under test by several matchers: the folded message is computed once for all.
class Candidate {
 public:
  Candidate(model::TenantId tenant, const model::Record& record)
      : tenant_(tenant), record_(record) {}
  model::TenantId tenant() const { return tenant_; }
  const model::Record& record() const { return record_; }
  const std::string& folded_message(CaseFolding folding);

 private:
  model::TenantId tenant_;
  const model::Record& record_;
  std::optional<std::string> folded_[2];
};

class Matcher {
 public:
  static Matcher compile(const query::LogFilter& filter,
                         CaseFolding folding = CaseFolding::unicode);

  bool matches(model::TenantId tenant, const model::Record& record) const;
  bool matches(Candidate& candidate) const;
  model::TenantId tenant() const { return tenant_; }

 private:
  Matcher() = default;

  model::TenantId tenant_ = model::kDefaultTenant;
  CaseFolding folding_ = CaseFolding::unicode;
  std::optional<std::string> device_id_, service_, app_, host_;
  std::uint32_t levels_ = 0;        // bit per model::Level; 0: any
  std::vector<std::string> terms_;  // folded
  std::vector<std::pair<std::vector<std::string>, std::string>> attrs_;
};

}  // namespace logpipe::tail
