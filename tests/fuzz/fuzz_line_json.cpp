// The json line format under libFuzzer (line_formats_fuzz.hpp).
#define LOGPIPE_FUZZ_FORMAT "json"
#include "line_formats_fuzz.hpp"
