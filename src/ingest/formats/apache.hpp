// "apache": Apache and nginx access logs, one request per line — Common Log Format, Combined,
// nginx's default `combined`, and Apache's `vhost_combined` (the virtual host first).
#pragma once

#include "ingest/format.hpp"

namespace logpipe::ingest {

Format apache_format();

}  // namespace logpipe::ingest
