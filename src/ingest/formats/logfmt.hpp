// "logfmt": key=value pairs as Go's logfmt loggers write them (go-kit/log, logrus' text
// formatter, log15, Prometheus, Grafana, Loki, Heroku's router).
#pragma once

#include "ingest/format.hpp"

namespace logpipe::ingest {

Format logfmt_format();

}  // namespace logpipe::ingest
