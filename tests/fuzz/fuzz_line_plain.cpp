// The plain line format under libFuzzer (line_formats_fuzz.hpp).
#define LOGPIPE_FUZZ_FORMAT "plain"
#include "line_formats_fuzz.hpp"
