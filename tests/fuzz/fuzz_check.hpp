#pragma once
// Shared by the libFuzzer harnesses: a failed oracle prints what and where, then aborts (a libFuzzer crash,
// saved as an artifact to reproduce with `./fuzz_<name> <artifact>`).

#include <cstdio>
#include <cstdlib>

#define SELFLEARN_FUZZ_CHECK(condition, ...)                                                     \
    do {                                                                                         \
        if (!(condition)) {                                                                      \
            std::fprintf(stderr, "%s:%d: oracle failed: %s\n", __FILE__, __LINE__, #condition); \
            std::fprintf(stderr, __VA_ARGS__);                                                   \
            std::fprintf(stderr, "\n");                                                          \
            std::abort();                                                                        \
        }                                                                                        \
    } while (false)
