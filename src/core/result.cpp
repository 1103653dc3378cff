#include "core/result.hpp"

namespace logpipe::core {
namespace {

struct ErrcInfo {
  const char* name;
  unsigned http_status;
};

ErrcInfo info(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return {"invalid_argument", 400};
    case Errc::malformed:
      return {"malformed", 400};
    case Errc::invalid_field:
      return {"invalid_field", 422};
    case Errc::too_large:
      return {"too_large", 413};
    case Errc::unsupported:
      return {"unsupported_media_type", 415};
    case Errc::not_found:
      return {"not_found", 404};
    case Errc::conflict:
      return {"conflict", 409};
    case Errc::unavailable:
      return {"unavailable", 503};
    case Errc::overloaded:
      return {"overloaded", 429};
    case Errc::rate_limited:
      return {"rate_limited", 429};
    case Errc::unauthenticated:
      return {"unauthenticated", 401};
    case Errc::forbidden:
      return {"forbidden", 403};
    case Errc::timeout:
      return {"timeout", 504};
    case Errc::io:
    case Errc::internal:
      break;
  }
  return {"internal", 500};
}

}  // namespace

const char* to_string(Errc code) {
  return info(code).name;
}

unsigned http_status(Errc code) {
  return info(code).http_status;
}

}  // namespace logpipe::core
