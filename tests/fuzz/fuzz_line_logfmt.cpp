// The logfmt line format under libFuzzer (line_formats_fuzz.hpp).
#define LOGPIPE_FUZZ_FORMAT "logfmt"
#include "line_formats_fuzz.hpp"
