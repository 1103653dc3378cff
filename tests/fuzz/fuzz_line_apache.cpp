// The apache line format under libFuzzer (line_formats_fuzz.hpp).
#define LOGPIPE_FUZZ_FORMAT "apache"
#include "line_formats_fuzz.hpp"
