// Result type for validation and expected failures: a value or an Error carrying a code and a
// message. Exceptions are kept for programming errors and start-up failures.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace logpipe::core {

enum class Errc {
  invalid_argument,  // bad option or parameter
  malformed,         // input cannot be parsed at all (400)
  invalid_field,     // input parsed but a field is wrong (422)
  too_large,         // over a configured limit (413)
  unsupported,       // unsupported media type or encoding (415)
  not_found,         // (404)
  conflict,          // it exists already (409)
  unavailable,       // a dependency is down or unreachable (503)
  overloaded,        // too much queued; retry later (429)
  rate_limited,      // the client's rate or quota is used up (429)
  unauthenticated,   // no key, or one that is unknown, revoked or expired (401)
  forbidden,         // the key lacks the scope, or names another tenant (403)
  timeout,           // a dependency did not confirm in time; the outcome is unknown (504)
  io,
  internal,
};

// The one table of error codes: the code string used in API error bodies and metric labels
// ("malformed", "unsupported_media_type", …) and the HTTP status a request failing with it gets.
const char* to_string(Errc code);
unsigned http_status(Errc code);

// One problem inside a request, e.g. record 3's field "level" (index -1: not tied to a record).
struct ErrorDetail {
  long index = -1;
  std::string field;
  std::string message;
};

struct Error {
  Error() = default;
  Error(Errc c, std::string m, std::vector<ErrorDetail> d = {})
      : code(c), message(std::move(m)), details(std::move(d)) {}

  Errc code = Errc::internal;
  std::string message;
  std::vector<ErrorDetail> details;
  // overloaded, rate_limited, unavailable: how long the client should wait, in seconds (the
  // Retry-After header); 0: the default of 1.
  unsigned retry_after_seconds = 0;
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(failed_);
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Error make_error(Errc code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace logpipe::core
