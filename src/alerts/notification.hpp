// What an alert notification says and where it goes: plain data, filled by the evaluator and
// delivered by alerts::Notifier (notifier.hpp). No behaviour here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/time.hpp"
#include "model/record.hpp"

namespace logpipe::alerts {

using LabelPairs = std::vector<std::pair<std::string, std::string>>;

// One change of an alert's state: it fired, or it resolved. The event's id is the same for both
// (the pair is what a receiver deduplicates on: X-Logpipe-Event-Id is "<event_id>-<transition>").
struct Notification {
  enum class Transition { firing, resolved };

  std::int64_t event_id = 0;
  std::int64_t rule_id = 0;
  std::string rule_name;
  std::string kind;  // threshold | absence | match
  model::TenantId tenant = model::kDefaultTenant;
  std::string tenant_name;
  Transition transition = Transition::firing;
  LabelPairs group_labels;  // the group this event is about, e.g. service=api
  LabelPairs labels;        // the rule's static labels, e.g. severity=critical
  std::int64_t count = 0;   // records that matched in the window (absence: 0)
  std::int64_t threshold = 0;
  std::int64_t window_seconds = 0;
  core::Micros fired_at = 0;
  std::optional<core::Micros> resolved_at;  // set for Transition::resolved
  std::string summary;                      // one line for people
  std::string filter_query;                 // the rule's filter, e.g. level=ERROR&service=api
  std::optional<std::string> sample_json;   // one matching record as JSON (match rules)
  std::string logs_url;                     // a link to the matching logs; may be empty
};

struct Target {
  enum class Type { webhook, slack, alertmanager };

  Type type = Type::webhook;
  // webhook, slack: the URL posted to; alertmanager: its base URL (…/api/v2/alerts is added).
  // http:// or https://; user:password@ becomes Basic authentication.
  std::string url;
  std::string secret;  // webhook: the HMAC-SHA256 key of X-Logpipe-Signature; "": unsigned
};

// One try to deliver one notification to one target, reported as it ends (the delivery log).
struct DeliveryAttempt {
  std::int64_t event_id = 0;
  Notification::Transition transition = Notification::Transition::firing;
  Target::Type target_type = Target::Type::webhook;
  std::string target_url;  // without credentials (redacted_url)
  int attempt = 0;         // 1, 2, …; 0: never sent (the queue was full)
  bool ok = false;         // the receiver answered 2xx
  unsigned status = 0;     // the HTTP status; 0: no answer (network error, timeout)
  std::string error;       // why not ok; "" when ok
  core::Micros at = 0;     // when the attempt started
  bool final = true;       // false: another attempt follows
};

const char* to_string(Notification::Transition transition);  // firing | resolved
const char* to_string(Target::Type type);                    // webhook | slack | alertmanager

}  // namespace logpipe::alerts
