// nabla — errors.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace nabla {

/// The exception every nabla function throws for a user mistake (bad shapes, sizes, options,
/// a variable used on the wrong tape...). The message reads "<function>: <what was wrong>".
class Error : public std::runtime_error {
 public:
  /// Builds the message "<function>: <what>".
  Error(std::string_view function, std::string_view what);
};

namespace detail {
/// Throws nabla::Error with the message "<function>: <what>" (the central helper; callers
/// build `what` with fmt::format).
[[noreturn]] void fail(std::string_view function, std::string_view what);

/// Reports a broken internal invariant (a bug in nabla, never a user mistake) on stderr and
/// aborts: what NABLA_ASSERT calls.
[[noreturn]] void assertion_failed(const char* condition, const char* file, int line,
                                   std::string_view message) noexcept;
}  // namespace detail

}  // namespace nabla

// Note [Two error channels]
// A user mistake (bad sizes, options, a stale Var...) throws nabla::Error, always, in every
// build. A broken internal invariant is a bug in nabla: NABLA_ASSERT checks it in debug and
// sanitizer builds (where the tests run) and compiles to nothing in release builds, so the hot
// paths pay nothing. Define NABLA_ENABLE_ASSERTIONS (or NABLA_DISABLE_ASSERTIONS) to choose.
#if !defined(NABLA_ENABLE_ASSERTIONS) && !defined(NABLA_DISABLE_ASSERTIONS) && \
    (!defined(NDEBUG) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__))
#define NABLA_ENABLE_ASSERTIONS
#endif

#if defined(NABLA_ENABLE_ASSERTIONS) && !defined(NABLA_DISABLE_ASSERTIONS)
/// Checks an internal invariant (debug and sanitizer builds; Note [Two error channels]).
#define NABLA_ASSERT(condition, message) \
  ((condition) ? void(0)                 \
               : ::nabla::detail::assertion_failed(#condition, __FILE__, __LINE__, message))
#else
#define NABLA_ASSERT(condition, message) ((void)0)
#endif

/// Forces inlining of the recording and forward-mode fast paths (GCC and Clang). Define
/// NABLA_NO_FORCE_INLINE to leave inlining to the compiler: GCC refuses to force-inline into a
/// function compiled for a narrower target (`__attribute__((target("arch=x86-64")))` in a
/// `-march=haswell` build), and reports that as an error. Sanitizer builds leave inlining to the
/// compiler too: with the expression nodes forced inline, GCC spent over 7 minutes on one test
/// file (forward_test.cpp) under AddressSanitizer; those builds are not for speed.
#if defined(NABLA_NO_FORCE_INLINE) || !defined(__GNUC__) || defined(__SANITIZE_ADDRESS__) || \
    defined(__SANITIZE_THREAD__)
#define NABLA_FORCE_INLINE inline
#define NABLA_FORCE_INLINE_LAMBDA
#else
#define NABLA_FORCE_INLINE [[gnu::always_inline]] inline
/// The same for a lambda, written after its parameter list: `[&]() NABLA_FORCE_INLINE_LAMBDA {`.
#define NABLA_FORCE_INLINE_LAMBDA __attribute__((always_inline))
#endif

namespace nabla::detail {
/// True when NABLA_ASSERT checks its conditions in this build.
#if defined(NABLA_ENABLE_ASSERTIONS) && !defined(NABLA_DISABLE_ASSERTIONS)
inline constexpr bool assertions_enabled = true;
#else
inline constexpr bool assertions_enabled = false;
#endif
}  // namespace nabla::detail
