// fuzz_check.hpp — invariant checks inside fuzz targets.
//
// assert() vanishes under NDEBUG (RelWithDebInfo defines it), and a fuzzer must report a broken
// documented promise the same way as a crash: abort() makes libFuzzer save the input and stop.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                              \
    do {                                                                                                   \
        if (!(condition)) {                                                                                \
            std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #condition);    \
            std::abort();                                                                                  \
        }                                                                                                  \
    } while (0)
