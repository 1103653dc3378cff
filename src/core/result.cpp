#include "core/result.hpp"

namespace logpipe::core {

const char* to_string(Errc code) {
  switch (code) {
    case Errc::invalid_argument:
      return "invalid_argument";
    case Errc::malformed:
      return "malformed";
    case Errc::invalid_field:
      return "invalid_field";
    case Errc::too_large:
      return "too_large";
    case Errc::unsupported:
      return "unsupported";
    case Errc::not_found:
      return "not_found";
    case Errc::unavailable:
      return "unavailable";
    case Errc::overloaded:
      return "overloaded";
    case Errc::timeout:
      return "timeout";
    case Errc::io:
      return "io";
    case Errc::internal:
      return "internal";
  }
  return "internal";
}

}  // namespace logpipe::core
