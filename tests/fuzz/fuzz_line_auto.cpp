// The auto line format under libFuzzer (line_formats_fuzz.hpp).
#define LOGPIPE_FUZZ_FORMAT "auto"
#include "line_formats_fuzz.hpp"
