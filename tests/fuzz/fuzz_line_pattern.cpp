// The pattern line format under libFuzzer (line_formats_fuzz.hpp).
#define LOGPIPE_FUZZ_FORMAT "pattern"
#include "line_formats_fuzz.hpp"
