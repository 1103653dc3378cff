#include "model/principal.hpp"

namespace logpipe::model {

const char* to_string(Scope scope) {
  switch (scope) {
    case Scope::ingest:
      return "ingest";
    case Scope::query:
      return "query";
    case Scope::admin:
      return "admin";
    default:
      return "none";
  }
}

}  // namespace logpipe::model
