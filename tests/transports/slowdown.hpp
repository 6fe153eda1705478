// How much slower this build runs than a plain one: transport tests scale their counts and time limits
// by it (ThreadSanitizer slows threaded code down about tenfold, AddressSanitizer about twice).
#pragma once

namespace transport_test {

#if defined(__SANITIZE_THREAD__)
inline constexpr int slowdown = 16;
#elif defined(__SANITIZE_ADDRESS__)
inline constexpr int slowdown = 2;
#else
inline constexpr int slowdown = 1;
#endif

}  // namespace transport_test
