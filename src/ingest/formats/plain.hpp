// "plain": any line of text as a record — the fallback of format=auto.
#pragma once

#include "ingest/format.hpp"

namespace logpipe::ingest {

Format plain_format();

}  // namespace logpipe::ingest
