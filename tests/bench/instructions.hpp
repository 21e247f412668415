// `--reps=N` (scripts/callgrind-compare): instead of timing, each row runs its gradient N times
// between callgrind's zero and dump requests, so every row gets its own dump holding only those
// N gradients (the data, the gradient check and the warm-up call stay outside). Outside
// callgrind, or without valgrind's header, the requests do nothing.
#pragma once

#include <string>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name) (void)(name)
#endif

namespace bench {

inline long reps = 0;  // > 0: count instructions instead of timing

// Two dumps per row: "NAME [empty]" (the requests and an empty loop, to subtract) and "NAME"
// (the N gradients): scripts/callgrind-compare reports (NAME − NAME [empty]) / N.
template <class F>
void count_instructions(const std::string& name, F&& f) {
  f();  // warm: buffers grown, adjoints sized
  const std::string empty = name + " [empty]";
  CALLGRIND_START_INSTRUMENTATION;
  for (int pass = 0; pass < 2; ++pass) {
    const long n = pass == 0 ? 0 : reps;
    CALLGRIND_ZERO_STATS;
    for (long i = 0; i < n; ++i) f();
    CALLGRIND_DUMP_STATS_AT(pass == 0 ? empty.c_str() : name.c_str());
  }
  CALLGRIND_STOP_INSTRUMENTATION;
}

}  // namespace bench
